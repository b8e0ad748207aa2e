// One round of a JS runtime contender for `proclaunch bench`, run by Bun or Deno (not
// Node): launches a program with the runtime's own API (Bun.spawn / Deno.Command), as
// the Node contenders do (stdin ignored, stdout and stderr inherited), and prints one
// JSON line on stdout.
//
//   bun js-runtime-round.mjs  MODE COUNT WARMUP INFLIGHT PROGRAM
//   deno run --allow-run js-runtime-round.mjs MODE COUNT WARMUP INFLIGHT PROGRAM
//
// MODE sequential: COUNT launches one at a time, after WARMUP unmeasured ones:
//   {"runtime","version","launches","launchesPerSec","callMs":{"p50","p99"},"latencyMs":{"p50","p99"}}
// MODE inflight: COUNT launches with INFLIGHT in flight, after WARMUP unmeasured ones,
// and the longest gap between firings of a 1 ms setInterval meanwhile:
//   {"runtime","version","launches","launchesPerSec","maxStallMs","cpuMs"}
// cpuMs: the runtime process's own CPU time (user + system, every thread, not its
// children's) over the measured launches, from process.cpuUsage() (Bun and Deno have it).
// A launch that does not exit 0 ends the round: a message on stderr, exit status 1.
const [mode, countText, warmupText, inflightText, program] = globalThis.Deno ? Deno.args : process.argv.slice(2);
const count = Number(countText);
const warmup = Number(warmupText);
const inflight = Number(inflightText);

const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'unknown';
const version = globalThis.Bun ? Bun.version : globalThis.Deno ? Deno.version.deno : 'unknown';

/** Starts `program`; returns the synchronous call time and a promise of its exit code. */
function start() {
  const t0 = performance.now();
  let exited;
  if (runtime === 'bun') {
    const child = Bun.spawn([program], { stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' });
    exited = child.exited;
  } else {
    const child = new Deno.Command(program, { stdin: 'null', stdout: 'inherit', stderr: 'inherit' }).spawn();
    exited = child.status.then((status) => status.code);
  }
  const callMs = performance.now() - t0;
  return {
    callMs,
    exited: exited.then((code) => {
      if (code !== 0) throw new Error(`${program} exited with ${code}`);
    }),
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function sequential(n) {
  const calls = [];
  const latencies = [];
  const begin = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const { callMs, exited } = start();
    await exited;
    latencies.push(performance.now() - t0);
    calls.push(callMs);
  }
  return { elapsed: performance.now() - begin, calls, latencies };
}

async function inFlight(n) {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const cpuBefore = process.cpuUsage();
  const begin = performance.now();
  try {
    await new Promise((resolve, reject) => {
      let started = 0;
      let done = 0;
      const next = () => {
        if (started >= n) return;
        started++;
        start().exited.then(() => {
          done++;
          if (done === n) resolve();
          else next();
        }, reject);
      };
      for (let i = 0; i < Math.min(inflight, n); i++) next();
    });
  } finally {
    clearInterval(timer);
  }
  const stall = Math.max(longest, performance.now() - last);
  const cpu = process.cpuUsage(cpuBefore);
  return { elapsed: performance.now() - begin, stall, cpuMs: (cpu.user + cpu.system) / 1000 };
}

try {
  if (!(count > 0) || !(warmup >= 0) || !(inflight > 0) || typeof program !== 'string') {
    throw new Error('usage: js-runtime-round.mjs sequential|inflight COUNT WARMUP INFLIGHT PROGRAM');
  }
  let line;
  if (mode === 'sequential') {
    if (warmup > 0) await sequential(warmup);
    const { elapsed, calls, latencies } = await sequential(count);
    line = {
      runtime, version, launches: count, launchesPerSec: (count * 1000) / elapsed,
      callMs: { p50: percentile(calls, 0.5), p99: percentile(calls, 0.99) },
      latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    };
  } else if (mode === 'inflight') {
    if (warmup > 0) await inFlight(warmup);
    const { elapsed, stall, cpuMs } = await inFlight(count);
    line = { runtime, version, launches: count, launchesPerSec: (count * 1000) / elapsed, maxStallMs: stall, cpuMs };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  console.log(JSON.stringify(line));
} catch (error) {
  console.error(`js-runtime-round: ${error?.message ?? error}`);
  if (globalThis.Deno) Deno.exit(1);
  else process.exit(1);
}
