import { describe, expect, it } from 'vitest';

import { assertLinux } from '../../src/common/platform.js';

describe('platform check', () => {
  it('accepts Linux and names the platform otherwise', () => {
    expect(() => assertLinux('linux')).not.toThrow();
    expect(() => assertLinux('darwin')).toThrow(/supports Linux only \(this is darwin\)/);
    expect(() => assertLinux('win32')).toThrow(/Linux only/);
  });
});
