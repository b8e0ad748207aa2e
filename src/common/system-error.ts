import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

const errorMap = getSystemErrorMap();
// libuv's map lacks a few errnos that execve can return (ENOEXEC, ETXTBSY…).
const namesByNumber = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!namesByNumber.has(value)) namesByNumber.set(value, name);
const extraMessages: Record<string, string> = { ENOEXEC: 'exec format error', ETXTBSY: 'text file is busy', ELIBBAD: 'accessing a corrupted shared library' };

/** "ENOENT" for 2, like Node's SystemError `code`. */
export function codeOfErrno(errno: number): string {
  return errorMap.get(-errno)?.[0] ?? namesByNumber.get(errno) ?? `E${errno}`;
}

/** "no such file or directory" for 2. */
export function describeErrno(errno: number): string {
  return errorMap.get(-errno)?.[1] ?? extraMessages[codeOfErrno(errno)] ?? `error ${errno}`;
}
