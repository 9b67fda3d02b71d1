/** Text and copied-byte writes to a stream, through pooled copy buffers for sockets. */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { descriptorOf, writeNow } from '@sockchan/base';

/** Up to this size Node copies a string write through a stack buffer: no allocation at all. */
const STACK_WRITE_LIMIT = 16 * 1024;
/** The size of every pooled buffer: a 64 KiB write plus room; larger writes get fresh memory. */
const POOLED_SIZE = 64 * 1024 + 4096;
/** Pooled buffers kept while no write holds them (1.1 MiB for the whole process at most). */
const POOL_KEEP = 16;

/**
 * A copy buffer that goes back to the pool when no write holds it any more. A write holds it
 * until the kernel took its bytes: at once (seen right after the write) or at the write's callback.
 */
class PooledBuffer {
  readonly buf = Buffer.allocUnsafeSlow(POOLED_SIZE);
  /** Writes given this buffer whose callbacks have not come yet (those of writes done at once included). */
  callbacksDue = 0;
  /** In the free list. */
  pooled = false;
  /**
   * The callback of every write of this buffer, made once: Node runs the callbacks of writes
   * the kernel took at once on a later tick, one tick for a run of writes with the same callback
   * (a closure per write cost a tick and an allocation each). Those callbacks come before that
   * of any later write that had to wait, so the buffer returns when the last one due has come.
   */
  readonly written = (): void => {
    if (--this.callbacksDue === 0) givePooled(this);
  };
}

/**
 * Buffers shared by every channel for copies handed to sockets. A socket keeps what it is given
 * until its write is done (libuv queues what the kernel did not take), so a copy is reused at
 * once only when the kernel took it all during the write, else after the write's callback: fresh
 * memory for every 64 KiB write costs page faults and garbage collections; these stay mapped.
 */
const free: PooledBuffer[] = [];

function takePooled(): PooledBuffer {
  const entry = free.pop() ?? new PooledBuffer();
  entry.pooled = false;
  return entry;
}

function givePooled(entry: PooledBuffer): void {
  if (entry.pooled || free.length >= POOL_KEEP) return;
  entry.pooled = true;
  free.push(entry);
}

/** The callback of a stream write: `null` or `undefined` when the bytes were written. */
export type WriteDone = (err?: Error | null) => void;

/** Writes the first `n` bytes of a pooled buffer; it returns to the pool when nothing holds it. */
function writePooled(s: Duplex, entry: PooledBuffer, n: number, done?: WriteDone): void {
  entry.callbacksDue += 1;
  const written = entry.written;
  s.write(
    entry.buf.subarray(0, n),
    done === undefined
      ? written
      : (err?: Error | null) => {
          written();
          done(err);
        },
  );
  // The kernel took it all during the write (a write that waits leaves bytes queued): the
  // buffer is free now, though the callback is still to come. A loop of writes that never
  // yields gets the same buffer back each time instead of a new one per write.
  if (s.writableLength === 0) givePooled(entry);
}

/**
 * Writes `latin1` text (one byte per character) to a `net.Socket`; `done` is the write's
 * callback (a blocking flush waits on it instead of queueing an empty write of its own).
 */
export function writeLatin1(s: Duplex, text: string, done?: WriteDone): void {
  const n = text.length;
  if (n <= STACK_WRITE_LIMIT || n > POOLED_SIZE) {
    s.write(text, 'latin1', done);
    return;
  }
  const entry = takePooled();
  entry.buf.write(text, 0, n, 'latin1');
  writePooled(s, entry, n, done);
}

/** What a direct write reads of Node's socket internals besides the descriptor. */
type SocketInternals = Duplex & { encrypted?: boolean; connecting?: boolean };

/** A TLS socket (Node's `encrypted`): its writes go through the TLS engine, not straight to the descriptor. */
export function isTlsSocket(s: Duplex): boolean {
  return (s as SocketInternals).encrypted === true;
}

