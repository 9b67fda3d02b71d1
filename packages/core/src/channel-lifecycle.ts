/**
 * A channel's lifecycle: connect outcome (`failConnect`, `isConnecting`; success is `attach`),
 * `close` (flush, then end and destroy the stream, or wait for the connect) and the half-closes.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { SockchanError, errnoCodeOf, posixError } from '@sockchan/base';
import { openNames } from './channel-names.js';
import { endAndDestroy, waitFinish } from './stream-end.js';
import { Conn, RESOLVED, settleAll } from './channel-state.js';
import { StreamAttachment } from './stream-attachment.js';

/** The lifecycle of a `Channel` (see the module comment). */
export abstract class ChannelLifecycle extends StreamAttachment {
  /**
   * For subclasses: the connection could not be made. I/O then fails with
   * `error flushing/reading "sockN": socket is not connected` (ENOTCONN), `eof()` stays
   * false, `close()` is silent and discards queued data.
   */
  protected failConnect(): void {
    if (this.conn !== Conn.Connecting) return;
    this.conn = Conn.Failed;
    this.connectError = posixError('', 'ENOTCONN');
    this.preconnect = undefined;
    this.preconnectBytes = 0;
    this.outputBuffer?.discard();
    this.connectOutcomePending = true;
    const waiters = this.connectWaiters;
    this.connectWaiters = undefined;
    settleAll(waiters);
    this.serviceReads();
    this.scheduleEvents();
  }

  /** For subclasses: true while there is no stream yet (an async connect in progress). */
  protected get isConnecting(): boolean {
    return this.conn === Conn.Connecting && !this.closed;
  }

  /** @internal */
  protected halfCloseError(): SockchanError {
    return new SockchanError('Half-close of write-side not possible, side not opened or already closed', {
      code: 'ERR_SOCKCHAN_NOT_OPEN',
      errorCode: ['NONE'],
    });
  }

  /** @internal */
  protected closeWrite(): Promise<void> {
    if (!this.canWrite || this.writeHalfClosed) return Promise.reject(this.halfCloseError());
    if (!this.canRead) return this.closeAll();
    this.writeHalfClosed = true;
    const tail = this.collectTail();
    this.canWrite = false;
    if (this.conn === Conn.Failed) return RESOLVED;
    const finish = (): Promise<void> => {
      const s = this.stream;
      if (s === undefined) return RESOLVED;
      if (tail !== undefined) this.send(tail);
      const err = this.takeWriteError('writing');
      if (!s.destroyed && !s.writableEnded) s.end();
      if (err !== undefined) return Promise.reject(new SockchanError(err.message.replace(/^error writing "[^"]*": /, ''), { code: err.code, errorCode: err.errorCode, cause: err }));
      return this.blockingMode ? waitFinish(s) : RESOLVED;
    };
    if (this.conn === Conn.Connecting) {
      const p = this.waitConnect().then(finish);
      if (!this.blockingMode) {
        p.catch(() => undefined);
        return RESOLVED;
      }
      return p;
    }
    return finish();
  }

  /** @internal */
  protected closeRead(): Promise<void> {
    if (!this.canRead) {
      return Promise.reject(
        new SockchanError('Half-close of read-side not possible, side not opened or already closed', { code: 'ERR_SOCKCHAN_NOT_OPEN', errorCode: ['NONE'] }),
      );
    }
    if (!this.canWrite) return this.closeAll();
    this.canRead = false;
    this.inputBuffer?.clear();
    this.readableHandler = null;
    const waiters = this.readWaiters;
    this.readWaiters = undefined;
    if (waiters !== undefined) for (const w of waiters) w.reject(this.notOpenFor('reading'));
    if (this.pausedByUs) {
      this.pausedByUs = false;
      this.stream?.resume();
    }
    return RESOLVED;
  }

  /** @internal Output eofchar and encoder end are added once, when the write side closes. */
  protected collectTail(): Buffer | undefined {
    // Never written to nor configured: no bytes, no encoder, no eofchar, so no tail.
    const output = this.outputBuffer;
    if (!this.canWrite || output === undefined) return undefined;
    const buffered = output.takeAll();
    const tail = output.finish();
    if (buffered === undefined) return tail;
    if (tail === undefined) return buffered;
    return Buffer.concat([buffered, tail]);
  }

  /** @internal */
  protected closeAll(): Promise<void> {
    const tail = this.conn === Conn.Failed ? undefined : this.collectTail();
    const blocking = this.blockingMode;
    const wasWritable = this.canWrite;
    this.closed = true;
    this.canRead = false;
    this.canWrite = false;
    openNames.delete(this.name);
    this.readableHandler = null;
    this.writableHandler = null;
    const readers = this.readWaiters;
    this.readWaiters = undefined;
    if (readers !== undefined) for (const w of readers) w.reject(this.unknownChannel());
    if (this.conn === Conn.Failed) return RESOLVED;
    if (this.conn === Conn.Connecting) {
      // Delivered once connected (nonblocking); a blocking close waits for the connect.
      if (tail !== undefined) {
        (this.preconnect ??= []).push(tail);
        this.preconnectBytes += tail.length;
      }
      const p = new Promise<void>((resolve) => {
        (this.connectWaiters ??= []).push({ resolve, reject: () => resolve() });
      }).then(() => {
        const s = this.stream;
        if (s === undefined) return;
        return endAndDestroy(s, blocking);
      });
      // Tcl: a close during the connect is silent and does not wait for it.
      p.catch(() => undefined);
      return RESOLVED;
    }
    // Open: the stream is there.
    const s = this.stream as Duplex;
    let reported = wasWritable ? this.writeError : undefined;
    this.writeError = undefined;
    if (tail !== undefined && reported === undefined) {
      this.send(tail);
      // The tail could not go out (the stream is already gone): that is this close's error.
      reported = this.writeError;
      this.writeError = undefined;
    }
    const done = endAndDestroy(s, blocking);
    if (reported !== undefined) {
      done.catch(() => undefined);
      const text = reported.errorCode[2] ?? reported.message;
      return Promise.reject(new SockchanError(text, { code: reported.code, errorCode: reported.errorCode, cause: reported }));
    }
    if (!blocking) {
      done.catch(() => undefined);
      return RESOLVED;
    }
    return done.catch((err: unknown) => {
      const e = err instanceof SockchanError ? err : posixError('', errnoCodeOf(err) ?? 'EPIPE', err);
      throw new SockchanError(e.errorCode[2] ?? e.message, { code: e.code, errorCode: e.errorCode, cause: err });
    });
  }
}
