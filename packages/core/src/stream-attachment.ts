/**
 * A channel's stream attachment: `attach` hooks the stream (module-level handlers from
 * stream-hooks.ts, early input of a `Channel.onread` socket, output queued while connecting), the
 * handlers' targets (`onData`, `onEnd`, `onError`, `onClose`, `onDrain`), and `swapStream`, which
 * `Channel.replaceStream` (STARTTLS in @sockchan/tls) uses to put another stream under the channel.
 */
import { Buffer } from 'node:buffer';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SockchanError, errnoCodeOf, posixError } from '@sockchan/base';
import { InputBuffer } from './input.js';
import { isTlsSocket } from './socket-writes.js';
import { earlyInputs, streamChannels, onStreamClose, onStreamData, onStreamDrain, onStreamEnd, onStreamError } from './stream-hooks.js';
import { Conn, EMPTY, settleAll } from './channel-state.js';
import { EventScheduler } from './event-scheduler.js';

/**
 * How far past the read bound input may grow while a readable handler is due to consume it
 * (see `onData`): 8 x 256 KiB, the most libuv reads in one poll (32 x 64 KiB).
 */
const READ_BURST_FACTOR = 8;

/** The stream attachment of a `Channel` (see the module comment). */
export abstract class StreamAttachment extends EventScheduler {
  /**
   * For subclasses: connects the channel to its stream (a channel created without one is
   * "connecting"). Queued output is written and reading starts.
   */
  protected attach(stream: Duplex): void {
    if (this.stream !== undefined || this.conn === Conn.Failed) {
      stream.destroy();
      return;
    }
    const s = stream;
    this.stream = s;
    this.conn = Conn.Open;
    this.stringWrites = s instanceof Socket;
    this.syncWriteDone = this.stringWrites && !isTlsSocket(s);
    streamChannels.set(s, this);
    // A socket made with Channel.onread never emits 'data': its reads come to onSocketRead.
    s.on('data', onStreamData);
    s.on('end', onStreamEnd);
    s.on('error', onStreamError);
    s.on('close', onStreamClose);
    s.on('drain', onStreamDrain);
    const early = earlyInputs.get(s);
    if (early !== undefined) {
      earlyInputs.delete(s);
      // It may have stopped reading at EARLY_INPUT_LIMIT; the input bound applies from here.
      s.resume();
      for (const chunk of early.chunks) this.onData(chunk);
    }
    if (this.preconnect !== undefined) {
      const queued = this.preconnect;
      this.preconnect = undefined;
      this.preconnectBytes = 0;
      for (const b of queued) this.send(b);
    }
    this.connectOutcomePending = this.writableHandler !== null;
    const waiters = this.connectWaiters;
    this.connectWaiters = undefined;
    settleAll(waiters);
    if (this.closed) return;
    this.serviceReads();
    this.scheduleEvents();
  }

  /** @internal Called by the stream's data handler. */
  onData(chunk: Buffer, fromEventLoop = false): void {
    if (!this.canRead) return; // read side closed: discard
    this.input.push(chunk);
    this.needMoreData = false;
    if (this.readWaiters !== undefined) this.serviceReads();
    if (this.readableHandler !== null) {
      // Straight from a socket read (an event loop callback, no user code below us): the
      // readable handler runs now, as Tcl's notifier runs it when the socket becomes readable,
      // instead of one phase later (setImmediate). A server answering from its handler then
      // writes before the peer has gone idle. Other streams (an in-memory pair pushes inside
      // the other end's write) keep the deferred run: a handler never runs inside user code.
      if (fromEventLoop && !this.eventScheduled && !this.readableRunning) this.runReadable(chunk.length);
      else this.scheduleEvents();
    }
    // After the waiters ran: one that failed (a line over maxLine) leaves the input to this bound.
    // A readable handler that is about to run (or running) gets what this event loop turn
    // delivers, up to READ_BURST_FACTOR times the bound: libuv reads up to 32 chunks of 64 KiB
    // per poll, and pausing after the fourth made the stream stop and restart reading (two
    // epoll_ctl calls) on nearly every turn of a fast sender. The handler's own turn re-checks
    // the plain bound (boundInput after it ran).
    const consumerDue = this.eventScheduled || this.readableRunning;
    this.boundInput(consumerDue ? READ_BURST_FACTOR : 1);
  }

  /** @internal The stream ended (or a reset, which reads as EOF as in Tcl). */
  onEnd(): void {
    if (this.streamEnded) return;
    this.streamEnded = true;
    // No input buffer yet (nothing was read): the getter makes it ended. A connection closed
    // unread, as by an accept-and-close server, never allocates one nor looks up the encoding.
    this.inputBuffer?.pushEnd();
    this.needMoreData = false;
    if (this.readWaiters !== undefined) this.serviceReads();
    this.scheduleEvents();
  }

