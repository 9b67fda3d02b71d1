/**
 * A channel's output side: `puts`/`tryPuts` → `write`/`writeOut` → `send`/`sendFull` to the stream,
 * `flush` → `sendAndWait`, drain waiters, and the write-error bookkeeping (Tcl's unreported error,
 * the sticky errno of a dead stream: `takeWriteError`, `reportSticky`, `noteFailedWrite`,
 * `claimFailure`). Buffering, translation and encoding are `OutputBuffer`'s (output.ts).
 */
import { Buffer } from 'node:buffer';
import process from 'node:process';
import type { Duplex } from 'node:stream';
import { SockchanError, errnoCodeOf, posixError } from '@sockchan/base';
import { writeCopy, writeJoined, writeLatin1 } from './socket-writes.js';
import type { WriteDone } from './socket-writes.js';
import { Conn, EMPTY, RESOLVED, ChannelState } from './channel-state.js';

/** Whole buffers that filled are sent together at the end of the turn, or at once beyond this size. */
const FULL_BATCH_LIMIT = 64 * 1024;

/** The output side of a `Channel` (see the module comment). */
export abstract class ChannelOutput extends ChannelState {
  /** @internal */
  protected failOutputWaiters(): void {
    const waiters = this.drainWaiters;
    // Runs on every close: build the error only when someone waits for it (it carries a stack).
    if (waiters === undefined) return;
    this.drainWaiters = undefined;
    const err = this.writeError ?? this.reportSticky();
    for (const w of waiters) w.reject(err);
  }

