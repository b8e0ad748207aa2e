#!/usr/bin/env node
// `proclaunch <command> …`: a dispatcher. Each command lives in its own module, loaded
// only when used; add one by adding a line to COMMANDS.
import { readFileSync } from 'node:fs';

import { suggestionFor, USAGE_EXIT, usageErrorText } from './usage-error.js';

interface CommandModule {
  /** Runs the command with the arguments after its name; resolves with the exit status. */
  main(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: { summary: 'start COUNT copies of a program under a ProcManager and watch them', load: () => import('./run-command.js') },
  bench: { summary: 'benchmark against child_process, execa, tinyexec and a C limit', load: () => import('./bench-command.js') },
};

const TOP_OPTIONS = ['--help', '-h', '--version', '-V'];

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`);
  return [
    'Usage: proclaunch <command> [options]',
    '       proclaunch --version',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'proclaunch <command> --help' for a command's options.",
  ].join('\n');
}

/** The version in the package.json this file was installed with (dist/cli/ or src/cli/ -> ../../). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '-V' || name === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined) {
    process.stderr.write(`${usage()}\n`);
    return USAGE_EXIT;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    const what = name.startsWith('-') ? `unknown option ${name}${suggestionFor(name, TOP_OPTIONS)}` : `unknown command ${JSON.stringify(name)}${suggestionFor(name, Object.keys(COMMANDS))}`;
    process.stderr.write(usageErrorText('proclaunch', what));
    return USAGE_EXIT;
  }
  return (await command.load()).main(rest);
}

dispatch(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    // Expected failures are reported by the commands themselves; this is a bug: keep the stack.
    process.stderr.write(`proclaunch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
