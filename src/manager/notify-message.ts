// Parses one sd_notify datagram: newline-separated VARIABLE=VALUE assignments, read the
// way systemd reads them (a datagram with an embedded NUL is ignored whole, a field that
// is not valid UTF-8 is ignored, an empty STATUS= clears the status).

export interface NotifyMessage {
  ready: boolean;
  stopping: boolean;
  /** STATUS=…; null: an empty STATUS= (clears the status, as in systemd). */
  statusText?: string | null;
  /** PROCLAUNCH_ADDR=… (or the shorter ADDR=…): where the proc can be reached. */
  addr?: string;
}

/** The fields we read for the address, in order of preference. */
export const ADDR_FIELDS = ['PROCLAUNCH_ADDR', 'ADDR'] as const;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// C0, DEL and C1 controls: an address holding one is no address (and could forge output lines).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export function parseNotifyMessage(data: Buffer | string): NotifyMessage {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const message: NotifyMessage = { ready: false, stopping: false };
  // systemd permits one trailing NUL and ignores a datagram with any other.
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  if (bytes.subarray(0, end).includes(0)) return message;
  const fields = new Map<string, string>();
  let start = 0;
  while (start < end) {
    let newline = bytes.indexOf(0x0a, start);
    if (newline < 0 || newline > end) newline = end;
    const line = decodeStrictly(bytes.subarray(start, newline));
    start = newline + 1;
    const eq = line === null ? -1 : line.indexOf('=');
    if (eq <= 0) continue;
    // Later assignments win, as in systemd.
    fields.set(line!.slice(0, eq), line!.slice(eq + 1));
  }
  message.ready = fields.get('READY') === '1';
  message.stopping = fields.get('STOPPING') === '1';
  const statusText = fields.get('STATUS');
  if (statusText !== undefined) message.statusText = statusText === '' ? null : statusText;
  for (const key of ADDR_FIELDS) {
    const addr = fields.get(key);
    if (addr !== undefined && addr.length > 0 && !CONTROL_CHARACTER.test(addr)) {
      message.addr = addr;
      break;
    }
  }
  return message;
}

function decodeStrictly(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
