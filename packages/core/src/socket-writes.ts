/** Text and copied-byte writes to a stream, through one shared scratch buffer for sockets. */
import type { Duplex } from 'node:stream';

/** Up to this size Node copies a string write through a stack buffer: no allocation at all. */
const STACK_WRITE_LIMIT = 16 * 1024;
/** The largest scratch buffer kept for reuse. */
const SCRATCH_LIMIT = 256 * 1024;
/**
 * One buffer shared by every channel for large text writes to sockets: it is filled, written, and
 * kept only when the socket copied it into the kernel at once (its queue is empty after the
 * write, so nothing holds the buffer). Fresh memory for every 64 KiB write costs page faults on
 * each use; this region stays mapped.
 */
let scratch: Buffer | undefined;

/** The scratch buffer, at least `n` bytes, taken out of reuse until {@link writeScratch} gives it back. */
function takeScratch(n: number): Buffer {
  let buf = scratch;
  scratch = undefined;
  if (buf === undefined || buf.length < n) buf = Buffer.allocUnsafeSlow(Math.max(n, 64 * 1024 + 4096));
  return buf;
}

/** Writes the first `n` bytes of a scratch buffer; it is reused only if the socket kept nothing. */
function writeScratch(s: Duplex, buf: Buffer, n: number): void {
  s.write(buf.subarray(0, n));
  // Queued (the kernel did not take it all, or a write was in progress): the socket holds it.
  if (s.writableLength === 0) scratch = buf;
}

/** Writes `latin1` text (one byte per character) to a `net.Socket`. */
export function writeLatin1(s: Duplex, text: string): void {
  const n = text.length;
  if (n <= STACK_WRITE_LIMIT || n > SCRATCH_LIMIT) {
    s.write(text, 'latin1');
    return;
  }
  const buf = takeScratch(n);
  buf.write(text, 0, n, 'latin1');
  writeScratch(s, buf, n);
}

/**
 * Writes a copy of the caller's bytes (a stream may keep what it is given until the write is
 * done; Tcl sends the bytes as they were at the call). To a `net.Socket`, through the scratch
 * buffer: a copy into memory that stays mapped, no allocation when the kernel takes it at once.
 */
export function writeCopy(s: Duplex, bytes: Buffer, socket: boolean): void {
  const n = bytes.length;
  if (!socket || n > SCRATCH_LIMIT) {
    s.write(Buffer.from(bytes));
    return;
  }
  const buf = takeScratch(n);
  bytes.copy(buf, 0);
  writeScratch(s, buf, n);
}
