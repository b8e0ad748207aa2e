// The child side of binding-fuzz.test.ts: calls every raw binding of the addon with
// arbitrary values, in its own process so that a crash is observed by the test, not
// suffered by it. Every call must return or throw a TypeError/RangeError (or let the
// exception of one of our own hostile getters/traps through); anything else is
// reported. Only safe targets are ever reachable: programs are /bin/true or missing,
// fds are ours or beyond the kernel's limit, sockets are our own abstract names.
//
// argv: none. env: FUZZ_RUNS, FUZZ_SEED, FUZZ_REPORT (JSON written here), FUZZ_LAST
// (the call in progress, for a crash), FUZZ_DIR (an empty directory we may use).
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { types } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));
const fc = require('fast-check');

// Loaded by the same code as src/native/addon.ts (PROCLAUNCH_ADDON_PATH included), so
// the sanitizer run fuzzes the ASan build.
const { loadAddonBinary } = await import(pathToFileURL(join(root, 'dist', 'native', 'addon-path.js')).href);
const raw = loadAddonBinary();

const runs = Number(process.env['FUZZ_RUNS']);
const seed = Number(process.env['FUZZ_SEED']);
const dir = process.env['FUZZ_DIR'];
const lastFd = openSync(process.env['FUZZ_LAST'], 'w');

/** What our own hostile getters and traps throw: seeing it come back is correct. */
class FuzzTrap extends Error {}
const trap = () => {
  throw new FuzzTrap('fuzz trap');
};

// ---- bookkeeping of what the fuzzed calls create, so that all of it is undone ----
const live = new Set(); // watch ids of spawned procs, until their exit is reported
const pids = new Map(); // id -> pid
const sockets = []; // { id, address }
let exits = 0;
let notifies = 0;
let callbackThrows = 0;
const onExit = (id) => {
  exits++;
  live.delete(id);
};
const onNotify = () => notifies++;
// setCallbacks is fuzzed too: only with functions that keep the bookkeeping right.
const throwingExit = (...args) => {
  onExit(...args);
  throw new FuzzTrap('exit callback throws');
};
const throwingNotify = () => {
  onNotify();
  throw new FuzzTrap('notify callback throws');
};
raw.setCallbacks(onExit, onNotify);
const fdsBefore = readdirSync('/proc/self/fd').length;
// A callback that throws is an uncaught exception, as for any event listener.
process.on('uncaughtException', (error) => {
  if (!(error instanceof FuzzTrap)) throw error;
  callbackThrows++;
});

// An fd number no process can have open (above fs.nr_open, which bounds RLIMIT_NOFILE).
const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
const deadFd = fc.integer({ min: nrOpen + 1, max: 2 ** 31 - 1 });
const socketPrefix = `@proclaunch-fuzz-${process.pid}-`;

// ---- arbitrary values ----
// Hostile values are made only for the call: fast-check itself looks into the values it
// generates (a clone-method check), which a throwing Proxy trap would break.
class Lazy {
  constructor(make) {
    this.make = make;
  }
}
const lazy = (make) => fc.constant(new Lazy(make));
function materialize(value) {
  if (value instanceof Lazy) return value.make();
  if (Array.isArray(value)) return value.map(materialize);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out = {};
    for (const key of Object.keys(value)) Object.defineProperty(out, key, { value: materialize(value[key]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}
const hugeLength = 2 ** 32 - 1;
const bigString = 'x'.repeat(6 * 1024 * 1024 + 1);
const tooManyStrings = Array.from({ length: 699_051 }, () => '');
const sparse = (length, fill) => {
  const array = fill === undefined ? [] : [fill];
  array.length = length;
  return array;
};
const revokedProxy = () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};
const numbers = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, Number.MIN_VALUE, 0.5, 1023, 1024, 64, 65),
  fc.double(),
  fc.integer(),
);
const hostile = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0n, Symbol('fuzz'), '', {}, [], () => 1, new Date(0), new Map(), /x/),
  lazy(() => new Proxy({}, { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap })),
  lazy(() => new Proxy(['a'], { get: trap })),
  lazy(() => new Proxy(['a', 'b'], {})),
  lazy(revokedProxy),
  lazy(() => Object.defineProperty([], 0, { get: trap, enumerable: true })),
  lazy(() => ({ length: 2, 0: 'a', 1: 'b' })),
  lazy(() => new Array(2)),
  lazy(() => ['a', , 'b']),
  lazy(() => sparse(hugeLength)),
  lazy(() => sparse(hugeLength, 'a')),
  lazy(() => sparse(hugeLength, 1)),
  lazy(() => tooManyStrings),
  fc.constantFrom(bigString, Buffer.alloc(4), new Uint8Array(3), new Float64Array(2)),
  numbers,
  // No bare string: where a string names a file or a socket, only safe ones are made.
  fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }).filter((v) => typeof v !== 'string'),
);
// No string inside either (an array of program paths).
const hostileNoStrings = hostile.filter((v) => !Array.isArray(v) || Object.values(Object.getOwnPropertyDescriptors(v)).every((d) => typeof d.value !== 'string' || d.value === '/bin/true' || d.value === ''));
const maybe = (arb, weight = 4) => fc.oneof({ arbitrary: arb, weight }, { arbitrary: hostile, weight: 1 });
const strings = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constant('a\0b'));
const list = (item, maxLength = 6) => maybe(fc.array(maybe(item, 9), { maxLength }));
const intIn = (min, max) => maybe(fc.oneof(fc.integer({ min, max }), numbers));
const bool = maybe(fc.boolean());

