import { readSync, writeSync } from 'node:fs';

/**
 * One read(2) or write(2) on a socket's nonblocking descriptor, past Node's stream, for the few
 * places where the stream would cost an event-loop turn or a copy (core's write path, the PROXY
 * header reader). "Nothing now" (EAGAIN) is an answer, not an error: it is reported without
 * building an Error with a stack, which would cost more than the system call.
 */

/** Node's socket internals these functions read: the handle and its descriptor. */
interface HandleHolder {
  _handle?: { fd?: unknown } | null;
}

/** The socket's descriptor, or -1 when it has none (closed, not yet connected, a pipe-less stream). */
export function descriptorOf(socket: object): number {
  const fd = (socket as HandleHolder)._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

function wouldBlock(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/**
 * Writes what the kernel takes of `bytes` now: the count (0 when its buffer is full). Any other
 * failure is thrown (an errno `Error` with its `code`, e.g. `EPIPE`, `ECONNRESET`).
 */
export function writeNow(fd: number, bytes: Uint8Array): number {
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return writeSync(fd, bytes, 0, bytes.length);
  } catch (err) {
    if (wouldBlock(err)) return 0;
    throw err;
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
}

/**
 * Reads what has arrived into `into`: the count, 0 at end of stream, or -1 when nothing has
 * arrived yet. Any other failure is thrown (an errno `Error` with its `code`).
 */
export function readNow(fd: number, into: Uint8Array): number {
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readSync(fd, into, 0, into.length, null);
  } catch (err) {
    if (wouldBlock(err)) return -1;
    throw err;
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
}
