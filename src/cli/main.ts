#!/usr/bin/env node
// `proclaunch <command> …`: a dispatcher. Each command lives in its own module, loaded
// only when used; add one by adding a line to COMMANDS.

interface CommandModule {
  /** Runs the command with the arguments after its name; resolves with the exit status. */
  main(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: { summary: 'start COUNT copies of a program under a ProcManager and watch them', load: () => import('./run-command.js') },
  bench: { summary: 'benchmark against child_process, execa, tinyexec and a C limit', load: () => import('./bench-command.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`);
  return ['Usage: proclaunch <command> [options]', '', 'Commands:', ...lines, '', "Run 'proclaunch <command> --help' for a command's options."].join('\n');
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`proclaunch: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  return (await command.load()).main(rest);
}

dispatch(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`proclaunch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
