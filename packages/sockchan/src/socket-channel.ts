import type { Socket } from 'node:net';
import { SockchanError, displayAddress, matchUniquePrefix, parseTclBoolean, posixError, toSockchanError } from '@sockchan/base';
import type { AddressTriple } from '@sockchan/base';
import { Channel, badOptionError, matchGenericOption, optionWord } from '@sockchan/core';
import type { ChannelOptions, ChannelSettings, DriverOptionSpec } from '@sockchan/core';
import type { Attempt } from '@sockchan/async-connect';
import { reverseName } from './reverse.js';

/**
 * `SocketChannel`: a Tcl socket channel. Core's `Channel` does the I/O; this class adds what Tcl's
 * TCP driver adds: the read-only options `-error`, `-peername`, `-sockname`, `-connecting`, Tcl 9's
 * settable `-keepalive` and `-nodelay`, reverse lookups that never block, and the async-connect
 * life cycle (created before the connection exists, then connected or failed).
 */

/**
 * A socket's `sockname`/`peername`: the `[address, hostName, port]` triple, or `''` when there is
 * no such end yet: while an async connect runs, and (`sockname`) after a failed connect whose local
 * end is not known (see {@link SocketChannel.configure}).
 */
export type SocketAddressValue = AddressTriple | '';

/**
 * `configure()` of a socket: the generic options, then `peername` and `sockname`, exactly Tcl
 * 8.6.13's `fconfigure $sock` listing. `error`, `connecting`, `keepalive` and `nodelay` are
 * queried by name.
 */
export interface SocketChannelOptions extends ChannelOptions {
  /** The peer's `[address, hostName, port]`; absent from the listing after a failed async connect. */
  peername?: SocketAddressValue;
  /**
   * The local `[address, hostName, port]`; after a failed async connect, the local end of the last
   * attempt (as Tcl), `''` when that attempt never had one (its bind failed).
   */
  sockname: SocketAddressValue;
}

/** Settable options of a socket: the generic ones plus Tcl 9's `keepalive` and `nodelay`. */
export interface SocketChannelSettings extends ChannelSettings {
  /** `SO_KEEPALIVE`, a Tcl boolean. */
  keepalive?: boolean | number | string;
  /** `TCP_NODELAY`, a Tcl boolean. */
  nodelay?: boolean | number | string;
}

/** Options of `new SocketChannel(socket, options)`, beyond the channel settings. */
export interface SocketChannelConstructorOptions extends SocketChannelSettings {
  /** The channel's name; default `sock` followed by a process-unique number. */
  name?: string;
  /**
   * Reverse-resolve the two addresses for `sockname`/`peername` (default true). `false` is Tcl's
   * `::tcl::unsupported::noReverseDNS`: the host name is always the address.
   */
  reverseLookup?: boolean;
  /**
   * The input limit of `gets` in characters (see `Channel.maxLine`): a non-negative safe integer,
   * `0` for no limit; default `DEFAULT_MAX_LINE` (1 MiB). A bad value throws `ERR_SOCKCHAN_BAD_VALUE`.
   */
  maxLine?: number;
  /**
   * The socket is a Unix-domain one on this path (`@name` for a Linux abstract name): `sockname`
   * and `peername` are then `[path, path, 0]` (the one name the connection has: a client end
   * is normally unnamed), and nothing is reverse-resolved.
   */
  path?: string;
}

/**
 * Driver options in the order Tcl names them in "bad option" messages (`-connecting, -peername,
 * or -sockname`); the full listing takes the `listed` ones (`peername sockname`), as Tcl 8.6.13.
 * `error` comes last so that `-e`, ambiguous among the generic options, reads `-error` as in Tcl
 * (item 46). Tcl 9's `keepalive` and `nodelay` answer by name but stay out of the listing and of
 * the "bad option" texts, which remain Tcl 8.6.13's; this class sets them itself (not through
 * core's settable list) for the same reason.
 */
