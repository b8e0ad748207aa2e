import { getSystemErrorMap } from 'node:util';

const errorMap = getSystemErrorMap();

/** "ENOENT" for 2, like Node's SystemError `code`. */
export function codeOfErrno(errno: number): string {
  return errorMap.get(-errno)?.[0] ?? `E${errno}`;
}

/** "no such file or directory" for 2. */
export function describeErrno(errno: number): string {
  return errorMap.get(-errno)?.[1] ?? `error ${errno}`;
}