  /** @internal A stream error. */
  onError(err: unknown): void {
    if (err === this.reportedStreamError) {
      // A call already reported this failure (a write that failed at once): not a second time.
      this.writeErrorSticky ??= posixError('', 'EPIPE');
      this.failOutputWaiters();
      this.onEnd();
      return;
    }
    const code = errnoCodeOf(err) ?? 'EIO';
    if (code === 'ECONNRESET' && !this.streamEnded) {
      // Tcl maps a reset on input to EOF; a write after it fails with the kernel's errno:
      // `connection reset by peer` once, `broken pipe` afterwards (see reportSticky).
      this.writeErrorSticky ??= posixError('', 'ECONNRESET', err);
      // Only bytes still queued were lost: then close() (or the next write) reports it. With
      // nothing queued, close() is silent, as Tcl's is after a reset read as EOF.
      if ((this.stream?.writableLength ?? 0) > 0 || (this.outputBuffer?.bytes ?? 0) > 0) this.writeError ??= this.reportSticky();
      this.onEnd();
      this.failOutputWaiters();
      return;
    }
    const e = posixError('', code, err);
    if (code === 'EPIPE' || this.isWriteSideError(code)) {
      this.writeErrorSticky ??= e;
      this.writeError ??= e;
      this.failOutputWaiters();
      this.onEnd();
      return;
    }
    this.readError = e;
    this.writeErrorSticky ??= e;
    this.writeError ??= e;
    this.failOutputWaiters();
    if (this.readWaiters !== undefined) this.serviceReads();
    this.scheduleEvents();
  }

  /** @internal */
  protected isWriteSideError(code: string): boolean {
    return code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
  }

  /** @internal The stream closed. */
  onClose(): void {
    this.onEnd();
    if (this.stream !== undefined && this.stream.writableLength > 0) {
      this.writeErrorSticky ??= posixError('', 'EPIPE');
    }
    this.failOutputWaiters();
  }

  /** @internal The stream drained its write queue. */
  onDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = undefined;
    settleAll(waiters);
    if (this.writableHandler !== null) this.scheduleEvents();
  }

  /**
   * The work of `Channel.replaceStream` (its TSDoc gives the order and the failure cases):
   * flush to the old stream, unhook it, take its unread bytes, start the input afresh, attach
   * the stream `wrap` returns (or the old one again when `wrap` throws).
   * @internal
   */
  protected swapStream(wrap: (current: Duplex, unread: Buffer) => Duplex): void {
    if (this.closed) throw this.unknownChannel();
    const old = this.stream;
    if (this.conn !== Conn.Open || old === undefined) {
      throw posixError(`can't replace the stream of "${this.name}": `, 'ENOTCONN');
    }
    if (!this.canRead) throw this.notOpenFor('reading');
    if (!this.canWrite) throw this.notOpenFor('writing');
    if (this.readWaiters !== undefined) {
      throw new SockchanError(`channel "${this.name}" is busy`, { code: 'ERR_SOCKCHAN_BUSY', errorCode: ['TCL', 'OPERATION', 'CHANNEL', 'BUSY'] });
    }
    const out = this.outputBuffer?.takeAll();
    if (out !== undefined) this.send(out);
    old.off('data', onStreamData);
    old.off('end', onStreamEnd);
    old.off('error', onStreamError);
    old.off('close', onStreamClose);
    old.off('drain', onStreamDrain);
    streamChannels.delete(old);
    // What it receives from now on stays in it, for the wrapper (a flowing stream with no
    // listener would drop it).
    old.pause();
    const parts: Buffer[] = [];
    const input = this.inputBuffer;
    if (input !== undefined) parts.push(input.takeUnread());
    // Bytes the stream buffered itself (a paused 'data' stream); read() gives them with no listener left.
    if (old.readableLength > 0) {
      let chunk: unknown;
      while ((chunk = old.read()) !== null) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    }
    const unread = parts.length === 0 ? EMPTY : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    if (input !== undefined) {
      const fresh = new InputBuffer(this.newDecoder(), input.translation, input.eofChar);
      fresh.tclUtf8Hold = input.tclUtf8Hold;
      this.inputBuffer = fresh;
    }
    this.streamEnded = false;
    this.readError = undefined;
    this.needMoreData = false;
    this.blockedFlag = false;
    this.pausedByUs = false;
    this.stream = undefined;
    this.conn = Conn.Connecting;
    const outcomePending = this.connectOutcomePending;
    let next: Duplex;
    try {
      next = wrap(old, unread);
    } catch (err) {
      old.resume();
      this.attach(old);
      this.connectOutcomePending = outcomePending;
      if (unread.length > 0) this.onData(unread);
      throw err;
    }
    this.attach(next);
    this.connectOutcomePending = outcomePending;
  }
}