/**
 * A TLS socket with nothing queued, not corked and connected: Node's TLS handle takes what it is
 * given into its engine during the write (TLSWrap::DoWrite encrypts it, or copies it while the
 * handshake is not done), so the bytes are no longer the caller's when `write()` returns. Only
 * the write's callback is still to come, from an immediate on a later turn.
 */
export function tlsTakesAtOnce(s: Duplex): boolean {
  return isTlsSocket(s) && nothingQueued(s);
}

/** Nothing of the socket waits to be written: its queue is empty, it is not corked and it is connected. */
function nothingQueued(s: SocketInternals): boolean {
  return s.writableLength === 0 && s.writableCorked === 0 && s.connecting !== true;
}

/**
 * Hands the caller's `bytes` on without a copy where no view of them can outlive the call, when
 * nothing of the socket waits to be written (so no byte can overtake another and the stream does
 * not queue them): returns how many bytes were taken (0 when none could be, the caller copies
 * the rest), or -1 when the write failed.
 * - A TLS socket: Node's TLS handle encrypts what it is given during the write, or copies it
 *   while the handshake is not done (TLSWrap::DoWrite); it keeps no view of the caller's bytes.
 * - A TCP or Unix socket: the kernel is offered the bytes at once, as Node's own try-write does.
 *   A failure destroys the stream with the kernel's error, as Node does when its try-write
 *   fails (the errno is the kernel's once: a reset reads `ECONNRESET` here, `EPIPE` after).
 *   The socket's `bytesWritten` does not count these bytes; nothing of sockchan reads it.
 */
function writeAtOnce(s: SocketInternals, bytes: Buffer): number {
  if (!nothingQueued(s)) return 0;
  // Checked first: a TLS socket's handle reports the descriptor under it.
  if (isTlsSocket(s)) {
    s.write(bytes);
    return bytes.length;
  }
  const fd = descriptorOf(s);
  if (fd < 0) return 0;
  try {
    return writeNow(fd, bytes); // 0 when the kernel's buffer is full
  } catch (err) {
    s.destroy(err as Error);
    return -1;
  }
}

/**
 * Writes the caller's bytes as they are at the call (a stream keeps what it is given until the
 * write is done; Tcl sends the bytes as they were at the call). To a `net.Socket`: as they are
 * where nothing can keep a view of them (see writeAtOnce), the rest as a copy through a pooled
 * buffer: memory that stays mapped, no allocation in a steady stream of writes.
 */
export function writeCopy(s: Duplex, bytes: Buffer, socket: boolean): void {
  if (!socket) {
    s.write(Buffer.from(bytes));
    return;
  }
  const taken = writeAtOnce(s, bytes);
  if (taken < 0) return;
  const rest = taken === 0 ? bytes : bytes.subarray(taken);
  const n = rest.length;
  if (n === 0) return;
  if (n > POOLED_SIZE) {
    s.write(Buffer.from(rest));
    return;
  }
  const entry = takePooled();
  // TypedArray#set: a plain memcpy, cheaper per call than Buffer#copy's argument handling.
  entry.buf.set(rest, 0);
  writePooled(s, entry, n);
}

/**
 * Writes `parts` (views of buffered chunks and maybe of the caller's bytes) as one write: to a
 * socket joined in a pooled buffer, warm memory reused write after write, where joining them in
 * fresh memory costs an allocation (and a garbage collection later) per write. Such parts come
 * from a write that does not start on a buffer boundary: a 64 KiB `puts` after a short header,
 * on a fully buffered channel, sends the header's buffer and 62 KiB of the caller's bytes.
 */
export function writeJoined(s: Duplex, parts: readonly Buffer[], socket: boolean): void {
  let n = 0;
  for (const p of parts) n += p.length;
  if (!socket || n > POOLED_SIZE) {
    s.write(Buffer.concat(parts, n));
    return;
  }
  const entry = takePooled();
  const buf = entry.buf;
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  writePooled(s, entry, n);
}
