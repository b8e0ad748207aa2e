// `proclaunch bench [--quick] [--json] [--scenario NAME]...`: runs the benchmarks and
// prints a table (or JSON). Also runnable on its own: `node dist/cli/bench-command.js`.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { CleanupRegistry, installEmergencyCleanup } from '../bench/cleanup.js';
import { formatReport } from '../bench/format-table.js';
import { createProgress } from '../bench/progress.js';
import { resolveScenarioNames, runBench, SCENARIOS } from '../bench/run-bench.js';
import { titleOf } from '../bench/scenario.js';
import { reportProblems } from '../bench/validate-report.js';
import { unknownOption, USAGE_EXIT, usageErrorText } from './usage-error.js';

export interface BenchCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

const USAGE = `usage: proclaunch bench [--quick] [--json] [--scenario NAME]... [--no-progress]

Benchmarks NativeProcLauncher against child_process.spawn, execa, tinyexec and a C
limit program, in interleaved rounds on this machine, and prints medians with ratios
to child_process (to systemd-run for the systemd scenario, to srun for slurm).

  --quick          small sizes, for a smoke check (every scenario still runs)
  --json           print the report as JSON on stdout
  --scenario NAME  run only this scenario (repeatable, or a comma list); by name or number:
${SCENARIOS.map((s) => `                     ${s.number} ${s.name.padEnd(15)}${titleOf(s, false)}`).join('\n')}
  --no-progress    no progress bar (it is drawn on stderr, only on a terminal)

Exit status: 0 when every scenario produced its figures or says why it was skipped,
1 when a scenario failed, 2 on a usage error. Targets are reported, not enforced.
`;

const OPTIONS = {
  quick: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  scenario: { type: 'string', multiple: true, default: [] as string[] },
  'no-progress': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];
const OPTION_NAMES = [...Object.keys(OPTIONS).map((name) => `--${name}`), '-h'];
const COMMAND = 'proclaunch bench';

export async function runBenchCommand(argv: string[], io: BenchCommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    io.stderr.write(usageErrorText(COMMAND, parseErrorMessage(error as Error & { code?: string })));
    return USAGE_EXIT;
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const scenarios = resolveScenarioNames(values.scenario);
  if (typeof scenarios === 'string') {
    io.stderr.write(usageErrorText(COMMAND, scenarios));
    return USAGE_EXIT;
  }

  const registry = new CleanupRegistry();
  const uninstall = installEmergencyCleanup(registry);
  const progress = createProgress(io.stderr, io.stderr.isTTY === true && !values['no-progress']);
  try {
    const report = await runBench({ quick: values.quick, scenarios, progress, registry });
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    const problems = reportProblems(report);
    for (const problem of problems) io.stderr.write(`proclaunch bench: ${problem}\n`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    registry.runAll(); // normally a no-op: every scenario cleans up after itself
    uninstall();
  }
}

/** node:util's parse errors, as one line in our words (its own run to two sentences of advice). */
function parseErrorMessage(error: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return unknownOption(quoted, OPTION_NAMES).message;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(quoted)} (bench takes options only)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(error.message)) return `${quoted.split(' ')[0]} needs a value`;
      if (/does not take an argument/.test(error.message)) return `${quoted} takes no value`;
      return error.message.split('. ')[0] ?? error.message;
    default:
      return error.message;
  }
}

/** The same, under the name the `proclaunch` dispatcher loads command modules by. */
export function main(args: string[]): Promise<number> {
  return runBenchCommand(args);
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMainModule()) process.exitCode = await runBenchCommand(process.argv.slice(2));