// Never a real program other than /bin/true, never a real cgroup: only what cannot harm.
const missing = join(dir, 'missing');
const programs = fc.oneof(
  { arbitrary: fc.array(fc.oneof({ arbitrary: fc.constantFrom('/bin/true', missing, `${missing}/deeper`, ''), weight: 9 }, { arbitrary: hostileNoStrings, weight: 1 }), { maxLength: 3 }), weight: 4 },
  { arbitrary: hostileNoStrings, weight: 1 },
);
const cgroups = maybe(fc.oneof(fc.constant(null), fc.constant(dir), strings.map((s) => join(missing, s.replaceAll('/', '_').replaceAll('.', '_')))));
function onlyCoreLimits(values) {
  return values.map((value, i) => (i % 3 === 0 && Number.isInteger(value) && value >= 0 && value < 16 ? 4 : value));
}
const plan = fc.record(
  {
    paths: programs,
    argv: list(strings),
    env: list(strings),
    inheritEnviron: bool,
    envRemove: list(strings),
    cwd: maybe(fc.oneof(fc.constant(null), fc.constantFrom('/', dir, missing), strings)),
    captureStdio: bool,
    killGroupOnExit: bool,
    killOnTeardown: bool,
    parentDeathSignal: intIn(0, 70),
    cpus: maybe(fc.oneof(fc.constant(null), fc.array(intIn(0, 1100), { maxLength: 4 }))),
    memNodes: maybe(fc.oneof(fc.constant(null), fc.array(intIn(0, 1100), { maxLength: 4 }))),
    cgroup: cgroups,
    stdin: maybe(fc.oneof(fc.constant(null), intIn(-1, 3))),
    // [resource, soft, hard] triples, odd lengths and resources past RLIM_NLIMITS too; a
    // limit that takes hold only affects the /bin/true child (or fails its exec).
    // A resource in range is always RLIMIT_CORE: a tight `as`, `stack` or `nofile` would
    // only make the child (under the sanitizer build: its ASan runtime) fail in its own way.
    rlimits: maybe(fc.oneof(fc.constant(null), fc.array(fc.oneof(intIn(-2, 17), intIn(-1, 2 ** 53)), { maxLength: 13 }).map(onlyCoreLimits))),
    // Optional: absent, null, a boolean (setsid or setpgid in the child) or anything else.
    newSession: maybe(fc.oneof(fc.constant(null), bool, intIn(-1, 2), strings)),
  },
  { requiredKeys: ['paths', 'argv', 'env', 'inheritEnviron', 'captureStdio', 'killGroupOnExit', 'killOnTeardown', 'parentDeathSignal'] },
);
const plainPlan = { paths: ['/bin/true'], argv: ['true'], env: [], inheritEnviron: false, envRemove: [], cwd: null, captureStdio: false, killGroupOnExit: true, killOnTeardown: true, parentDeathSignal: 0, cpus: null, memNodes: null, cgroup: null, stdin: 0, rlimits: null, newSession: false };
// A plausible plan with one field replaced: the checks of every field are reached.
const oneFieldWrong = fc
  .tuple(fc.constantFrom(...Object.keys(plainPlan)), hostile, hostileNoStrings)
  .map(([key, value, safeValue]) => ({ ...plainPlan, [key]: key === 'paths' ? safeValue : value }));