const DRIVER_OPTIONS: readonly DriverOptionSpec[] = [
  { name: 'connecting', listed: false, namedOnGet: true, settable: false },
  { name: 'peername', listed: true, namedOnGet: true, settable: false },
  { name: 'sockname', listed: true, namedOnGet: true, settable: false },
  { name: 'keepalive', listed: false, namedOnGet: false, settable: false },
  { name: 'nodelay', listed: false, namedOnGet: false, settable: false },
  { name: 'error', listed: false, namedOnGet: false, settable: false },
];

/** After a failed async connect Tcl leaves `-peername` out of the full listing (querying it fails). */
const DRIVER_OPTIONS_FAILED: readonly DriverOptionSpec[] = DRIVER_OPTIONS.map((o) =>
  o.name === 'peername' ? { ...o, listed: false } : o,
);

const SOCKET_OPTION_NAMES = ['keepalive', 'nodelay'] as const;

const DEFAULT_RESOLVE_TIMEOUT_MS = 2000;

/** Shared by every channel without attempts (accepted ones): idle servers hold thousands. */
const NO_ATTEMPTS: readonly Attempt[] = Object.freeze([]);
const LOOKUPS_DONE: Promise<void> = Promise.resolve();
/** The default options (shared: nothing writes to them). */
const NO_OPTIONS: SocketChannelConstructorOptions = Object.freeze({});

interface Endpoint {
  readonly address: string;
  readonly port: number;
  host: string | undefined;
}

const enum State {
  Connecting = 0,
  Connected = 1,
  Failed = 2,
}

/**
 * A Tcl socket channel: `gets`, `read`, `puts`, `flush`, `close` (and half-close), events and
 * `configure` as in Tcl, over a TCP connection. Made by `socket()`, `socket.server()` (accepted
 * connections), or `new SocketChannel(connectedSocket)` around a `net.Socket` of your own.
 *
 * Options beyond the generic ones: `error` (the async connect's failure, cleared once read),
 * `sockname` and `peername` (`[address, hostName, port]`), `connecting`, and Tcl 9's `keepalive`
 * and `nodelay` (queried and set by name; the full listing is Tcl 8.6.13's).
 */
export class SocketChannel extends Channel {
  #state: State = State.Connecting;
  #socket: Socket | undefined;
  #local: Endpoint | undefined;
  #peer: Endpoint | undefined;
  #error = '';
  #keepalive = false;
  #nodelay = false;
  readonly #reverseLookup: boolean;
  readonly #path: string | undefined;
  #lookups: Promise<void> | undefined;
  #attempts: readonly Attempt[] = NO_ATTEMPTS;
  #abort: AbortController | undefined;
  /** The sides closed so far (a channel with both closed is gone, as after `close()`). */
  #closedSides: 0 | 1 | 2 | 3 = 0;

