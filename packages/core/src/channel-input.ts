/**
 * A channel's input side: the service of `gets`/`read`/`readBytes` (`inputOp`, the read waiters in
 * order, `attemptWaiter`), the `maxLine` limit, decode and stream read errors, Tcl's need-more-data
 * rule, and the read bound (`afterConsume`/`boundInput` pause and resume the stream). Decoding,
 * translation and buffering are `InputBuffer`'s (input.ts).
 */
import { SockchanError, errnoText } from '@sockchan/base';
import { ReadKind, ReadWaiter, checkCount, waiterPromise } from './read-waiter.js';
import { Conn, DEFAULT_BUFFER_SIZE, EMPTY } from './channel-state.js';
import { ChannelOutput } from './channel-output.js';

/** The smallest read bound (see readLimit): 256 KiB, or four output buffers when that is more. */
const MIN_READ_LIMIT = 256 * 1024;

/** The input side of a `Channel` (see the module comment). */
export abstract class ChannelInput extends ChannelOutput {
  /** @internal The next line, or `undefined` for "needs more data"; throws when the unfinished line passed {@link maxLine}. */
  protected takeLine(): string | null | undefined {
    const input = this.input;
    const line = input.getLine();
    if (line === undefined && this.maxLineChars > 0 && input.pendingInput > this.maxLineChars) {
      throw new SockchanError(`error reading "${this.name}": line longer than ${this.maxLineChars} characters`, {
        code: 'ERR_SOCKCHAN_LIMIT',
        errorCode: ['SOCKCHAN', 'LIMIT', 'LINE', String(this.maxLineChars)],
      });
    }
    return line;
  }

  /**
   * One try of an input operation: its result, or `undefined` for "needs more data". `read` and
   * `readBytes` in nonblocking mode set `blocked()` from whether they got all they asked for.
   * @internal
   */
  protected attemptRead(kind: ReadKind, count: number | undefined, wait: boolean): string | Uint8Array | null | undefined {
    if (kind === ReadKind.Line) return this.takeLine();
    const r = kind === ReadKind.Chars ? this.input.readChars(count, wait) : this.input.readBytes(count, wait);
    if (r === undefined) return undefined;
    if (!wait) this.blockedFlag = !r[1];
    return r[0];
  }

  /** @internal What an operation gives when there is nothing: `null` for `gets`, empty for `read`/`readBytes`. */
  protected static nothing(kind: ReadKind): string | Uint8Array | null {
    return kind === ReadKind.Line ? null : kind === ReadKind.Chars ? '' : EMPTY;
  }

