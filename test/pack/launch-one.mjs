// Run from a project that installed the proclaunch tarball: launches one proc through
// the installed package and checks what comes back. Exit status 0 only if all is right.
import { NativeProcLauncher } from 'proclaunch';

const launcher = new NativeProcLauncher();
try {
  const proc = await launcher.launch('pack-check', {
    command: { program: '/bin/sh', args: ['-c', 'echo "hello from $HYPERACTOR_PROCESS_NAME"; exit 7'] },
    wantStdio: true,
  });
  if (proc.stdio.kind !== 'captured') throw new Error(`stdio is ${proc.stdio.kind}, expected captured`);
  let out = '';
  for await (const chunk of proc.stdio.stdout.setEncoding('utf8')) out += chunk;
  const exit = await proc.exit;
  if (exit.kind !== 'exited' || exit.code !== 7) throw new Error(`exit was ${JSON.stringify(exit)}, expected exited with code 7`);
  if (!out.startsWith('hello from pack-check @ ')) throw new Error(`stdout was ${JSON.stringify(out)}`);
  console.log(`pack-check: node ${process.version}: pid ${proc.pid} exited 7, stdout ${JSON.stringify(out.trim())}`);
} finally {
  await launcher.dispose();
}