  /** @internal Shared by puts and tryPuts: buffers `data` and sends what the buffering mode says. */
  protected write(data: string | Uint8Array, newline: boolean): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new SockchanError('puts: data must be a string or a Uint8Array', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
    }
    const output = this.output;
    // A socket takes one-byte text as a string (copied to the kernel from the stack, as Node's
    // own string writes are): no Buffer per line of a line-buffered or unbuffered channel.
    const out = output.write(data, newline, this.stringWrites);
    if (!output.lends) {
      this.writeOut(out, undefined);
      return;
    }
    // The output buffer holds views of the caller's bytes: what is not sent now is copied.
    try {
      this.writeOut(out, data as Uint8Array);
    } finally {
      output.own();
    }
  }

  /** @internal The sending part of {@link write}: `lent` is the caller's array when `out` may be a view of it. */
  protected writeOut(out: Buffer | string | undefined, lent: Uint8Array | undefined): void {
    if (out !== undefined) {
      let err = this.takeWriteError('writing');
      if (err !== undefined) throw err;
      this.send(out, lent !== undefined && typeof out !== 'string' && out.buffer === lent.buffer);
      // The bytes failed at once (Node's synchronous try-write): this puts reports it.
      if (this.writeError !== undefined) {
        err = this.takeWriteError('writing');
        if (err !== undefined) throw err;
      }
    } else if (this.output.hasFullBuffer) {
      const err = this.takeWriteError('writing');
      if (err !== undefined) throw err;
      if (this.output.bytes >= FULL_BATCH_LIMIT) {
        // Enough for one big write now (and a bound on what a promise chain can pile up).
        this.sendFull(lent);
      } else if (!this.fullScheduled) {
        this.fullScheduled = true;
        process.nextTick(sendFullBuffers, this);
      }
    }
  }

  /** @internal Reports a pending write failure once (Tcl's unreported error), with the op's prefix. */
  protected takeWriteError(op: 'writing' | 'flushing'): SockchanError | undefined {
    // The sticky error is looked at first: without one there is nothing to report, and the
    // stream's getters are not read on every buffered write.
    const sticky = this.writeErrorSticky;
    // `writable` is false once the stream failed, also before Node destroys it (next tick).
    if (this.writeError === undefined && (sticky === undefined || this.stream === undefined || this.stream.writable)) return undefined;
    const e = this.writeError ?? this.reportSticky();
    this.writeError = undefined;
    return this.ioError(op, e);
  }

  /**
   * The error for bytes written after the stream died: the kernel's errno the first time (a reset
   * gives `connection reset by peer`, unless the reader already took the reset as EOF), then
   * `broken pipe`, as Tcl's write(2) calls report.
   * @internal
   */
  protected reportSticky(): SockchanError {
    const sticky = this.writeErrorSticky;
    if (sticky === undefined) return posixError('', 'EPIPE');
    if (sticky.code !== 'EPIPE') {
      this.writeErrorSticky = posixError('', 'EPIPE');
      // Tcl's read consumed the reset as EOF: its later writes fail with EPIPE.
      if (sticky.code === 'ECONNRESET' && this.inputBuffer?.eof === true) return this.writeErrorSticky;
    }
    return sticky;
  }

  /**
   * After a write to the stream: when Node's try-write failed at once, the stream is errored
   * (its 'error' event comes on the next tick). The failure becomes this call's `writeError`,
   * reported by the caller, and is marked so that the 'error' event does not report it again.
   * @internal
   */
  protected noteFailedWrite(s: Duplex): void {
    const err = s.errored;
    if (err === null || err === this.reportedStreamError) return;
    this.reportedStreamError = err;
    this.writeError = this.claimFailure(err);
  }

  /** @internal A write failure `err` of the stream, reported now: the kernel's errno once, then EPIPE. */
  protected claimFailure(err: unknown): SockchanError {
    const code = errnoCodeOf(err);
    if (code === undefined) return this.reportSticky();
    if (this.writeErrorSticky?.code !== 'EPIPE') this.writeErrorSticky = posixError('', 'EPIPE');
    return posixError('', code, err);
  }

  /**
   * Hands bytes to the stream (or queues them while connecting). A string is `latin1` text (one
   * byte per character, from `OutputBuffer.takeLatin1Text`), given only to a `net.Socket`. An
   * array is the pieces of one write, joined as they are written (they may be views of the
   * caller's bytes: they are copied at once).
   * @internal
   */
  protected send(buf: Buffer | string | readonly Buffer[], borrowed = false): void {
    const s = this.stream;
    if (s === undefined) {
      if (this.conn === Conn.Connecting) {
        const b = typeof buf === 'string' ? Buffer.from(buf, 'latin1') : isParts(buf) ? Buffer.concat(buf) : borrowed ? Buffer.from(buf) : buf;
        (this.preconnect ??= []).push(b);
        this.preconnectBytes += b.length;
      }
      return;
    }
    // Not writable: destroyed, ended, or failed (errored, destroyed on the next tick).
    if (!s.writable) {
      this.writeError ??= this.reportSticky();
      return;
    }
    if (typeof buf === 'string') writeLatin1(s, buf);
    else if (isParts(buf)) writeJoined(s, buf, this.stringWrites);
    else if (borrowed) writeCopy(s, buf, this.stringWrites);
    else s.write(buf);
    // Written through or queued: nothing failed (one field read on the success path).
    if (s.writableLength === 0) this.noteFailedWrite(s);
  }

  /**
   * Sends the whole buffers waiting, as a string where {@link stringWrites} allows. `lent`: the
   * caller's array of the write in progress (a whole buffer may be a view of it).
   * @internal
   */
  protected sendFull(lent?: Uint8Array): void {
    const text = this.stringWrites ? this.output.takeFullLatin1Text() : undefined;
    if (text !== undefined) {
      this.send(text);
      return;
    }
    const parts = this.output.takeFullParts();
    if (parts === undefined) return;
    if (parts.length === 1) {
      const full = parts[0] as Buffer;
      this.send(full, lent !== undefined && full.buffer === lent.buffer);
    } else {
      this.send(parts);
    }
  }

  /**
   * @internal Sends the whole buffers that filled during this turn, in one write: the peer sees
   * what Tcl's full buffering sends, without one write per buffer.
   */
  sendFullBuffers(): void {
    this.fullScheduled = false;
    if (!this.canWrite && !this.closed) return;
    this.sendFull();
  }

  /** @internal Sends `out` (if any) and resolves once everything written so far reached the kernel. */
  protected sendAndWait(out: Buffer | string | undefined, op: 'flushing' | 'writing'): Promise<void> {
    const s = this.stream;
    if (s === undefined) return RESOLVED;
    if (out === undefined && s.writableLength === 0) return RESOLVED;
    if (!s.writable) {
      // Only the stream's queue is left: its failure, if any, is reported once (by writeError).
      if (out === undefined && this.writeError === undefined) return RESOLVED;
      const e = this.writeError ?? this.reportSticky();
      this.writeError = undefined;
      return Promise.reject(this.ioError(op, e));
    }
    if (out !== undefined && this.syncWriteDone && s.writableLength === 0) {
      // A net.Socket with nothing queued: the write usually goes through to the kernel at once.
      // Without a callback Node schedules nothing after it (with one, a tick per write to call it).
      if (typeof out === 'string') writeLatin1(s, out);
      else s.write(out);
      if (s.writableLength === 0) return this.writtenAtOnce(s, op);
      // Queued after all (the kernel's buffer is full): the empty write below tells when it is out.
    } else if (out !== undefined) {
      // Bytes queued already (these will be too), or a stream that calls back later (TLS): the
      // write's own callback tells when these bytes (and so all before them) are written, with no
      // empty write of our own after them, which costs a TLS stream a pass through its engine.
      let waiter: WriteDone | undefined;
      const done: WriteDone = (err) => waiter?.(err);
      if (typeof out === 'string') writeLatin1(s, out, done);
      else s.write(out, done);
      if (s.writableLength === 0) return this.writtenAtOnce(s, op);
      return new Promise<void>((resolve, reject) => {
        waiter = (err) => this.settleWrite(s, err, op, resolve, reject);
      });
    }
    return new Promise<void>((resolve, reject) => {
      s.write(EMPTY, (err?: Error | null) => this.settleWrite(s, err, op, resolve, reject));
    });
  }

  /**
   * A blocking write or flush whose bytes left the stream's queue during the write: written
   * through to the kernel (nothing to wait for), or Node's try-write failed at once: the stream
   * is errored (not yet destroyed, its 'error' event is on the next tick), and this call reports it.
   */
  private writtenAtOnce(s: Duplex, op: 'flushing' | 'writing'): Promise<void> {
    this.noteFailedWrite(s);
    const failed = this.writeError;
    if (failed === undefined) return RESOLVED;
    this.writeError = undefined;
    return Promise.reject(this.ioError(op, failed));
  }

  /** Settles a blocking write or flush from the callback of its last write. */
  private settleWrite(s: Duplex, err: Error | null | undefined, op: 'flushing' | 'writing', resolve: () => void, reject: (e: unknown) => void): void {
    if (err === undefined || err === null) {
      resolve();
      return;
    }
    // The queued bytes failed: this call reports the stream's error, and only this call.
    const streamErr = s.errored ?? err;
    let e: SockchanError;
    if (streamErr !== this.reportedStreamError) {
      this.reportedStreamError = streamErr;
      e = this.claimFailure(streamErr);
    } else e = this.reportSticky();
    this.writeError = undefined;
    reject(this.ioError(op, e));
  }

  /** @internal */
  protected waitDrain(op: 'writing' | 'flushing'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      (this.drainWaiters ??= []).push({
        resolve,
        reject: (err: unknown) => {
          this.writeError = undefined;
          reject(this.ioError(op, err instanceof SockchanError ? err : posixError('', 'EPIPE', err)));
        },
      });
    });
  }

  /** @internal */
  protected waitConnect(): Promise<void> {
    if (this.conn !== Conn.Connecting) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      (this.connectWaiters ??= []).push({ resolve, reject });
    });
  }
}

function sendFullBuffers(ch: ChannelOutput): void {
  ch.sendFullBuffers();
}

/** The pieces of one write (see `OutputBuffer.takeFullParts`), not one Buffer. */
function isParts(buf: Buffer | readonly Buffer[]): buf is readonly Buffer[] {
  return Array.isArray(buf);
}