  /**
   * Runs an input operation: at once when it can complete (or in nonblocking mode), otherwise
   * when data arrives.
   * @internal
   */
  protected inputOp(kind: ReadKind, count: number | undefined, wait: boolean): Promise<string | Uint8Array | null> {
    if (this.conn === Conn.Failed) return Promise.reject(this.connectFailure());
    if (!wait && this.readWaiters === undefined) {
      if (this.conn === Conn.Connecting) {
        this.blockedFlag = true;
        return Promise.resolve(ChannelInput.nothing(kind));
      }
      let r: string | Uint8Array | null | undefined;
      try {
        r = this.attemptRead(kind, count, false);
      } catch (err) {
        this.afterConsume();
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      if (r === undefined) {
        this.blockedFlag = !this.input.exhausted;
        // Before afterConsume: a paused stream resumes for a reader stuck on a partial line.
        this.needMoreData = true;
      }
      this.afterConsume();
      // Nothing to give, and not the end: an error met (a strict decoding error stops the
      // input before the end) is reported now, as a blocking read reports it.
      if (r === undefined || (r !== null && r.length === 0 && !this.input.eof)) {
        const err = this.pendingReadError();
        if (err !== undefined) return Promise.reject(err);
        if (r === undefined) return Promise.resolve(ChannelInput.nothing(kind));
      }
      if (r === null) {
        this.blockedFlag = false;
        if (this.input.decodeError !== undefined) return Promise.reject(this.decodeFailure());
      }
      return Promise.resolve(r);
    }
    const waiter = new ReadWaiter(kind, count, wait);
    const promise = waiterPromise(waiter);
    // A one-element literal for the usual lone waiter: no growth of an empty array.
    const waiters = this.readWaiters;
    if (waiters === undefined) {
      this.readWaiters = [waiter];
      if (this.nothingToRead()) {
        // It can only wait for data (a client's gets sent before the answer came): no attempt
        // that could only fail. A paused stream resumes for it.
        this.afterConsume();
        return promise;
      }
    } else waiters.push(waiter);
    this.serviceReads();
    return promise;
  }

  /**
   * `read`/`readBytes` without waiting (`tryRead`/`tryReadBytes`): what the operation gives at
   * once, `''`/empty at the end of input, or `undefined` when it would wait (blocking mode) or
   * find nothing yet (nonblocking mode, where it would give `''` with `blocked()` true). Throws
   * what the operation would reject with.
   * @internal
   */
  protected tryInput(kind: ReadKind.Chars | ReadKind.Bytes, count: number | undefined): string | Uint8Array | undefined {
    const bad = this.checkRead() ?? checkCount(count, kind === ReadKind.Chars ? 'numChars' : 'numBytes');
    if (bad !== undefined) throw bad;
    if (this.conn === Conn.Failed) throw this.connectFailure();
    if (this.readWaiters !== undefined || this.conn !== Conn.Open) return undefined;
    if (count === 0) return ChannelInput.nothing(kind) as string | Uint8Array;
    let r: string | Uint8Array | null | undefined;
    try {
      r = this.attemptRead(kind, count, this.blockingMode);
    } finally {
      this.afterConsume();
    }
    if (r === undefined || (r !== null && r.length === 0 && !this.input.eof)) {
      const err = this.pendingReadError();
      if (err !== undefined) throw err;
      return undefined;
    }
    // Nonblocking, attemptRead set blocked() from whether all that was asked for came.
    if (this.blockingMode) this.blockedFlag = false;
    return r as string | Uint8Array;
  }

  /**
   * @internal No input operation could complete or fail now: the stream is open and has neither
   * ended nor failed, and nothing is buffered, decoded, held or waiting to be reported.
   */
  protected nothingToRead(): boolean {
    if (this.conn !== Conn.Open || this.streamEnded || this.readError !== undefined) return false;
    const input = this.inputBuffer;
    return input === undefined || (input.pendingInput === 0 && !input.exhausted && input.decodeError === undefined);
  }

  /** @internal Tries the waiting operation `w`: true when it settled (resolved or rejected). */
  protected attemptWaiter(w: ReadWaiter): boolean {
    if (this.closed) {
      w.reject(this.unknownChannel());
      return true;
    }
    if (this.conn === Conn.Failed) {
      w.reject(this.connectFailure());
      return true;
    }
    if (this.conn === Conn.Connecting) return false;
    let r: string | Uint8Array | null | undefined;
    try {
      r = this.attemptRead(w.kind, w.count, w.wait);
    } catch (err) {
      w.reject(err instanceof Error ? err : new Error(String(err)));
      return true;
    }
    if (r === undefined) {
      const err = this.pendingReadError();
      if (err !== undefined) {
        w.reject(err);
        return true;
      }
      return false;
    }
    this.blockedFlag = false;
    if (r === null && this.input.decodeError !== undefined) {
      w.reject(this.decodeFailure());
      return true;
    }
    w.resolve(r);
    return true;
  }

  /** @internal What a read reports after the connect failed: `error reading "sockN": connection refused`. */
  protected connectFailure(): SockchanError {
    return this.ioError('reading', this.connectError as SockchanError);
  }

  /** @internal */
  protected decodeFailure(): SockchanError {
    const cause = this.input.decodeError;
    return new SockchanError(`error reading "${this.name}": ${errnoText('EILSEQ')}`, {
      code: 'EILSEQ',
      errorCode: ['POSIX', 'EILSEQ', errnoText('EILSEQ')],
      cause,
    });
  }

  /** @internal A read error to report now (a stream error other than a reset), once. */
  protected pendingReadError(): SockchanError | undefined {
    if (this.input.decodeError !== undefined) return this.decodeFailure();
    const e = this.readError;
    if (e === undefined) return undefined;
    return this.ioError('reading', e);
  }

  /** @internal Runs waiting input operations in order while they complete. */
  protected serviceReads(): void {
    const waiters = this.readWaiters;
    if (waiters === undefined) return;
    while (waiters.length > 0) {
      if (!this.attemptWaiter(waiters[0] as ReadWaiter)) break;
      waiters.shift();
    }
    if (waiters.length === 0) this.readWaiters = undefined;
    this.afterConsume();
  }

  /** @internal Read on demand: resumes the stream once the buffered input is below the bound. */
  protected afterConsume(): void {
    // A waiting read needs more than is buffered: it bounds memory by its own request, as in Tcl.
    // So does a nonblocking reader that reported blocked on a partial line (needMoreData):
    // without more bytes it could never finish it; `maxLine` bounds that line.
    if (
      this.pausedByUs &&
      (this.readWaiters !== undefined || this.needMoreData || this.input.rawBytes + this.input.bufferedChars <= this.readLimit() / 2)
    ) {
      this.pausedByUs = false;
      this.stream?.resume();
    }
  }

  /** @internal */
  protected readLimit(): number {
    return Math.max(MIN_READ_LIMIT, 4 * (this.outputBuffer?.bufferSize ?? DEFAULT_BUFFER_SIZE));
  }

  /** @internal Pauses the stream while more than `factor` times the read bound is buffered and nobody waits. */
  protected boundInput(factor: number): void {
    // Runs after every read and every readable handler: the usual case (a few bytes buffered,
    // less than the smallest bound) is decided without the bound or the channel's state.
    if (this.pausedByUs || this.readWaiters !== undefined) return;
    const input = this.inputBuffer;
    if (input === undefined) return;
    const buffered = input.rawBytes + input.bufferedChars;
    if (buffered > factor * MIN_READ_LIMIT && this.canRead && buffered > factor * this.readLimit()) {
      this.pausedByUs = true;
      this.stream?.pause();
    }
  }
}
