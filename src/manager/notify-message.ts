// Parses one sd_notify datagram: newline-separated VARIABLE=VALUE assignments.

export interface NotifyMessage {
  ready: boolean;
  stopping: boolean;
  /** STATUS=… */
  statusText?: string;
  /** PROCLAUNCH_ADDR=… (or the shorter ADDR=…): where the proc can be reached. */
  addr?: string;
}

/** The fields we read for the address, in order of preference. */
export const ADDR_FIELDS = ['PROCLAUNCH_ADDR', 'ADDR'] as const;

export function parseNotifyMessage(text: string): NotifyMessage {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    // Later assignments win, as in systemd.
    fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const message: NotifyMessage = { ready: fields.get('READY') === '1', stopping: fields.get('STOPPING') === '1' };
  const statusText = fields.get('STATUS');
  if (statusText !== undefined) message.statusText = statusText;
  for (const key of ADDR_FIELDS) {
    const addr = fields.get(key);
    if (addr !== undefined && addr.length > 0) {
      message.addr = addr;
      break;
    }
  }
  return message;
}
