/** Text and copied-byte writes to a stream, through pooled copy buffers for sockets. */
import type { Duplex } from 'node:stream';

/** Up to this size Node copies a string write through a stack buffer: no allocation at all. */
const STACK_WRITE_LIMIT = 16 * 1024;
/** The size of every pooled buffer: a 64 KiB write plus room; larger writes get fresh memory. */
const POOLED_SIZE = 64 * 1024 + 4096;
/** Pooled buffers kept while no write holds them (1.1 MiB for the whole process at most). */
const POOL_KEEP = 16;

/** A copy buffer that goes back to the pool when no write holds it any more. */
interface PooledBuffer {
  readonly buf: Buffer;
  /** Counts the writes given this buffer: a late callback of an earlier write must not free it. */
  writes: number;
}

/**
 * Buffers shared by every channel for copies handed to sockets. A socket keeps what it is given
 * until its write is done (libuv queues what the kernel did not take), so a copy is reused at
 * once only when the kernel took it all during the write, else after the write's callback: fresh
 * memory for every 64 KiB write costs page faults and garbage collections; these stay mapped.
 */
const free: PooledBuffer[] = [];

function takePooled(): PooledBuffer {
  return free.pop() ?? { buf: Buffer.allocUnsafeSlow(POOLED_SIZE), writes: 0 };
}

function givePooled(entry: PooledBuffer): void {
  if (free.length < POOL_KEEP) free.push(entry);
}

/** The callback of a stream write: `null` or `undefined` when the bytes were written. */
export type WriteDone = (err?: Error | null) => void;

/** Writes the first `n` bytes of a pooled buffer; it returns to the pool when nothing holds it. */
function writePooled(s: Duplex, entry: PooledBuffer, n: number, done?: WriteDone): void {
  const write = ++entry.writes;
  // The callback comes on a later tick even when the kernel took everything: a loop of writes
  // that never yields would take a new buffer for each one, so that case is seen at once below.
  s.write(entry.buf.subarray(0, n), (err?: Error | null) => {
    if (entry.writes === write) {
      entry.writes += 1;
      givePooled(entry);
    }
    done?.(err);
  });
  if (s.writableLength === 0) {
    entry.writes += 1;
    givePooled(entry);
  }
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

/**
 * Writes a copy of the caller's bytes (a stream may keep what it is given until the write is
 * done; Tcl sends the bytes as they were at the call). To a `net.Socket` through a pooled
 * buffer: a copy into memory that stays mapped, no allocation in a steady stream of writes.
 */
export function writeCopy(s: Duplex, bytes: Buffer, socket: boolean): void {
  const n = bytes.length;
  if (!socket || n > POOLED_SIZE) {
    s.write(Buffer.from(bytes));
    return;
  }
  const entry = takePooled();
  // TypedArray#set: a plain memcpy, cheaper per call than Buffer#copy's argument handling.
  entry.buf.set(bytes, 0);
  writePooled(s, entry, n);
}
