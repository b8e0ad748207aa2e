import { constants } from 'node:os';

const numberToName = new Map<number, string>();
for (const [name, value] of Object.entries(constants.signals)) {
  if (!numberToName.has(value)) numberToName.set(value, name);
}

/** "SIGTERM" for 15; "SIG<n>" for a number with no name (real-time signals). */
export function nameOfSignal(signal: number): string {
  return numberToName.get(signal) ?? `SIG${signal}`;
}

/** Signal number for a name ("SIGTERM", "TERM") or a number; RangeError naming `option`. */
export function resolveSignal(value: unknown, option: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1 && value <= 64) return value;
    throw new RangeError(`${option} must be a signal number from 1 to 64, got ${value}`);
  }
  if (typeof value === 'string') {
    const name = value.startsWith('SIG') ? value : `SIG${value}`;
    const signal = (constants.signals as Record<string, number>)[name];
    if (signal !== undefined) return signal;
    throw new RangeError(`${option} is not a known signal name: ${JSON.stringify(value)}`);
  }
  throw new TypeError(`${option} must be a signal name or number, got ${typeof value}`);
}