  /**
   * Wraps a `net.Socket` (connected, or still connecting: the channel then waits for it as an
   * async connect). Without a socket the channel starts in the connecting state; `socket()` uses
   * that for `async: true`. The channel owns the socket from then on.
   */
  constructor(socket?: Socket, options: SocketChannelConstructorOptions = NO_OPTIONS) {
    const name = options.name;
    // Settings are applied below, once this class's fields exist (core would call configure now).
    super(undefined, name === undefined ? NO_OPTIONS : { name });
    this.#path = options.path;
    this.#reverseLookup = options.reverseLookup !== false && options.path === undefined;
    // Core's setter checks it (ERR_SOCKCHAN_BAD_VALUE); set here, not through super(), so that
    // accepted channels cost no options object of their own.
    const maxLine = options.maxLine;
    try {
      if (maxLine !== undefined) this.maxLine = maxLine;
      // Accepted channels pass only `reverseLookup` (and `maxLine`): no copy of the options for them.
      if (hasSettings(options)) {
        const { name: _name, reverseLookup: _reverseLookup, maxLine: _maxLine, path: _path, ...settings } = options;
        this.configure(settings);
      }
    } catch (err) {
      // A bad value: no channel is left behind under its name (`channelNames()`); the socket,
      // not attached yet, stays the caller's.
      void this.close().catch(() => undefined);
      throw err;
    }
    if (socket === undefined) return;
    if (socket.connecting) {
      const onError = (err: Error): void => {
        socket.off('connect', onConnect);
        this._connectFailed(toSockchanError("couldn't open socket: ", err));
      };
      const onConnect = (): void => {
        socket.off('error', onError);
        this._connected(socket, []);
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
      return;
    }
    this._connected(socket, []);
  }

  // ------------------------------------------------------------ connect life cycle (internal)

  /**
   * The connect succeeded: the channel takes the socket.
   * @internal
   */
  _connected(socket: Socket, attempts: readonly Attempt[]): void {
    if (attempts.length > 0) this.#attempts = attempts;
    this.#abort = undefined;
    if (this.#state !== State.Connecting) {
      socket.destroy();
      return;
    }
    this.#state = State.Connected;
    this.#socket = socket;
    // Tcl keeps a socket writable after the peer's FIN. socket() and socket.server() create their
    // sockets that way; a socket wrapped by `new SocketChannel(socket)` is switched here.
    socket.allowHalfOpen = true;
    // The peer's address is known already (the listener or the connect asked for it); the local
    // one costs a getsockname() and is taken when first needed (see #localEnd).
    const remoteAddress = socket.remoteAddress;
    if (remoteAddress !== undefined) this.#peer = { address: shownAddress(remoteAddress), port: socket.remotePort ?? 0, host: undefined };
    else if (this.#path !== undefined) this.#peer = this.#local = { address: this.#path, port: 0, host: this.#path };
    if (this.#keepalive) socket.setKeepAlive(true);
    if (this.#nodelay) socket.setNoDelay(true);
    this.attach(socket);
    // Started once the current callback returns: a connection closed at once (an accept-and-close
    // server) costs no lookup; any other starts its lookups long before a human-scale query.
    // A tick is the cheapest deferral (an immediate costs a timer object and a native call).
    if (this.#reverseLookup) process.nextTick(startLookups, this);
  }

  /** The local end, read from the socket on first use (while the socket still has its descriptor). */
  #localEnd(): Endpoint | undefined {
    if (this.#local !== undefined) return this.#local;
    const s = this.#socket;
    const address = s?.localAddress;
    if (s === undefined || address === undefined) return undefined;
    this.#local = { address: shownAddress(address), port: s.localPort ?? 0, host: undefined };
    return this.#local;
  }

  /**
   * The connect failed: I/O now fails with `socket is not connected`, `error` says why.
   * @internal
   */
  _connectFailed(err: unknown): void {
    this.#abort = undefined;
    const attempts = (err as { attempts?: unknown }).attempts;
    if (Array.isArray(attempts)) this.#attempts = attempts as readonly Attempt[];
    if (this.#state !== State.Connecting) return;
    this.#state = State.Failed;
    this.#error = connectFailureText(err);
    // Tcl keeps the last attempt's descriptor: `-sockname` still answers with its local end.
    this.#local = failedLocalEnd(this.#attempts);
    this.failConnect();
    if (this.#local !== undefined && this.#reverseLookup) process.nextTick(startLookups, this);
  }

  /**
   * An attempt started or ended (the connect's `onAttempt`).
   * @internal
   */
  _attempt(attempt: Attempt): void {
    const list = this.#attempts.filter((a) => a.id !== attempt.id);
    list.push(attempt);
    list.sort((a, b) => a.id - b.id);
    this.#attempts = list;
  }

  /**
   * Lets `close()` during the connect abort it.
   * @internal
   */
  _setAbort(controller: AbortController): void {
    this.#abort = controller;
  }

  /**
   * Every connect attempt (happy eyeballs: addresses, families, times, outcomes), in the order
   * started; empty for accepted channels and wrapped sockets. Updated while an async connect runs.
   */
  get attempts(): readonly Attempt[] {
    return this.#attempts;
  }

  /**
   * The `net.Socket` under the channel, once connected (for socket options sockchan has no name
   * for). A client socket made by `socket()` reads through `Channel.onread`: its 'data' event
   * never fires (the channel takes every byte); read through the channel.
   */
  get socket(): Socket | undefined {
    return this.#socket;
  }

  private isOpen(): boolean {
    return this.#closedSides !== 3;
  }

  /** @internal Starts the reverse lookups (once), unless the channel is closed already. */
  _startLookups(): Promise<void> {
    if (this.#lookups !== undefined) return this.#lookups;
    if (!this.isOpen()) return Promise.resolve();
    const jobs: Promise<void>[] = [];
    for (const end of [this.#peer, this.#localEnd()]) {
      if (end === undefined || end.host !== undefined) continue;
      jobs.push(
        reverseName(end.address).then((host) => {
          end.host = host;
        }),
      );
    }
    const all = Promise.all(jobs).then(() => {
      // Done: hold a shared settled promise instead of this one (idle servers hold thousands).
      this.#lookups = LOOKUPS_DONE;
    });
    this.#lookups = all;
    return all;
  }

  /**
   * Waits until the reverse lookups of `sockname` and `peername` are done, at most `timeoutMs`
   * (default 2000 ms); the names are then in `configure('peername')` / `configure('sockname')`.
   * Resolves at once with `reverseLookup: false` or before the connect has ended (after a failed
   * connect, it waits for the name of a known local end). Never rejects for a lookup that fails
   * (the address is then the name, as in Tcl).
   */
  async resolveNames(timeoutMs: number = DEFAULT_RESOLVE_TIMEOUT_MS): Promise<void> {
    if (!this.isOpen()) throw this.unknownChannelError();
    if (!this.#reverseLookup || this.#state === State.Connecting) return;
    const lookups = this._startLookups();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, timeoutMs));
      timer.unref();
    });
    try {
      await Promise.race([lookups, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private unknownChannelError(): SockchanError {
    return new SockchanError(`can not find channel named "${this.name}"`, {
      code: 'ERR_SOCKCHAN_UNKNOWN_CHANNEL',
      errorCode: ['TCL', 'LOOKUP', 'CHANNEL', this.name],
    });
  }

  // ------------------------------------------------------------ close

  /**
   * Tcl's `close` (see `Channel.close`). A close while an async connect runs with nothing queued
   * to send abandons the connect (Tcl closes the socket); with queued output, the connect goes
   * on and the output is delivered in the background.
   */
  override close(direction?: 'read' | 'write'): Promise<void> {
    const abort = this.#abort;
    if (direction === undefined && abort !== undefined && this.#state === State.Connecting && this.isOpen() && this.pending('output') === 0) {
      this.#abort = undefined;
      const closed = super.close();
      this.#closedSides = 3;
      abort.abort(new SockchanError('channel closed during connect', { code: 'ERR_SOCKCHAN_ABORTED' }));
      return closed;
    }
    const result = super.close(direction);
    this.#closedSides |= direction === undefined ? 3 : direction === 'read' ? 1 : 2;
    return result;
  }

  // ------------------------------------------------------------ options

  /** Tcl's full listing (`chan configure ch`): generic options, then `peername sockname`. */
  override configure(): SocketChannelOptions & Record<string, unknown>;
  /** `error`: the async connect's failure text, `''` when none; reading it clears it (SO_ERROR). */
  override configure(name: 'error' | '-error'): string;
  /** `connecting`: true while an async connect runs; `keepalive`, `nodelay`: Tcl 9's socket options. */
  override configure(name: 'connecting' | '-connecting' | 'keepalive' | '-keepalive' | 'nodelay' | '-nodelay'): boolean;
  /**
   * `peername` / `sockname`: `[address, hostName, port]`; `''` while connecting. After a failed
   * connect `peername` throws Tcl's `can't get peername: socket is not connected`, and `sockname`
   * is, as in Tcl 8.6.13, the local end of the last attempt (`''` when its bind failed).
   */
  override configure(name: 'peername' | '-peername' | 'sockname' | '-sockname'): SocketAddressValue;
  /** One option's value; `name` with or without its dash, a unique prefix accepted. */
  override configure(name: string): unknown;
  /** Sets options (in order; on a bad value the earlier ones stay applied, as in Tcl). */
  override configure(settings: SocketChannelSettings & Record<string, unknown>): void;
  override configure(arg?: string | (SocketChannelSettings & Record<string, unknown>)): unknown {
    if (arg === undefined) return super.configure();
    if (typeof arg === 'string') return super.configure(arg);
    if (typeof arg !== 'object' || arg === null) return super.configure(arg);
    for (const [key, value] of Object.entries(arg)) {
      if (value === undefined) continue;
      const word = optionWord(key);
      if (matchGenericOption(word) === undefined && word !== 'profile') {
        const own = matchUniquePrefix(word, SOCKET_OPTION_NAMES);
        if (own !== undefined) {
          if (!this.isOpen()) throw this.unknownChannelError();
          this.setSocketOption(own as (typeof SOCKET_OPTION_NAMES)[number], value);
          continue;
        }
      }
      super.configure({ [key]: value });
    }
    return undefined;
  }

  private setSocketOption(name: (typeof SOCKET_OPTION_NAMES)[number], value: unknown): void {
    const on = parseTclBoolean(value as string);
    const s = this.#socket;
    try {
      if (name === 'keepalive') {
        this.#keepalive = on;
        if (s !== undefined && !s.destroyed) s.setKeepAlive(on);
      } else {
        this.#nodelay = on;
        if (s !== undefined && !s.destroyed) s.setNoDelay(on);
      }
    } catch (err) {
      throw posixError("couldn't set socket option: ", (err as { code?: string }).code ?? 'EINVAL', err);
    }
  }

  protected override driverOptions(): readonly DriverOptionSpec[] {
    return this.#state === State.Failed ? DRIVER_OPTIONS_FAILED : DRIVER_OPTIONS;
  }

  protected override getDriverOption(name: string): unknown {
    switch (name) {
      case 'connecting':
        return this.#state === State.Connecting;
      case 'error': {
        const text = this.#error;
        this.#error = '';
        return text;
      }
      case 'peername':
        if (this.#state === State.Failed) throw posixError("can't get peername: ", 'ENOTCONN');
        return triple(this.#peer, this.#reverseLookup);
      case 'sockname':
        return triple(this.#localEnd(), this.#reverseLookup);
      case 'keepalive':
        return this.#keepalive;
      case 'nodelay':
        return this.#nodelay;
      default:
        throw badOptionError(name, []);
    }
  }
}

function triple(end: Endpoint | undefined, reverse: boolean): SocketAddressValue {
  if (end === undefined) return '';
  return [end.address, reverse ? (end.host ?? end.address) : end.address, end.port];
}

function startLookups(ch: SocketChannel): void {
  void ch._startLookups();
}

/** `displayAddress`, skipped for the common forms it leaves unchanged (IPv4, IPv6 not starting with `:`). */
function shownAddress(address: string): string {
  const first = address.charCodeAt(0);
  return first === 58 /* : */ || first === 91 /* [ */ ? displayAddress(address) : address;
}

/** True when the constructor options hold channel settings (anything but `name`, `reverseLookup`, `maxLine` and `path`). */
function hasSettings(options: SocketChannelConstructorOptions): boolean {
  for (const key in options) if (key !== 'name' && key !== 'reverseLookup' && key !== 'maxLine' && key !== 'path') return true;
  return false;
}

/** Failures of the bind before the connect: the attempt never had the local end it asked for. */
const BIND_FAILURES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES']);

/**
 * The local end of a failed connect, as Tcl's `-sockname` shows it (the last attempt's socket):
 * the end the kernel gave it (the attempt log's `boundAddress`/`boundPort`), or the address and
 * port the caller bound it to.
 */
function failedLocalEnd(attempts: readonly Attempt[]): Endpoint | undefined {
  const last = attempts[attempts.length - 1];
  if (last === undefined || last.outcome === 'pending' || last.outcome === 'connected') return undefined;
  if (last.code !== undefined && BIND_FAILURES.has(last.code)) return undefined;
  const address = last.boundAddress ?? last.localAddress;
  const port = last.boundPort ?? last.localPort;
  if (address === undefined || port === undefined || port === 0) return undefined;
  return { address: shownAddress(address), port, host: undefined };
}

/** The `-error` text of a failed connect: the errno text, or the resolver's (`Name or service not known`). */
function connectFailureText(err: unknown): string {
  if (err instanceof SockchanError) {
    if (err.errorCode[0] === 'POSIX' && err.errorCode[2] !== undefined) return err.errorCode[2];
    return err.message.replace(/^couldn't open socket: /, '');
  }
  return err instanceof Error ? err.message : String(err);
}
