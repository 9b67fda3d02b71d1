import { Socket } from 'node:net';
import type { OnReadOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { SockchanError, badDirection, errnoCodeOf, errnoText, posixError, valueText } from '@sockchan/base';
import { createEncoder, resolveEncodingName } from '@sockchan/encodings';
import { InputBuffer } from './input.js';
import type { StreamDecoder } from './input.js';
import { OutputBuffer } from './output.js';
import { nextChannelName, openNames } from './channel-names.js';
import { LazyDecoder } from './lazy-decoder.js';
import { ReadWaiter, checkCount, waiterPromise } from './read-waiter.js';
import { writeCopy, writeLatin1 } from './socket-writes.js';
import type { WriteDone } from './socket-writes.js';
import { endAndDestroy, waitFinish } from './stream-end.js';
import { ONREAD_BUFFER_SIZE, kChannel, kEarlyInput, onSocketRead, onStreamClose, onStreamData, onStreamDrain, onStreamEnd, onStreamError } from './stream-hooks.js';
import type { StreamWithChannel } from './stream-hooks.js';
import { currentSystemEncoding } from './system-encoding.js';
import {
  GENERIC_OPTION_NAMES,
  badOptionError,
  matchGenericOption,
  optionWord,
  parseBlocking,
  parseBuffering,
  parseBuffersize,
  parseEofcharValue,
  parseProfile,
  parseTranslationWord,
  splitTranslationValue,
} from './options.js';
import type { ChannelOptions, ChannelProfile, ChannelSettings, InputTranslation, OutputTranslation, Translation } from './options.js';
import { parseMaxLine } from './options.js';
import { matchUniquePrefix } from '@sockchan/base';

/**
 * `Channel`: Tcl's channel (gets, read, puts, flush, close, eof, fblocked, chan pending,
 * fconfigure, fileevent) over any Node `Duplex`. The pure layers (`InputBuffer`, `OutputBuffer`)
 * do decoding, translation and buffering; this class is the I/O shell: it moves bytes between
 * them and the stream, waits in blocking mode, and runs Tcl's level-triggered events.
 */

/** A readable/writable event handler (`chan event`). A returned promise delays the next call until it settles. */
export type ChannelEventHandler = (channel: Channel) => unknown;

/** Options of `new Channel(stream, options)`: initial option values and the channel's name. */
export interface ChannelConstructorOptions extends ChannelSettings {
  /** The channel's name; default `sock` followed by a process-unique number. */
  name?: string;
  /** The input limit of `gets` (see {@link Channel.maxLine}); default {@link DEFAULT_MAX_LINE}. */
  maxLine?: number;
}

/**
 * Default of {@link Channel.maxLine}: 1 MiB (1,048,576 characters), the largest `buffersize`
 * Tcl allows. Tcl itself has no such limit; sockchan has one so that a peer that never sends a
 * line end cannot make a `gets` grow memory without bound.
 */
export const DEFAULT_MAX_LINE = 1024 * 1024;

/**
 * A driver option a subclass adds to `configure()` (the umbrella's `peername`, `keepalive`, ...).
 * Order matters: Tcl lists driver options in the driver's order, after the generic ones.
 */
export interface DriverOptionSpec {
  /** Name without dash. */
  readonly name: string;
  /** Shown in the full `configure()` listing. */
  readonly listed: boolean;
  /** Named in the "bad option" message of a query. */
  readonly namedOnGet: boolean;
  /** Can be set (then also named in the "bad option" message of a set). */
  readonly settable: boolean;
}


let onreadOption: OnReadOpts | undefined;


export { channelNames, nextChannelName } from './channel-names.js';

const RESOLVED: Promise<void> = Promise.resolve();
/** Whole buffers that filled are sent together at the end of the turn, or at once beyond this size. */
const FULL_BATCH_LIMIT = 64 * 1024;
const NO_DRIVER_OPTIONS: readonly DriverOptionSpec[] = [];
const EMPTY = Buffer.alloc(0);
/** Tcl's default `-buffersize`. */
const DEFAULT_BUFFER_SIZE = 4096;
/**
 * How far past the read bound input may grow while a readable handler is due to consume it
 * (see `onData`): 8 x 256 KiB, the most libuv reads in one poll (32 x 64 KiB).
 */
const READ_BURST_FACTOR = 8;

/** Lifecycle of the connection under a channel. */
const enum Conn {
  Connecting = 0,
  Open = 1,
  Failed = 2,
}



/** What an input operation reads (its values are looked up in this module, as before the split). */
export const enum ReadKind {
  Line = 0,
  Chars = 1,
  Bytes = 2,
}

/** The default constructor options (shared: nothing writes to them). */
const NO_OPTIONS: ChannelConstructorOptions = Object.freeze({});

/** True when constructor options hold channel settings (anything but `name` and `maxLine`). */
function hasSettings(options: ChannelConstructorOptions): boolean {
  for (const key in options) if (key !== 'name' && key !== 'maxLine') return true;
  return false;
}


/** A waiter for output progress (drain, write completion, connect outcome). */
type Waiter = { resolve: () => void; reject: (err: unknown) => void };

/**
 * A Tcl channel over a Node `Duplex` (`net.Socket`, a child process's stdio pair, an in-memory pair).
 *
 * Blocking mode (the default): promises wait for I/O as Tcl's commands do. Nonblocking mode
 * (`configure({ blocking: false })`): nothing waits; `gets` gives `null` with `blocked()` true,
 * `puts` queues and flushes in the background, `close` resolves at once and still delivers every byte.
 */
export class Channel {
  /** The channel's Tcl name (`sock7`), quoted in error messages. */
  readonly name: string;
  /** The stream, once there is one (a subclass may create the channel before connecting). */
  protected stream: Duplex | undefined;

  private conn: Conn;
  private connectError: SockchanError | undefined;
  private closed = false;
  private canRead = true;
  private canWrite = true;
  /** close('write') was done: a second one fails with Tcl's text. */
  private writeHalfClosed = false;

  private blockingMode = true;
  /**
   * The encoding; the system encoding is looked up when first needed (reading the locale
   * variables costs microseconds, and a connection closed unused never needs it).
   */
  private encodingValue: string | undefined;
  private profileName: ChannelProfile = 'tcl8';
  private inTranslation: InputTranslation = 'auto';
  private outTranslationDefault: OutputTranslation = 'crlf';
  /** Created on first use (see `input`): a connection closed unread never allocates one. */
  private inputBuffer: InputBuffer | undefined;
  /** Created on first use (see `output`): a connection closed unwritten never allocates one. */
  private outputBuffer: OutputBuffer | undefined;

  private blockedFlag = false;
  private maxLineChars = DEFAULT_MAX_LINE;
  /** Tcl's need-more-data rule: after a blocked partial gets/read, readable waits for new bytes. */
  private needMoreData = false;
  private readWaiters: ReadWaiter[] | undefined;
  private drainWaiters: Waiter[] | undefined;
  private connectWaiters: Waiter[] | undefined;
  /** Bytes produced while connecting, sent on attach. */
  private preconnect: Buffer[] | undefined;
  private preconnectBytes = 0;
  private pausedByUs = false;
  /**
   * The stream is a `net.Socket`: text of a one-byte encoding is written as a `latin1` string,
   * which the socket copies into the kernel at once and frees (a Buffer per write would hold fresh
   * memory until the next garbage collection). Other streams get Buffers, as they may keep them.
   */
  private stringWrites = false;
  private fullScheduled = false;
  private streamEnded = false;
  private readError: SockchanError | undefined;
  /** A write failure not yet reported to the caller (Tcl's "unreported error"). */
  private writeError: SockchanError | undefined;
  private writeErrorSticky: SockchanError | undefined;
  /** The stream error a call already reported as its own (its 'error' event must not report it again). */
  private reportedStreamError: unknown;

  private readableHandler: ChannelEventHandler | null = null;
  private writableHandler: ChannelEventHandler | null = null;
  private readableRunning = false;
  private writableRunning = false;
  private eventScheduled = false;
  private connectOutcomePending = false;

  constructor(stream?: Duplex, options: ChannelConstructorOptions = NO_OPTIONS) {
    this.name = options.name ?? nextChannelName();
    this.conn = Conn.Connecting;
    openNames.add(this.name);
    const maxLine = options.maxLine;
    if (maxLine !== undefined) this.maxLine = maxLine;
    // Most channels are made with a name at most: no copy of the options for them.
    if (hasSettings(options)) {
      const { name: _name, maxLine: _maxLine, ...settings } = options;
      this.configure(settings);
    }
    if (stream !== undefined) this.attach(stream);
  }

  /**
   * Node's `onread` option for a `net.Socket` that a channel will read:
   * `net.connect({ host, port, onread: Channel.onread })`, then `new Channel(socket)`.
   * Such a socket hands each read straight to its channel, without the stream's 'data' event:
   * no buffer allocated per read and no stream bookkeeping, a few microseconds less per read
   * (measured on the pingpong bench). Everything else is as with any socket. Bytes read before a
   * channel takes the socket are kept for it (up to 256 KiB, then the socket stops reading until
   * then). Only for a socket that is given to a channel; its 'data' event never fires.
   * `net.Server` cannot pass `onread` to the sockets it accepts; those use the 'data' path.
   */
  static get onread(): OnReadOpts {
    return (onreadOption ??= { buffer: Buffer.allocUnsafeSlow(ONREAD_BUFFER_SIZE), callback: onSocketRead });
  }

  private get encodingName(): string {
    return (this.encodingValue ??= currentSystemEncoding());
  }

  private set encodingName(name: string) {
    this.encodingValue = name;
  }

  /** The input buffer, made on first use with the defaults (configure() changes it afterwards). */
  private get input(): InputBuffer {
    if (this.inputBuffer !== undefined) return this.inputBuffer;
    const input = new InputBuffer(this.newDecoder(), 'auto', '');
    input.tclUtf8Hold = this.encodingName === 'utf-8';
    // The stream may have ended before anything asked for input (see onEnd).
    if (this.streamEnded) input.pushEnd();
    this.inputBuffer = input;
    return input;
  }

  /** The output buffer, made on first use with the defaults (configure() changes it afterwards). */
  private get output(): OutputBuffer {
    return (this.outputBuffer ??= new OutputBuffer(
      this.encodingName,
      () => createEncoder(this.encodingName, { profile: this.profileName }),
      'crlf',
      'full',
      DEFAULT_BUFFER_SIZE,
    ));
  }

  /** A decoder for the current encoding and profile, created on first use. */
  private newDecoder(): StreamDecoder {
    return new LazyDecoder(this.encodingName, this.profileName);
  }

  // ---------------------------------------------------------------- driver hooks (for subclasses)

  /**
   * For subclasses: connects the channel to its stream (a channel created without one is
   * "connecting"). Queued output is written and reading starts.
   */
  protected attach(stream: Duplex): void {
    if (this.stream !== undefined || this.conn === Conn.Failed) {
      stream.destroy();
      return;
    }
    const s = stream as StreamWithChannel;
    this.stream = s;
    this.conn = Conn.Open;
    this.stringWrites = s instanceof Socket;
    s[kChannel] = this;
    // A socket made with Channel.onread never emits 'data': its reads come to onSocketRead.
    s.on('data', onStreamData);
    s.on('end', onStreamEnd);
    s.on('error', onStreamError);
    s.on('close', onStreamClose);
    s.on('drain', onStreamDrain);
    const early = s[kEarlyInput];
    if (early !== undefined) {
      s[kEarlyInput] = undefined;
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

  /** For subclasses: the driver options, in Tcl's order (none for a plain Channel). */
  protected driverOptions(): readonly DriverOptionSpec[] {
    return NO_DRIVER_OPTIONS;
  }

  /** For subclasses: reads a driver option (`name` is one of `driverOptions()`). */
  protected getDriverOption(name: string): unknown {
    throw badOptionError(name, this.getOptionNames());
  }

  /** For subclasses: sets a settable driver option. */
  protected setDriverOption(name: string, _value: unknown): void {
    throw badOptionError(name, this.setOptionNames());
  }

  /**
   * For subclasses (`configure('error')`): takes the write failure no call has reported yet (a
   * nonblocking channel's background write), as its errno text (`connection reset by peer`), or
   * `''`. Taken here, no later operation reports it again.
   */
  protected takeUnreportedWriteError(): string {
    const e = this.writeError;
    if (e === undefined) return '';
    this.writeError = undefined;
    return e.errorCode[2] ?? e.message;
  }

  /** For subclasses: the output translation `auto` stands for (`crlf` on sockets, as in Tcl). */
  protected set autoOutputTranslation(t: OutputTranslation) {
    this.outTranslationDefault = t;
  }

  // ---------------------------------------------------------------- checks

  private unknownChannel(): SockchanError {
    return new SockchanError(`can not find channel named "${this.name}"`, {
      code: 'ERR_SOCKCHAN_UNKNOWN_CHANNEL',
      errorCode: ['TCL', 'LOOKUP', 'CHANNEL', this.name],
    });
  }

  private notOpenFor(what: 'reading' | 'writing'): SockchanError {
    return new SockchanError(`channel "${this.name}" wasn't opened for ${what}`, {
      code: 'ERR_SOCKCHAN_NOT_OPEN',
      errorCode: ['NONE'],
    });
  }

  /**
   * Checks at the start of an input operation. A write failure no call has reported yet (bytes
   * that failed in the background, after the call that wrote them returned) is reported here,
   * once, as Tcl's CheckChannelErrors reports its unreported error to whatever operation comes
   * next: `error reading "sock5": connection reset by peer`. A stream error that also failed
   * reading is left to the read (it reports its own error).
   */
  private checkRead(): SockchanError | undefined {
    if (this.closed) return this.unknownChannel();
    if (!this.canRead) return this.notOpenFor('reading');
    if (this.writeError !== undefined && this.readError === undefined) return this.takeUnreported('reading');
    return undefined;
  }

  /** Checks at the start of `puts`: as {@link checkRead}, an unreported write failure first. */
  private checkWrite(): SockchanError | undefined {
    if (this.closed) return this.unknownChannel();
    if (!this.canWrite) return this.notOpenFor('writing');
    if (this.writeError !== undefined) return this.takeUnreported('writing');
    return undefined;
  }

  /** `flush` reports an unreported failure itself, with its own prefix (see `takeWriteError`). */
  private checkFlush(): SockchanError | undefined {
    if (this.closed) return this.unknownChannel();
    if (!this.canWrite) return this.notOpenFor('writing');
    return undefined;
  }

  private takeUnreported(op: 'reading' | 'writing'): SockchanError {
    const e = this.writeError as SockchanError;
    this.writeError = undefined;
    return this.ioError(op, e);
  }

  private ioError(op: 'reading' | 'writing' | 'flushing', cause: SockchanError): SockchanError {
    const code = typeof cause.code === 'string' ? cause.code : 'EIO';
    const text = cause.errorCode[0] === 'POSIX' ? (cause.errorCode[2] ?? errnoText(code)) : cause.message;
    return new SockchanError(`error ${op} "${this.name}": ${text}`, {
      code,
      errorCode: cause.errorCode[0] === 'POSIX' ? cause.errorCode : ['POSIX', code, text],
      cause,
    });
  }

  // ---------------------------------------------------------------- input

  /**
   * Tcl's `gets`: the next line without its end. `null` when there is no whole line: then `eof()`
   * or `blocked()` says why. A last partial line before EOF is returned. Blocking mode waits.
   */
  gets(): Promise<string | null> {
    const bad = this.checkRead();
    if (bad !== undefined) return Promise.reject(bad);
    if (this.readWaiters === undefined && this.conn === Conn.Open) {
      const line = this.input.getLine();
      if (line !== undefined) {
        this.blockedFlag = false;
        this.afterConsume();
        if (line === null && this.input.decodeError !== undefined) return Promise.reject(this.decodeFailure());
        return Promise.resolve(line);
      }
    }
    return this.inputOp(ReadKind.Line, undefined, this.blockingMode) as Promise<string | null>;
  }

  /**
   * The input limit of `gets`, in characters (bytes not yet decoded count one each): when more
   * than this is buffered with no line end in it, `gets` (blocking or not, `tryGets`, and the
   * line iterator) fails with `error reading "sock5": line longer than 1048576 characters`
   * (code `ERR_SOCKCHAN_LIMIT`) instead of buffering more. The input stays buffered (`read`
   * and `readBytes` can still take it) and reading from the stream pauses (backpressure).
   * Default {@link DEFAULT_MAX_LINE}; `0` means no limit (Tcl's behaviour). `read()` with no
   * count, or a large count, is bounded by its request, not by this limit.
   */
  get maxLine(): number {
    return this.maxLineChars;
  }

  set maxLine(value: number) {
    parseMaxLine(value);
    this.maxLineChars = value;
    // A larger limit may let a blocked gets go on: look again.
    if (this.readWaiters !== undefined) this.serviceReads();
    this.afterConsume();
  }

  /** The next line, or `undefined` for "needs more data"; throws when the unfinished line passed {@link maxLine}. */
  private takeLine(): string | null | undefined {
    const line = this.input.getLine();
    if (line === undefined && this.maxLineChars > 0 && this.input.pendingInput > this.maxLineChars) {
      throw new SockchanError(`error reading "${this.name}": line longer than ${this.maxLineChars} characters`, {
        code: 'ERR_SOCKCHAN_LIMIT',
        errorCode: ['SOCKCHAN', 'LIMIT', 'LINE', String(this.maxLineChars)],
      });
    }
    return line;
  }

  /**
   * `gets` without waiting, synchronously: the next line when one is buffered, `null` at the end
   * of input, `undefined` when a `gets` would have to wait (or report `blocked()`). A fast path for
   * loops that drain buffered lines without a promise per line; then `await gets()` when it gives
   * `undefined`. Throws what `gets` would reject with.
   */
  tryGets(): string | null | undefined {
    const bad = this.checkRead();
    if (bad !== undefined) throw bad;
    if (this.readWaiters !== undefined || this.conn !== Conn.Open) return undefined;
    const line = this.takeLine();
    if (line === undefined) return undefined;
    this.blockedFlag = false;
    this.afterConsume();
    if (line === null && this.input.decodeError !== undefined) throw this.decodeFailure();
    return line;
  }

  /**
   * Tcl's `read`: `numChars` characters, or everything until EOF. Nonblocking mode gives what is
   * there. Characters are counted after decoding and translation.
   */
  read(numChars?: number): Promise<string> {
    const bad = this.checkRead() ?? checkCount(numChars, 'numChars');
    if (bad !== undefined) return Promise.reject(bad);
    if (numChars === 0) return Promise.resolve('');
    return this.inputOp(ReadKind.Chars, numChars, this.blockingMode) as Promise<string>;
  }

  /**
   * Raw bytes: `numBytes` of them, or everything until EOF (nonblocking: what is there). They
   * bypass the encoding and the translation (like `read` on a channel configured
   * `-translation binary`, without reconfiguring); characters already decoded but unread are
   * given back as their bytes first.
   */
  readBytes(numBytes?: number): Promise<Uint8Array> {
    const bad = this.checkRead() ?? checkCount(numBytes, 'numBytes');
    if (bad !== undefined) return Promise.reject(bad);
    if (numBytes === 0) return Promise.resolve(EMPTY);
    return this.inputOp(ReadKind.Bytes, numBytes, this.blockingMode) as Promise<Uint8Array>;
  }

  /**
   * One try of an input operation: its result, or `undefined` for "needs more data". `read` and
   * `readBytes` in nonblocking mode set `blocked()` from whether they got all they asked for.
   */
  private attemptRead(kind: ReadKind, count: number | undefined, wait: boolean): string | Uint8Array | null | undefined {
    if (kind === ReadKind.Line) return this.takeLine();
    const r = kind === ReadKind.Chars ? this.input.readChars(count, wait) : this.input.readBytes(count, wait);
    if (r === undefined) return undefined;
    if (!wait) this.blockedFlag = !r[1];
    return r[0];
  }

  /** What an operation gives when there is nothing: `null` for `gets`, empty for `read`/`readBytes`. */
  private static nothing(kind: ReadKind): string | Uint8Array | null {
    return kind === ReadKind.Line ? null : kind === ReadKind.Chars ? '' : EMPTY;
  }

  /**
   * Runs an input operation: at once when it can complete (or in nonblocking mode), otherwise
   * when data arrives.
   */
  private inputOp(kind: ReadKind, count: number | undefined, wait: boolean): Promise<string | Uint8Array | null> {
    if (this.conn === Conn.Failed) return Promise.reject(this.ioError('reading', this.connectError as SockchanError));
    if (!wait && this.readWaiters === undefined) {
      if (this.conn === Conn.Connecting) {
        this.blockedFlag = true;
        return Promise.resolve(Channel.nothing(kind));
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
      if (r === undefined) {
        const err = this.pendingReadError();
        if (err !== undefined) return Promise.reject(err);
        return Promise.resolve(Channel.nothing(kind));
      }
      if (r === null) {
        this.blockedFlag = false;
        if (this.input.decodeError !== undefined) return Promise.reject(this.decodeFailure());
      }
      return Promise.resolve(r);
    }
    const waiter = new ReadWaiter(kind, count, wait);
    const promise = waiterPromise(waiter);
    (this.readWaiters ??= []).push(waiter);
    this.serviceReads();
    return promise;
  }

  /** Tries the waiting operation `w`: true when it settled (resolved or rejected). */
  private attemptWaiter(w: ReadWaiter): boolean {
    if (this.closed) {
      w.reject(this.unknownChannel());
      return true;
    }
    if (this.conn === Conn.Failed) {
      w.reject(this.ioError('reading', this.connectError as SockchanError));
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

  private decodeFailure(): SockchanError {
    const cause = this.input.decodeError;
    return new SockchanError(`error reading "${this.name}": ${errnoText('EILSEQ')}`, {
      code: 'EILSEQ',
      errorCode: ['POSIX', 'EILSEQ', errnoText('EILSEQ')],
      cause,
    });
  }

  /** A read error to report now (a stream error other than a reset), once. */
  private pendingReadError(): SockchanError | undefined {
    if (this.input.decodeError !== undefined) return this.decodeFailure();
    const e = this.readError;
    if (e === undefined) return undefined;
    return this.ioError('reading', e);
  }

  /** Runs waiting input operations in order while they complete. */
  private serviceReads(): void {
    const waiters = this.readWaiters;
    if (waiters === undefined) return;
    while (waiters.length > 0) {
      if (!this.attemptWaiter(waiters[0] as ReadWaiter)) break;
      waiters.shift();
    }
    if (waiters.length === 0) this.readWaiters = undefined;
    this.afterConsume();
  }

  /** Read on demand: resumes the stream once the buffered input is below the bound. */
  private afterConsume(): void {
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

  private readLimit(): number {
    return Math.max(256 * 1024, 4 * (this.outputBuffer?.bufferSize ?? DEFAULT_BUFFER_SIZE));
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
      if (fromEventLoop && !this.eventScheduled && !this.readableRunning) this.runReadable();
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

  /** Pauses the stream while more than `factor` times the read bound is buffered and nobody waits. */
  private boundInput(factor: number): void {
    if (!this.pausedByUs && this.readWaiters === undefined && this.canRead && this.input.rawBytes + this.input.bufferedChars > factor * this.readLimit()) {
      this.pausedByUs = true;
      this.stream?.pause();
    }
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

  private isWriteSideError(code: string): boolean {
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

  private failOutputWaiters(): void {
    const waiters = this.drainWaiters;
    // Runs on every close: build the error only when someone waits for it (it carries a stack).
    if (waiters === undefined) return;
    this.drainWaiters = undefined;
    const err = this.writeError ?? this.reportSticky();
    for (const w of waiters) w.reject(err);
  }

  /** Tcl's `eof`: true once an input operation hit the end of the input. Sticky. */
  eof(): boolean {
    if (this.closed) throw this.unknownChannel();
    return this.input.eof;
  }

  /** Tcl's `fblocked`: the last input operation stopped for lack of data (nonblocking mode). */
  blocked(): boolean {
    if (this.closed) throw this.unknownChannel();
    return this.blockedFlag;
  }

  /**
   * Tcl's `chan pending`: bytes of buffered input (decoded characters count one each), or bytes
   * written but not yet handed to the kernel (this channel's buffer and the stream's queue).
   */
  pending(which: 'input' | 'output'): number {
    if (this.closed) throw this.unknownChannel();
    if (which === 'input') return this.canRead ? this.input.pendingInput : -1;
    if (which === 'output') {
      if (!this.canWrite) return -1;
      return (this.outputBuffer?.exactBytes ?? 0) + this.preconnectBytes + (this.stream?.writableLength ?? 0);
    }
    throw new SockchanError(`bad option "${valueText(which)}": must be input or output`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }

  // ---------------------------------------------------------------- output

  /**
   * Tcl's `puts`: writes text (translated and encoded) or bytes (as they are), then a newline
   * unless `nonewline`. Buffering decides when bytes go out. Blocking mode waits only while the
   * stream's queue is full (backpressure); nonblocking mode never waits.
   */
  puts(data: string | Uint8Array, opts?: { nonewline?: boolean }): Promise<void> {
    const bad = this.checkWrite();
    if (bad !== undefined) return Promise.reject(bad);
    try {
      this.write(data, opts?.nonewline !== true);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.blockingMode && this.stream !== undefined && this.stream.writableNeedDrain) return this.waitDrain('writing');
    return RESOLVED;
  }

  /**
   * `puts` without a promise, synchronously (like `stream.write`): buffers or sends as `puts`
   * does and returns `false` when the stream's queue is full and a blocking writer should wait
   * (`await flush()`) before writing more. Throws what `puts` would reject with.
   */
  tryPuts(data: string | Uint8Array, opts?: { nonewline?: boolean }): boolean {
    const bad = this.checkWrite();
    if (bad !== undefined) throw bad;
    this.write(data, opts?.nonewline !== true);
    return this.stream === undefined || !this.stream.writableNeedDrain;
  }

  /** Shared by puts and tryPuts: buffers `data` and sends what the buffering mode says. */
  private write(data: string | Uint8Array, newline: boolean): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new SockchanError('puts: data must be a string or a Uint8Array', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
    }
    const output = this.output;
    const out = output.write(data, newline);
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

  /** The sending part of {@link write}: `lent` is the caller's array when `out` may be a view of it. */
  private writeOut(out: Buffer | undefined, lent: Uint8Array | undefined): void {
    if (out !== undefined) {
      let err = this.takeWriteError('writing');
      if (err !== undefined) throw err;
      this.send(out, lent !== undefined && out.buffer === lent.buffer);
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

  /**
   * Tcl's `flush`: sends everything buffered. Blocking mode resolves once the bytes are handed to
   * the kernel (waiting for an async connect first); nonblocking mode returns at once.
   */
  flush(): Promise<void> {
    const bad = this.checkFlush();
    if (bad !== undefined) return Promise.reject(bad);
    if (this.conn === Conn.Failed) return Promise.reject(this.ioError('flushing', this.connectError as SockchanError));
    const out = this.stringWrites ? (this.output.takeLatin1Text() ?? this.output.takeAll()) : this.output.takeAll();
    // A failure waiting to be reported, or bytes for a dead stream: this flush fails and its
    // bytes are dropped (Tcl's flush discards them too; a later close is then silent).
    const err = this.writeError !== undefined || out !== undefined ? this.takeWriteError('flushing') : undefined;
    if (err !== undefined) return Promise.reject(err);
    if (!this.blockingMode) {
      if (out !== undefined) {
        this.send(out);
        // Failed at once: this flush reports it (Tcl's nonblocking flush does too).
        const now = this.writeError !== undefined ? this.takeWriteError('flushing') : undefined;
        if (now !== undefined) return Promise.reject(now);
      }
      return RESOLVED;
    }
    if (this.conn === Conn.Connecting) {
      if (out !== undefined) this.send(out);
      return this.waitConnect().then(() => this.flush());
    }
    return this.sendAndWait(out, 'flushing');
  }

  /** Reports a pending write failure once (Tcl's unreported error), with the op's prefix. */
  private takeWriteError(op: 'writing' | 'flushing'): SockchanError | undefined {
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
   */
  private reportSticky(): SockchanError {
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
   */
  private noteFailedWrite(s: Duplex): void {
    const err = s.errored;
    if (err === null || err === this.reportedStreamError) return;
    this.reportedStreamError = err;
    this.writeError = this.claimFailure(err);
  }

  /** A write failure `err` of the stream, reported now: the kernel's errno once, then EPIPE. */
  private claimFailure(err: unknown): SockchanError {
    const code = errnoCodeOf(err);
    if (code === undefined) return this.reportSticky();
    if (this.writeErrorSticky?.code !== 'EPIPE') this.writeErrorSticky = posixError('', 'EPIPE');
    return posixError('', code, err);
  }

  /**
   * Hands bytes to the stream (or queues them while connecting). A string is `latin1` text (one
   * byte per character, from {@link OutputBuffer.takeLatin1Text}), given only to a `net.Socket`.
   */
  private send(buf: Buffer | string, borrowed = false): void {
    const s = this.stream;
    if (s === undefined) {
      if (this.conn === Conn.Connecting) {
        const b = typeof buf === 'string' ? Buffer.from(buf, 'latin1') : borrowed ? Buffer.from(buf) : buf;
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
    else if (borrowed) writeCopy(s, buf, this.stringWrites);
    else s.write(buf);
    // Written through or queued: nothing failed (one field read on the success path).
    if (s.writableLength === 0) this.noteFailedWrite(s);
  }

  /**
   * Sends the whole buffers waiting, as a string where {@link stringWrites} allows. `lent`: the
   * caller's array of the write in progress (a whole buffer may be a view of it).
   */
  private sendFull(lent?: Uint8Array): void {
    const text = this.stringWrites ? this.output.takeFullLatin1Text() : undefined;
    if (text !== undefined) {
      this.send(text);
      return;
    }
    const full = this.output.takeFull();
    if (full !== undefined) this.send(full, lent !== undefined && full.buffer === lent.buffer);
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

  /** Sends `out` (if any) and resolves once everything written so far reached the kernel. */
  private sendAndWait(out: Buffer | string | undefined, op: 'flushing' | 'writing'): Promise<void> {
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
    if (out !== undefined) {
      // The write's own callback tells when these bytes (and so all before them) are written:
      // no empty write of our own after them, which costs a TLS stream a pass through its engine.
      let waiter: WriteDone | undefined;
      const done: WriteDone = (err) => waiter?.(err);
      if (typeof out === 'string') writeLatin1(s, out, done);
      else s.write(out, done);
      if (s.writableLength === 0) {
        // Written through to the kernel at once (the usual case on a socket): nothing to wait
        // for. Or Node's try-write failed at once: the stream is errored (not yet destroyed,
        // its 'error' event is on the next tick), and this call reports it.
        this.noteFailedWrite(s);
        const failed = this.writeError;
        if (failed === undefined) return RESOLVED;
        this.writeError = undefined;
        return Promise.reject(this.ioError(op, failed));
      }
      return new Promise<void>((resolve, reject) => {
        waiter = (err) => this.settleWrite(s, err, op, resolve, reject);
      });
    }
    return new Promise<void>((resolve, reject) => {
      s.write(EMPTY, (err?: Error | null) => this.settleWrite(s, err, op, resolve, reject));
    });
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

  private waitDrain(op: 'writing' | 'flushing'): Promise<void> {
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

  private waitConnect(): Promise<void> {
    if (this.conn !== Conn.Connecting) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      (this.connectWaiters ??= []).push({ resolve, reject });
    });
  }

  // ---------------------------------------------------------------- close

  /**
   * Tcl's `close`: flushes, then closes. `'write'` half-closes (flush, then FIN; the channel
   * stays readable); `'read'` closes the input side. Idempotent: closing a closed channel does
   * nothing. Nonblocking mode resolves at once and still delivers every queued byte.
   */
  close(direction?: 'read' | 'write'): Promise<void> {
    if (this.closed) {
      if (direction === undefined) return RESOLVED;
      return Promise.reject(this.unknownChannel());
    }
    if (direction !== undefined) {
      if (direction !== 'read' && direction !== 'write') {
        return Promise.reject(badDirection(direction));
      }
      return direction === 'write' ? this.closeWrite() : this.closeRead();
    }
    return this.closeAll();
  }

  private halfCloseError(): SockchanError {
    return new SockchanError('Half-close of write-side not possible, side not opened or already closed', {
      code: 'ERR_SOCKCHAN_NOT_OPEN',
      errorCode: ['NONE'],
    });
  }

  private closeWrite(): Promise<void> {
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

  private closeRead(): Promise<void> {
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

  /** Output eofchar and encoder end are added once, when the write side closes. */
  private collectTail(): Buffer | undefined {
    // Never written to nor configured: no bytes, no encoder, no eofchar, so no tail.
    const output = this.outputBuffer;
    if (!this.canWrite || output === undefined) return undefined;
    const buffered = output.takeAll();
    const tail = output.finish();
    if (buffered === undefined) return tail;
    if (tail === undefined) return buffered;
    return Buffer.concat([buffered, tail]);
  }

  private closeAll(): Promise<void> {
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
    const s = this.stream as StreamWithChannel;
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

  // ---------------------------------------------------------------- stream replacement

  /**
   * Swaps the stream under the channel in place: the same channel object goes on over the
   * stream `wrap` returns (STARTTLS: `@sockchan/tls`'s `import` wraps the socket in TLS).
   * Options, handlers and the name stay; the input state starts afresh.
   *
   * In order: output the channel buffered goes out on the current stream (Tcl flushes a channel
   * before it stacks a transformation on it); the channel lets go of the current stream without
   * closing it, paused (what it receives from then on stays in it); `wrap(current, unread)` is called with the bytes received and not consumed
   * (decoded-but-unread text given back as its bytes, then what the stream itself held), which
   * are never read as input of the new stream by the channel: they are the wrapper's to feed to
   * it (a TLS engine parses them as TLS records, so plaintext sent before the switch can never
   * be read as protected data) or to drop. Reading goes on from the new stream.
   *
   * Throws when the channel is closed, not connected, half-closed, or a read is waiting
   * (`channel "sock5" is busy`). When `wrap` throws, the channel keeps the current stream and
   * its unread bytes, and the error is rethrown.
   */
  replaceStream(wrap: (current: Duplex, unread: Buffer) => Duplex): void {
    if (this.closed) throw this.unknownChannel();
    const old = this.stream as StreamWithChannel | undefined;
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
    old[kChannel] = undefined;
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

  // ---------------------------------------------------------------- events

  /**
   * Tcl's `chan event readable`: `handler` runs while input is buffered or EOF was seen
   * (level-triggered; EOF is sticky). After a `gets`/`read` reported `blocked()` on a partial line
   * or character, it waits for new bytes. A handler returning a promise is not run again until it
   * settles. `null` removes it.
   */
  onReadable(handler: ChannelEventHandler | null): void {
    if (this.closed) throw this.unknownChannel();
    if (!this.canRead && handler !== null) {
      throw new SockchanError('channel is not readable', { code: 'ERR_SOCKCHAN_NOT_OPEN', errorCode: ['NONE'] });
    }
    this.readableHandler = handler;
    this.scheduleEvents();
  }

  /**
   * Tcl's `chan event writable`: `handler` runs while output can be accepted without waiting, and
   * once when an async connect succeeded or failed. Same promise rule as {@link onReadable}.
   */
  onWritable(handler: ChannelEventHandler | null): void {
    if (this.closed) throw this.unknownChannel();
    if (!this.canWrite && handler !== null) {
      throw new SockchanError('channel is not writable', { code: 'ERR_SOCKCHAN_NOT_OPEN', errorCode: ['NONE'] });
    }
    this.writableHandler = handler;
    this.scheduleEvents();
  }

  private readableNow(): boolean {
    if (!this.canRead || this.conn === Conn.Connecting) return false;
    if (this.conn === Conn.Failed) return false;
    if (this.streamEnded || this.readError !== undefined) return true;
    // No input buffer yet: no byte has arrived.
    const input = this.inputBuffer;
    if (input === undefined) return false;
    if (input.exhausted) return true;
    return input.hasBufferedInput && !this.needMoreData;
  }

  private writableNow(): boolean {
    if (!this.canWrite) return false;
    if (this.connectOutcomePending) return true;
    if (this.conn !== Conn.Open) return false;
    const s = this.stream;
    return s !== undefined && !s.writableNeedDrain && !s.destroyed;
  }

  private scheduleEvents(): void {
    if (this.eventScheduled || this.closed) return;
    const r = this.readableHandler !== null && !this.readableRunning && this.readableNow();
    const w = this.writableHandler !== null && !this.writableRunning && this.writableNow();
    if (!r && !w) return;
    this.deferEvents();
  }

  /** Runs the handlers on the next turn (runEvents looks at their conditions then). */
  private deferEvents(): void {
    this.eventScheduled = true;
    setImmediate(runEvents, this);
  }

  /** Runs the readable handler now (new input from a socket read); level-triggered re-runs stay deferred. */
  private runReadable(): void {
    this.runReadableHandler();
    // The rest of this turn's reads wait for the deferred run, which sees them all at once: one
    // run per 64 KiB chunk (a bulk sink) would cost far more than the one run per burst before.
    if (!this.eventScheduled && !this.closed) this.deferEvents();
  }

  /** Runs the readable handler if its condition holds and it is not still running. */
  private runReadableHandler(): void {
    const rh = this.readableHandler;
    if (rh !== null && !this.readableRunning && this.readableNow()) {
      this.invoke(rh, true);
      // A handler that returned (or threw) at once had its turn: hold it to the plain bound.
      if (!this.readableRunning && !this.closed && this.inputBuffer !== undefined) this.boundInput(1);
    }
  }

  /** @internal One turn of the event loop: runs the handlers whose condition holds. */
  runEvents(): void {
    this.eventScheduled = false;
    if (this.closed) return;
    this.runReadableHandler();
    const wh = this.writableHandler;
    if (!this.closed && wh !== null && wh === this.writableHandler && !this.writableRunning && this.writableNow()) {
      if (this.connectOutcomePending) this.connectOutcomePending = false;
      this.invoke(wh, false);
    }
    this.scheduleEvents();
  }

  private invoke(handler: ChannelEventHandler, readable: boolean): void {
    let result: unknown;
    try {
      result = handler(this);
    } catch (err) {
      this.handlerFailed(err, readable);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      if (readable) this.readableRunning = true;
      else this.writableRunning = true;
      (result as Promise<unknown>).then(
        () => this.handlerSettled(readable),
        (err: unknown) => {
          this.handlerSettled(readable);
          this.handlerFailed(err, readable);
        },
      );
    }
  }

  private handlerSettled(readable: boolean): void {
    if (readable) {
      this.readableRunning = false;
      if (!this.closed && this.inputBuffer !== undefined) this.boundInput(1);
    } else this.writableRunning = false;
    this.scheduleEvents();
  }

  /**
   * A handler threw: reported on stderr like Tcl's default background error handler, and the
   * handler is removed (Tcl keeps it, which loops forever when the error repeats).
   */
  private handlerFailed(err: unknown, readable: boolean): void {
    if (readable) this.readableHandler = null;
    else this.writableHandler = null;
    process.stderr.write(`${this.name} ${readable ? 'readable' : 'writable'} handler: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }

  // ---------------------------------------------------------------- iteration

  /** Lines until EOF (waits in either mode; a last partial line is included). */
  async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    for (;;) {
      const bad = this.checkRead();
      if (bad !== undefined) throw bad;
      let line: string | null;
      const now = this.readWaiters === undefined && this.conn === Conn.Open ? this.takeLine() : undefined;
      if (now !== undefined) {
        this.afterConsume();
        line = now;
      } else {
        line = (await this.inputOp(ReadKind.Line, undefined, true)) as string | null;
      }
      if (line === null) return;
      yield line;
    }
  }

  // ---------------------------------------------------------------- configure

  /** Tcl's full option listing: generic options, then the driver's listed ones. */
  configure(): ChannelOptions & Record<string, unknown>;
  /** One option's value; `name` with or without its dash, a unique prefix accepted. */
  configure(name: string): unknown;
  /** Sets options (applied in order; on a bad value, the earlier ones stay applied, as in Tcl). */
  configure(settings: ChannelSettings & Record<string, unknown>): void;
  configure(arg?: string | (ChannelSettings & Record<string, unknown>)): unknown {
    if (this.closed) throw this.unknownChannel();
    if (arg === undefined) {
      const all: Record<string, unknown> = {};
      for (const n of GENERIC_OPTION_NAMES) all[n] = this.getGeneric(n);
      for (const d of this.driverOptions()) if (d.listed) all[d.name] = this.getDriverOption(d.name);
      return all;
    }
    if (typeof arg === 'string') {
      const g = matchGenericOption(arg);
      if (g !== undefined) return this.getGeneric(g);
      const word = optionWord(arg);
      if (word === 'profile') return this.profileName;
      const d = matchUniquePrefix(word, this.driverOptions().map((o) => o.name));
      if (d !== undefined) return this.getDriverOption(d);
      throw badOptionError(arg, this.getOptionNames());
    }
    if (typeof arg !== 'object' || arg === null) throw badOptionError(valueText(arg), this.getOptionNames());
    for (const [key, value] of Object.entries(arg)) {
      if (value === undefined) continue;
      const word = optionWord(key);
      const g = matchGenericOption(word);
      if (g !== undefined) {
        this.setGeneric(g, value);
        continue;
      }
      if (word === 'profile') {
        this.setProfile(parseProfile(value as string));
        continue;
      }
      const settable = this.driverOptions().filter((o) => o.settable).map((o) => o.name);
      const d = matchUniquePrefix(word, settable);
      if (d === undefined) throw badOptionError(key, this.setOptionNames());
      this.setDriverOption(d, value);
    }
    return undefined;
  }

  private getOptionNames(): string[] {
    return [...GENERIC_OPTION_NAMES, ...this.driverOptions().filter((o) => o.namedOnGet).map((o) => o.name)];
  }

  private setOptionNames(): string[] {
    return [...GENERIC_OPTION_NAMES, ...this.driverOptions().filter((o) => o.settable).map((o) => o.name)];
  }

  private getGeneric(name: (typeof GENERIC_OPTION_NAMES)[number]): unknown {
    switch (name) {
      case 'blocking':
        return this.blockingMode;
      case 'buffering':
        return this.output.buffering;
      case 'buffersize':
        return this.output.bufferSize;
      case 'encoding':
        return this.encodingName;
      case 'eofchar':
        return [this.input.eofChar, this.output.eofChar];
      case 'translation':
        return [this.inTranslation, this.output.translation];
    }
  }

  private setGeneric(name: (typeof GENERIC_OPTION_NAMES)[number], value: unknown): void {
    switch (name) {
      case 'blocking':
        this.blockingMode = parseBlocking(value as string);
        if (this.readWaiters !== undefined) this.serviceReads();
        this.scheduleEvents();
        return;
      case 'buffering':
        this.output.buffering = parseBuffering(valueText(value));
        return;
      case 'buffersize':
        this.output.bufferSize = parseBuffersize(value as string);
        return;
      case 'encoding':
        this.setEncoding(valueText(value));
        return;
      case 'eofchar': {
        const [i, o] = parseEofcharValue(value as string);
        this.input.setEofChar(i);
        this.output.eofChar = o;
        return;
      }
      case 'translation': {
        const [i, o] = splitTranslationValue(value as string);
        if (i !== '') this.setInTranslation(parseTranslationWord(i));
        if (o !== '') this.setOutTranslation(parseTranslationWord(o));
        return;
      }
    }
  }

  private setEncoding(name: string): void {
    const canonical = name === '' ? 'binary' : resolveEncodingName(name);
    if (canonical === this.encodingName) return;
    this.encodingName = canonical;
    this.input.setDecoder(this.newDecoder());
    this.input.tclUtf8Hold = canonical === 'utf-8';
    this.output.setEncoder(canonical, () => createEncoder(canonical, { profile: this.profileName }));
  }

  private setProfile(profile: ChannelProfile): void {
    if (profile === this.profileName) return;
    this.profileName = profile;
    const enc = this.encodingName;
    this.input.setDecoder(this.newDecoder());
    this.output.setEncoder(enc, () => createEncoder(enc, { profile }));
  }

  private setInTranslation(t: Translation): void {
    if (t === 'binary') {
      this.setEncoding('binary');
      this.input.setEofChar('', false);
      this.inTranslation = 'lf';
      this.input.setTranslation('lf');
      return;
    }
    this.inTranslation = t;
    this.input.setTranslation(t);
  }

  private setOutTranslation(t: Translation): void {
    if (t === 'binary') {
      this.setEncoding('binary');
      this.output.eofChar = '';
      this.output.translation = 'lf';
      return;
    }
    this.output.translation = t === 'auto' ? this.outTranslationDefault : t;
  }
}



function settleAll(waiters: Waiter[] | undefined): void {
  if (waiters === undefined) return;
  for (const w of waiters) w.resolve();
}



function sendFullBuffers(ch: Channel): void {
  ch.sendFullBuffers();
}
function runEvents(ch: Channel): void {
  ch.runEvents();
}
