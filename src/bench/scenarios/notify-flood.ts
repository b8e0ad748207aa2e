// Scenario 9: a stranger floods a proc's notify socket. The figure is the worst stall a
// 1 ms timer sees in the manager meanwhile (per-turn budget + native sender check keep
// it small), with the proc's own READY=1 sent in the middle of the flood.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';

import { ProcManager } from '../../manager/proc-manager.js';
import { median, percentile } from '../stats.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';

const SIZES = { full: { floodMs: 3000, rounds: 3 }, quick: { floodMs: 500, rounds: 1 } };

// Sends forged datagrams as fast as the socket takes them until stdin closes; prints the count.
const FLOODER = `
import socket, sys, threading
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect('\\0' + address[1:] if address.startswith('@') else address)
s.settimeout(0.1)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
n = 0
while not stop.is_set():
    try:
        s.send(b'READY=1\\nSTATUS=forged\\nPROCLAUNCH_ADDR=evil:1')
        n += 1
        if n == 1:
            print('started', flush=True)
    except OSError:
        pass
print(n, flush=True)
`;

interface Round {
  /** The same wait with no flooder: what the machine's own noise gives. */
  quiet: { worst: number; p99: number };
  flood: { worst: number; p99: number };
  sent: number;
  readyAccepted: boolean;
}

export const notifyFloodScenario: Scenario = {
  name: 'notify-flood',
  number: 9,
  title: 'worst 1 ms-timer stall while a stranger floods a proc’s notify socket',
  units: (quick) => (quick ? SIZES.quick : SIZES.full).rounds,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const python = pythonPath();
    if (python === null) return skippedOutcome('native', 'python3 (the flooder) is not in PATH');
    const rounds: Round[] = [];
    for (let round = 0; round < sizes.rounds; round++) {
      context.progress.label(`notify-flood: round ${round + 1}/${sizes.rounds}`);
      rounds.push(await floodOnce(python, sizes.floodMs));
      context.progress.advance(1, `notify-flood: round ${round + 1}/${sizes.rounds}`);
    }
    const worst = Math.max(...rounds.map((r) => r.flood.worst));
    const quiet = Math.max(...rounds.map((r) => r.quiet.worst));
    const p99 = median(rounds.map((r) => r.flood.p99));
    const quietP99 = median(rounds.map((r) => r.quiet.p99));
    const rate = rounds.reduce((sum, r) => sum + r.sent, 0) / ((rounds.length * sizes.floodMs) / 1000);
    return {
      status: 'ok',
      baseline: 'native',
      contenders: ['native'],
      skipped: {},
      metrics: [
        metric({ name: 'worstStall', label: 'worst 1 ms-timer stall under the flood', unit: 'ms', better: 'lower' }, { native: round2(worst) }, 'native'),
        metric({ name: 'quietStall', label: 'the same, no flood (machine noise)', unit: 'ms', better: 'lower' }, { native: round2(quiet) }, 'native'),
        metric({ name: 'floodGapP99', label: 'timer gap p99 under the flood', unit: 'ms', better: 'lower' }, { native: round2(p99) }, 'native'),
        metric({ name: 'quietGapP99', label: 'timer gap p99, no flood', unit: 'ms', better: 'lower' }, { native: round2(quietP99) }, 'native'),
        metric({ name: 'floodRate', label: 'forged datagrams sent', unit: '/s', better: 'higher' }, { native: Math.round(rate) }, 'native'),
      ],
      notes: [
        `${sizes.rounds} rounds: ${sizes.floodMs} ms with no flood, then ${sizes.floodMs} ms in which one python3 flooder (same uid, outside the proc's tree) sends READY=1 datagrams as fast as the socket takes them; worst: over all rounds, p99: median over rounds`,
        `the proc's own systemd-notify --ready, sent mid-flood, was accepted in ${rounds.filter((r) => r.readyAccepted).length}/${rounds.length} rounds (target: worst stall below 20 ms)`,
      ],
    };
  },
};

async function floodOnce(python: string, floodMs: number): Promise<Round> {
  const manager = new ProcManager({ launcher: 'native', forwardOutput: false });
  try {
    const marker = `/tmp/proclaunch-bench-flood-${process.pid}-${Date.now()}`;
    const h = await manager.spawn('flood-target', {
      program: '/bin/sh',
      args: ['-c', `while [ ! -e '${marker}' ]; do sleep 0.01; done; rm -f '${marker}'; systemd-notify --ready STATUS=mine; exec sleep 1000`],
    });
    const address = notifySocketOf(h.pid!);
    const quietMonitor = monitorGaps();
    await sleep(floodMs);
    const quiet = quietMonitor.stop();
    const flooder = spawn(python, ['-c', FLOODER, address], { stdio: ['pipe', 'pipe', 'ignore'] });
    let output = '';
    flooder.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    try {
      while (!output.includes('started')) await once(flooder.stdout, 'data');
      const stalls = monitorGaps();
      await sleep(floodMs / 2);
      writeFileSync(marker, '');
      const ready = await Promise.race([h.ready().then((s) => s.statusText === 'mine' && s.addr === undefined), sleep(floodMs / 2).then(() => false)]);
      await sleep(Math.max(0, floodMs / 2 - 1));
      const flood = stalls.stop();
      flooder.stdin.end();
      await once(flooder, 'exit');
      const sent = Number(output.trim().split('\n').pop());
      return { quiet, flood, sent, readyAccepted: ready || h.status().state === 'ready' };
    } finally {
      flooder.kill('SIGKILL');
      await h.kill();
    }
  } finally {
    await manager.dispose();
  }
}

interface GapMonitor {
  /** Stops the 1 ms timer: the longest gap and the 99th percentile, in ms. */
  stop(): { worst: number; p99: number };
}

/** Every gap between firings of a 1 ms interval (monitorStalls keeps only the longest). */
function monitorGaps(): GapMonitor {
  const gaps: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      gaps.push(performance.now() - last);
      return { worst: Math.max(...gaps), p99: percentile(gaps, 0.99) };
    },
  };
}

function pythonPath(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function notifySocketOf(pid: number): string {
  // A vfork parent resumes a moment before the kernel records the new environment: re-read until filled in.
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith('NOTIFY_SOCKET='));
    if (entry !== undefined) return entry.slice('NOTIFY_SOCKET='.length);
  }
  throw new Error(`no NOTIFY_SOCKET in the environment of ${pid}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