const withTrapGetter = fc.constantFrom(...Object.keys(plainPlan)).map((key) => new Lazy(() => Object.defineProperty({ ...plainPlan }, key, { get: trap, enumerable: true })));
// A hostile value that is a function (`() => 1`) would be accepted as a callback and then
// swallow exits the bookkeeping waits for: callbacks are ours, or values that are no function.
const callbackOr = (...ours) => fc.oneof({ arbitrary: fc.constantFrom(...ours), weight: 4 }, { arbitrary: hostile.filter((v) => typeof v !== 'function'), weight: 1 });
const args = (...items) => fc.tuple(...items).chain((all) => fc.integer({ min: 0, max: all.length + 1 }).map((n) => all.slice(0, n)));

const watchIds = maybe(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(2 ** 32 - 1)));
const addresses = maybe(fc.oneof(fc.nat({ max: 8 }).map((n) => `${socketPrefix}${n}`), strings.map((s) => `${socketPrefix}${s}`), fc.constant('')));
// Real fds are the pipes made for the call (see resolveFd); every other one is dead, or
// not an fd at all: awaitBarrierSync closes what it gets, sendWithFds writes to it.
const notAnOpenFd = hostile.filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= nrOpen));
const fds = fc.oneof(
  { arbitrary: fc.oneof(deadFd, fc.constantFrom('pipe-read', 'pipe-write', 'hung-up-read')), weight: 4 },
  { arbitrary: notAnOpenFd, weight: 1 },
);

// A binding added later without a generator here is still fuzzed, with values no
// binding may accept as valid (no numbers, no strings): misuse must not crash it.
const known = ['spawn', 'spawnAsync', 'stopSpawner', 'signal', 'setWatchRef', 'makePipe', 'sendWithFds', 'setCallbacks', 'openNotifySocket', 'closeNotifySocket', 'sendNotify', 'awaitBarrierSync'];
const unknownBindings = Object.keys(raw).filter((key) => typeof raw[key] === 'function' && !known.includes(key));
const neverValid = hostile.filter((v) => typeof v !== 'number' && typeof v !== 'string');
const genericCalls = unknownBindings.map((key) => fc.tuple(fc.constant(key), args(neverValid, neverValid, neverValid)));

const calls = fc.oneof(
  ...genericCalls,
  fc.tuple(fc.constant('spawn'), fc.oneof(args(fc.oneof(plan, oneFieldWrong, withTrapGetter, hostile)), fc.constant([plainPlan]))),
  fc.tuple(fc.constant('spawnAsync'), fc.oneof(args(fc.oneof(plan, oneFieldWrong, withTrapGetter, hostile)), fc.constant([plainPlan]))),
  fc.tuple(fc.constant('stopSpawner'), args(hostile)),
  fc.tuple(fc.constant('signal'), args(watchIds, intIn(-2, 70), bool)),
  fc.tuple(fc.constant('setWatchRef'), args(watchIds, bool)),
  fc.tuple(fc.constant('makePipe'), args(hostile)),
  fc.tuple(fc.constant('sendWithFds'), args(fds, maybe(fc.constantFrom(Buffer.from('x'), Buffer.alloc(0), new Uint8Array(2))), list(fc.oneof(deadFd, fc.integer()), 20))),
  fc.tuple(fc.constant('setCallbacks'), args(callbackOr(onExit, throwingExit), callbackOr(onNotify, throwingNotify))),
  fc.tuple(fc.constant('openNotifySocket'), args(addresses)),
  fc.tuple(fc.constant('closeNotifySocket'), args(watchIds)),
  fc.tuple(fc.constant('sendNotify'), args(addresses, maybe(fc.oneof(strings, fc.constant('READY=1')), 3))),
  fc.tuple(fc.constant('awaitBarrierSync'), args(fds, maybe(fc.oneof(fc.constantFrom(0, 1, 2 ** 31 - 1), numbers)))),
);

