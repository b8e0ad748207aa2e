// Unit names and D-Bus object paths derived from proc ids: stable (the same id gives the
// same name), valid for systemd whatever the id contains, and never longer than allowed.
import { createHash } from 'node:crypto';

import { checkString } from '../common/validate.js';

/** systemd's UNIT_NAME_MAX is 256 including the NUL. */
const UNIT_NAME_MAX = 255;
const SUFFIX = '.service';
const MAX_PREFIX = 100;
const HASH_CHARS = 16;
/** Starts the hash of a cut name; a sequence the escaping never produces (see unitNameOf). */
export const HASH_MARK = '\\-';
/** Characters kept as they are; everything else becomes `\xNN` per UTF-8 byte. */
const PLAIN = /^[A-Za-z0-9:_.-]$/;

export const DEFAULT_UNIT_PREFIX = 'proclaunch-';

/** Checks the `unitPrefix` option: plain unit-name characters only, so names stay injective. */
export function checkUnitPrefix(value: unknown): string {
  const prefix = checkString(value, 'unitPrefix');
  if (prefix.length > MAX_PREFIX) throw new RangeError(`unitPrefix must be at most ${MAX_PREFIX} characters, got ${prefix.length}`);
  if (![...prefix].every((char) => PLAIN.test(char))) {
    throw new RangeError(`unitPrefix may only contain letters, digits and ":_.-", got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/**
 * `<prefix><escaped id>.service`. Escaping keeps [A-Za-z0-9:_.-] and writes any other
 * byte as `\xNN` (as systemd-escape does), so distinct ids give distinct names. An id too
 * long for the limit is cut and ends in `\-` and a hash of the whole id: escaping only ever
 * puts `x` after a `\`, so no plain name can equal a hashed one.
 */
export function unitNameOf(prefix: string, procId: string): string {
  const escaped = escapeId(procId);
  const room = UNIT_NAME_MAX - SUFFIX.length - prefix.length;
  if (escaped.length <= room) return `${prefix}${escaped}${SUFFIX}`;
  const hash = createHash('sha256').update(procId).digest('hex').slice(0, HASH_CHARS);
  let keep = escaped.slice(0, room - HASH_CHARS - HASH_MARK.length);
  // Never cut an escape sequence in half.
  const partial = keep.lastIndexOf('\\');
  if (partial >= 0 && partial > keep.length - 4) keep = keep.slice(0, partial);
  return `${prefix}${keep}${HASH_MARK}${hash}${SUFFIX}`;
}

function escapeId(procId: string): string {
  let out = '';
  for (const char of procId) {
    if (PLAIN.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The unit's object path, escaped as systemd's bus_label_escape does. */
export function unitObjectPath(unitName: string): string {
  let label = '';
  const bytes = Buffer.from(unitName, 'utf8');
  bytes.forEach((byte, i) => {
    const isLetter = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    const isDigit = byte >= 0x30 && byte <= 0x39;
    label += isLetter || (isDigit && i > 0) ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  });
  return `/org/freedesktop/systemd1/unit/${label.length === 0 ? '_' : label}`;
}
