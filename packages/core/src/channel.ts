/**
 * `Channel`: Tcl's channel (gets, read, puts, flush, close, eof, fblocked, chan pending,
 * fconfigure, fileevent) over any Node `Duplex`. The pure layers (`InputBuffer`, `OutputBuffer`)
 * do decoding, translation and buffering; the channel is the I/O shell: it moves bytes between
 * them and the stream, waits in blocking mode, and runs Tcl's level-triggered events.
 *
 * This file is the facade: the public methods and their docs. The machinery is in one file per
 * concern, layers of this one class (see channel-state.ts): channel-output.ts (puts, flush,
 * write errors), channel-input.ts (read service, need-more-data, read bound), event-scheduler.ts
 * (readable/writable handlers), stream-attachment.ts (stream hooks, replaceStream), channel-lifecycle.ts
 * (connect outcome, close, half-close), channel-config.ts (configure).
 */
import { Buffer } from 'node:buffer';
import type { OnReadOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { SockchanError, badDirection, valueText } from '@sockchan/base';
import { nextChannelName, openNames } from './channel-names.js';
import { ReadKind, checkCount } from './read-waiter.js';
import { ONREAD_BUFFER_SIZE, onSocketRead } from './stream-hooks.js';
import { GENERIC_OPTION_NAMES, badOptionError, matchGenericOption, optionWord, parseMaxLine, parseProfile } from './options.js';
import type { ChannelOptions, ChannelSettings } from './options.js';
import { matchUniquePrefix } from '@sockchan/base';
import { tlsTakesAtOnce } from './socket-writes.js';
import { Conn, EMPTY, RESOLVED } from './channel-state.js';
import { ChannelConfig } from './channel-config.js';
import type { InputBuffer } from './input.js';

export { DEFAULT_MAX_LINE } from './channel-state.js';
export { channelNames, nextChannelName } from './channel-names.js';

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

/** The default constructor options (shared: nothing writes to them). */
const NO_OPTIONS: ChannelConstructorOptions = Object.freeze({});

/** True when constructor options hold channel settings (anything but `name` and `maxLine`). */
function hasSettings(options: ChannelConstructorOptions): boolean {
  for (const key in options) if (key !== 'name' && key !== 'maxLine') return true;
  return false;
}

/**
 * A Tcl channel over a Node `Duplex` (`net.Socket`, a child process's stdio pair, an in-memory pair).
 *
 * Blocking mode (the default): promises wait for I/O as Tcl's commands do. Nonblocking mode
 * (`configure({ blocking: false })`): nothing waits; `gets` gives `null` with `blocked()` true,
 * `puts` queues and flushes in the background, `close` resolves at once and still delivers every byte.
 */
export class Channel extends ChannelConfig {
  constructor(stream?: Duplex, options: ChannelConstructorOptions = NO_OPTIONS) {
    super(options.name ?? nextChannelName());
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

  /**
   * `gets` without waiting, synchronously: the next line when one is buffered, `null` at the end
   * of input, `undefined` when a `gets` would have to wait (or report `blocked()`, which it then
   * does in nonblocking mode). A fast path for loops that drain buffered lines without a promise
   * per line; then `await gets()` when it gives `undefined`. As after a `gets` that found no whole
   * line, a readable handler runs again only when more bytes arrive. Throws what `gets` would
   * reject with.
   */
  tryGets(): string | null | undefined {
    const bad = this.checkRead();
    if (bad !== undefined) throw bad;
    if (this.conn === Conn.Failed) throw this.connectFailure();
    if (this.readWaiters !== undefined || this.conn !== Conn.Open) return undefined;
    const line = this.takeLine();
    // takeLine made the input buffer.
    const input = this.inputBuffer as InputBuffer;
    if (line === undefined) {
      // As a nonblocking gets: a readable handler does not run again until more bytes arrive
      // (it would run every turn on a partial line), and a paused stream resumes for the line.
      if (!this.blockingMode) this.blockedFlag = !input.exhausted;
      this.needMoreData = true;
      this.afterConsume();
      const err = this.readError === undefined && input.decodeError === undefined ? undefined : this.pendingReadError();
      if (err !== undefined) throw err;
      return undefined;
    }
    this.blockedFlag = false;
    this.afterConsume();
    if (line === null && input.decodeError !== undefined) throw this.decodeFailure();
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
   * `read` without waiting, synchronously: the characters `read(numChars)` would give at once,
   * `''` at the end of input (then `eof()` is true), or `undefined` when `read` would wait
   * (blocking mode) or find nothing yet (nonblocking mode, where `read` gives `''` with
   * `blocked()` true). Nonblocking, a partial result sets `blocked()` as `read` does. A fast path
   * for readable handlers, like Tcl's `read` in a `fileevent` script: no promise per call. Throws
   * what `read` would reject with.
   */
  tryRead(numChars?: number): string | undefined {
    return this.tryInput(ReadKind.Chars, numChars) as string | undefined;
  }

  /** {@link tryRead} for raw bytes: `readBytes(numBytes)` without waiting, synchronously. */
  tryReadBytes(numBytes?: number): Uint8Array | undefined {
    return this.tryInput(ReadKind.Bytes, numBytes) as Uint8Array | undefined;
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

  /**
   * Tcl's `puts`: writes text (translated and encoded) or bytes (as they are), then a newline
   * unless `nonewline`. Buffering decides when bytes go out. Blocking mode waits only while the
   * stream's queue is full (backpressure); nonblocking mode never waits. On a TLS socket, bytes
   * its engine took during the write (nothing was queued before them) are not waited for.
   */
  puts(data: string | Uint8Array, opts?: { nonewline?: boolean }): Promise<void> {
    const bad = this.checkWrite();
    if (bad !== undefined) return Promise.reject(bad);
    const s = this.stream;
    // A TLS socket with nothing queued: what this puts sends (one write at most) goes into its
    // engine during the write. (`syncWriteDone`, a plain socket, skips the check: one field.)
    const tlsIdle = this.blockingMode && s !== undefined && !this.syncWriteDone && tlsTakesAtOnce(s);
    try {
      this.write(data, opts?.nonewline !== true);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.blockingMode && s !== undefined && s.writableNeedDrain) {
      // The TLS engine encrypted these bytes during the write, with nothing queued before them:
      // they are out of the caller's hands and nothing waits behind them, as after a write(2)
      // that took them all. Waiting for 'drain' cost a turn of the event loop per write (Node
      // calls a TLS write back from an immediate, and the continuation of this promise runs
      // after every immediate of the turn). The next puts finds the write in progress and waits.
      if (tlsIdle) return RESOLVED;
      return this.waitDrain('writing');
    }
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
    this.swapStream(wrap);
  }

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
    for (const [key, value] of Object.entries(arg)) if (value !== undefined) this.configureOne(key, value);
    return undefined;
  }

  /**
   * Sets one option of a `configure(settings)` call (`key` as given: with or without its dash, a
   * unique prefix). A subclass with options of its own takes those and passes the rest on, so
   * that one call with several options costs no object per option.
   */
  protected configureOne(key: string, value: unknown): void {
    const word = optionWord(key);
    const g = matchGenericOption(word);
    if (g !== undefined) {
      this.setGeneric(g, value);
      return;
    }
    if (word === 'profile') {
      this.setProfile(parseProfile(value as string));
      return;
    }
    const settable = this.driverOptions().filter((o) => o.settable).map((o) => o.name);
    const d = matchUniquePrefix(word, settable);
    if (d === undefined) throw badOptionError(key, this.setOptionNames());
    this.setDriverOption(d, value);
  }
}