// ---- running one call ----
function safeShow(value) {
  try {
    if (types.isProxy(value)) return 'Proxy';
    if (Array.isArray(value)) {
      const shown = [];
      for (let i = 0; i < Math.min(value.length, 4); i++) {
        const descriptor = Object.getOwnPropertyDescriptor(value, i);
        shown.push(descriptor === undefined ? 'hole' : descriptor.get === undefined ? safeShow(descriptor.value) : 'getter');
      }
      return `Array(${value.length})[${shown.join(', ')}]`;
    }
    if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…(${value.length})` : value);
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'function') return `function ${value.name}`;
    if (typeof value === 'object' && value !== null) {
      const entries = Object.keys(value).slice(0, 14).map((k) => {
        const descriptor = Object.getOwnPropertyDescriptor(value, k);
        return `${k}: ${descriptor?.get === undefined ? safeShow(descriptor?.value) : 'getter'}`;
      });
      return `{ ${entries.join(', ')} }`;
    }
    return String(value);
  } catch {
    return '?';
  }
}

function writeLast(text) {
  ftruncateSync(lastFd, 0);
  writeSync(lastFd, text, 0);
}

// The fds a call may touch are made for it: awaitBarrierSync closes what it is given.
// awaitBarrierSync only ever gets a read end already hung up: it returns at once.
function resolveFd(value, opened, forAwait) {
  if (value !== 'pipe-read' && value !== 'pipe-write' && value !== 'hung-up-read') return value;
  const [readEnd, writeEnd] = raw.makePipe();
  if (value === 'hung-up-read' || forAwait) {
    closeSync(writeEnd);
    opened.push(readEnd);
    return readEnd;
  }
  opened.push(readEnd, writeEnd);
  return value === 'pipe-read' ? readEnd : writeEnd;
}

function callOnce(name, givenArgs) {
  const opened = [];
  const forAwait = name === 'awaitBarrierSync';
  const callArgs = name === 'sendWithFds' || forAwait ? [resolveFd(givenArgs[0], opened, forAwait), ...givenArgs.slice(1)] : givenArgs;
  writeLast(`${name}(${callArgs.map(safeShow).join(', ')})`);
  let outcome;
  try {
    outcome = { result: raw[name](...callArgs) };
  } catch (error) {
    outcome = { error };
  }
  // awaitBarrierSync closes its fd when it returns, and only then.
  if (!(forAwait && outcome.error === undefined)) for (const fd of opened) closeSync(fd);
  return outcome;
}

function isFailureObject(value) {
  return typeof value === 'object' && value !== null && typeof value.errno === 'number' && typeof value.stage === 'string' && typeof value.syscall === 'string';
}

// Undoes what a successful call made; returns a complaint when the result has the wrong shape.
function settle(name, result) {
  if (isFailureObject(result)) return null;
  switch (name) {
    case 'spawn':
      if (typeof result?.id !== 'number' || typeof result.pid !== 'number') return 'spawn returned no id/pid';
      live.add(result.id);
      pids.set(result.id, result.pid);
      for (const fd of [result.stdoutFd, result.stderrFd, result.stdinFd]) if (fd >= 0) closeSync(fd);
      return null;
    case 'spawnAsync':
      // Settled on the loop: checked by checkThenYield once it is.
      if (!(result instanceof Promise)) return `spawnAsync returned ${safeShow(result)}`;
      pendingSpawns.push(result.then((value) => settle('spawn', value), (error) => `spawnAsync rejected: ${safeShow(error)}`));
      return null;
    case 'stopSpawner':
      return typeof result === 'boolean' ? null : `stopSpawner returned ${safeShow(result)}`;
    case 'makePipe':
      if (!Array.isArray(result) || result.length !== 2) return 'makePipe returned no pair';
      for (const fd of result) closeSync(fd);
      return null;
    case 'openNotifySocket':
      if (typeof result !== 'number') return 'openNotifySocket returned no id';
      sockets.push(result);
      // Keep a few open (sendNotify and closeNotifySocket then hit real ones), not more.
      if (sockets.length > 8) raw.closeNotifySocket(sockets.shift());
      return null;
    case 'sendNotify':
      if (typeof result !== 'number') return 'sendNotify returned no fd';
      closeSync(result);
      return null;
    case 'signal':
    case 'awaitBarrierSync':
      return typeof result === 'boolean' ? null : `${name} returned ${safeShow(result)}`;
    case 'sendWithFds':
      return typeof result === 'number' ? null : `sendWithFds returned ${safeShow(result)}`;
    case 'setWatchRef':
    case 'setCallbacks':
    case 'closeNotifySocket':
      return result === undefined ? null : `${name} returned ${safeShow(result)}`;
    default:
      return null; // a binding this file does not know: any result will do
  }
}

const outcomes = { returned: 0, failureObject: 0, TypeError: 0, RangeError: 0, propagated: 0, namedBinding: 0 };
const perBinding = {};
const unexpected = [];
let cases = 0;

function check([name, generatedArgs]) {
  const callArgs = materialize(generatedArgs);
  cases++;
  perBinding[name] = (perBinding[name] ?? 0) + 1;
  const { result, error } = callOnce(name, callArgs);
  let complaint = null;
  if (error === undefined) {
    if (isFailureObject(result)) outcomes.failureObject++;
    else outcomes.returned++;
    complaint = settle(name, result);
  } else if (error instanceof FuzzTrap) {
    outcomes.propagated++;
  } else if (error instanceof TypeError || error instanceof RangeError) {
    outcomes[error.constructor.name]++;
    if (error.message.startsWith(`${name}: `)) outcomes.namedBinding++;
  } else {
    complaint = `threw ${safeShow(error)}: ${error?.message ?? ''}`;
  }
  if (complaint !== null) unexpected.push(`${name}(${callArgs.map(safeShow).join(', ')}): ${complaint}`);
  return complaint === null;
}

// Each case then lets the loop run: exits and notify messages reach whatever callbacks
// the fuzzed setCallbacks left, throwing ones included.
const pendingSpawns = [];
const checkThenYield = async (call) => {
  let ok = check(call);
  await new Promise((r) => setImmediate(r));
  for (const complaint of await Promise.all(pendingSpawns.splice(0))) {
    if (complaint !== null) {
      unexpected.push(`spawnAsync: ${complaint}`);
      ok = false;
    }
  }
  return ok;
};
let failure = null;
try {
  await fc.assert(fc.asyncProperty(calls, checkThenYield), { numRuns: runs, seed, endOnFailure: true });
} catch (error) {
  failure = String(error.message).split('\n').slice(0, 8).join('\n');
}

// And for certain, not by chance: callbacks that throw, for an exit and for a message.
async function until(condition) {
  const started = Date.now();
  while (!condition() && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 5));
}
raw.setCallbacks(throwingExit, throwingNotify);
const throwsBefore = callbackThrows;
const spawned = raw.spawn(plainPlan);
if (typeof spawned.id === 'number') {
  live.add(spawned.id);
  pids.set(spawned.id, spawned.pid);
}
const socketId = raw.openNotifySocket(`${socketPrefix}throwing`);
if (typeof socketId === 'number') {
  sockets.push(socketId);
  const barrier = raw.sendNotify(`${socketPrefix}throwing`, 'READY=1');
  if (typeof barrier === 'number') closeSync(barrier);
}
await until(() => callbackThrows >= throwsBefore + 2);
writeLast('(fuzzing done; cleaning up)');

// Whatever a fuzzed signal left stopped (SIGSTOP) or alive: end it, it is ours.
raw.setCallbacks(onExit, onNotify);
for (const id of live) raw.signal(id, 9, true);
for (const id of sockets) raw.closeNotifySocket(id);
await until(() => live.size === 0);
// The spawn server holds a socket and a pidfd while it lives: end it before counting.
raw.stopSpawner();
// Closing a notify socket or a watch finishes on the loop: let it run once more.
await new Promise((r) => setImmediate(r));
const fdsAfter = readdirSync('/proc/self/fd').length;

writeFileSync(
  process.env['FUZZ_REPORT'],
  JSON.stringify({ cases, seed, perBinding, unknownBindings, outcomes, unexpected: unexpected.slice(0, 20), unexpectedCount: unexpected.length, failure, spawned: pids.size, exits, notifies, callbackThrows, fdsBefore, fdsAfter, leftover: [...live].map((id) => pids.get(id)) }),
);
closeSync(lastFd);
