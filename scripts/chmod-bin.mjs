// postbuild:ts: tsc writes files without the execute bit, and the `proclaunch` bin
// must be executable wherever npm links it (npx in a checkout links dist/ directly).
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from './addon-files.mjs';

const { bin } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
for (const file of Object.values(bin)) chmodSync(join(packageRoot, file), 0o755);
