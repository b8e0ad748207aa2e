import { describe, expect, it } from 'vitest';

import { suggestionFor, unknownOption, UsageError, usageErrorText } from '../../src/cli/usage-error.js';

const KNOWN = ['--count', '-n', '--ready', '--ready-timeout', '--cgroup', '--help', '-h'];

describe('usage errors', () => {
  it('suggest the closest option: a typo, a case slip, a cut-off name', () => {
    expect(suggestionFor('--cuont', KNOWN)).toBe(' (did you mean --count?)');
    expect(suggestionFor('--READY', KNOWN)).toBe(' (did you mean --ready?)');
    expect(suggestionFor('--ready-t', KNOWN)).toBe(' (did you mean --ready-timeout?)');
  });

  it('guess nothing for names far from every option, or a single letter', () => {
    expect(suggestionFor('--frobnicate', KNOWN)).toBe('');
    expect(suggestionFor('-x', KNOWN)).toBe('');
    // "--re" starts both --ready and --ready-timeout: ambiguous, and too far from either.
    expect(suggestionFor('--r', KNOWN)).toBe('');
  });

  it('are UsageErrors, printed as one line plus a pointer to --help', () => {
    const error = unknownOption('--helo', KNOWN);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe('unknown option --helo (did you mean --help?)');
    expect(usageErrorText('proclaunch run', error.message)).toBe("proclaunch run: unknown option --helo (did you mean --help?)\nTry 'proclaunch run --help'.\n");
  });
});
