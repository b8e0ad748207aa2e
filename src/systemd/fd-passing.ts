// File descriptors in D-Bus messages (StandardOutputFileDescriptor). dbus-next already
// marshals `h` values and negotiates NEGOTIATE_UNIX_FD when its stream says it can
// send them, but a Node socket cannot do SCM_RIGHTS: we give the stream that ability
// through the addon, before the handshake starts.
import type { Socket } from 'node:net';

import type { MessageBus } from '@jellybrick/dbus-next';

import { codeOfErrno } from '../common/system-error.js';
import { addon, isFailure } from '../native/addon.js';

interface FdMessage {
  data: Buffer;
  fds: number[];
}

type PendingWrite = { kind: 'plain'; chunk: unknown } | { kind: 'fds'; message: FdMessage };

interface DbusStream extends Socket {
  supportsUnixFd?: boolean;
  _handle?: { fd?: number } | null;
}

function isFdMessage(chunk: unknown): chunk is FdMessage {
  return typeof chunk === 'object' && chunk !== null && !Buffer.isBuffer(chunk) && 'data' in chunk && 'fds' in chunk;
}

/** Makes `bus` able to send fds; true when it could (a Unix socket transport and the addon). */
export function enableFdPassing(bus: MessageBus): boolean {
  const connection = (bus as unknown as { _connection?: { _wireStream?: (stream: DbusStream) => void } })._connection;
  if (connection?._wireStream === undefined) return false;
  try {
    addon();
  } catch {
    return false;
  }
  const wire = connection._wireStream.bind(connection);
  // dbus-next wires its freshly made stream asynchronously; teach it fds first.
  connection._wireStream = (stream: DbusStream) => {
    teachFds(stream);
    wire(stream);
  };
  return true;
}

function teachFds(stream: DbusStream): void {
  const plainWrite = stream.write.bind(stream) as (chunk: unknown) => boolean;
  const pending: PendingWrite[] = [];
  let flushing = false;

  // Messages with fds go out through sendmsg, which must not overtake what Node still
  // has queued on the socket: wait for the queue to drain, and queue what follows.
  const flush = (): void => {
    while (pending.length > 0) {
      const next = pending[0]!;
      if (next.kind === 'plain') {
        pending.shift();
        plainWrite(next.chunk);
        continue;
      }
      if (stream.writableLength > 0) return void stream.once('drain', flush);
      const fd = stream._handle?.fd;
      if (fd === undefined || fd < 0) return void stream.destroy(new Error('D-Bus socket has no fd to send file descriptors on'));
      const sent = addon().sendWithFds(fd, next.message.data, next.message.fds);
      if (isFailure(sent)) {
        if (sent.errno === 11) return void setImmediate(flush); // EAGAIN: the socket buffer is full
        return void stream.destroy(new Error(`sending file descriptors over D-Bus failed: ${codeOfErrno(sent.errno)}`));
      }
      pending.shift();
      // The fds rode with the first byte; the rest of the message is plain data.
      if (sent < next.message.data.length) plainWrite(next.message.data.subarray(sent));
    }
    flushing = false;
  };

  stream.supportsUnixFd = true;
  stream.write = ((chunk: unknown): boolean => {
    if (isFdMessage(chunk)) {
      if (chunk.fds.length === 0 && !flushing) return plainWrite(chunk.data);
      pending.push(chunk.fds.length === 0 ? { kind: 'plain', chunk: chunk.data } : { kind: 'fds', message: chunk });
    } else {
      if (!flushing) return plainWrite(chunk);
      pending.push({ kind: 'plain', chunk });
    }
    if (!flushing) {
      flushing = true;
      flush();
    }
    return !flushing;
  }) as Socket['write'];
}
