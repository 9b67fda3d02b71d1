import type { Socket } from 'node:net';
import { SockchanError, displayAddress, matchUniquePrefix, parseTclBoolean, posixError, reverseNames, toSockchanError } from '@sockchan/base';
import type { AddressTriple } from '@sockchan/base';
import { Channel, badOptionError, optionWord } from '@sockchan/core';
import type { ChannelOptions, ChannelSettings, DriverOptionSpec } from '@sockchan/core';
import type { Attempt } from '@sockchan/async-connect';
import type { ProxyHeader } from '@sockchan/server';

/**
 * `SocketChannel`: a Tcl socket channel. Core's `Channel` does the I/O; this class adds what Tcl's
 * TCP driver adds: the read-only options `-error`, `-peername`, `-sockname`, `-connecting`, Tcl 9's
 * settable `-keepalive` and `-nodelay`, lazy reverse lookups that never block, and the async-connect
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
   * The PROXY protocol header the connection began with (`socket.server` with `proxyProtocol`
   * passes it): `peername` is then its source, the original client, and {@link SocketChannel.proxy}
   * returns it.
   */
  proxy?: ProxyHeader;
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
/** The default options (shared: nothing writes to them). */
const NO_OPTIONS: SocketChannelConstructorOptions = Object.freeze({});

/** One end of the connection; its host name comes from the process's reverse-lookup pool when queried. */
interface Endpoint {
  readonly address: string;
  readonly port: number;
}

const enum State {
  Connecting = 0,
  Connected = 1,
  Failed = 2,
}

/** The bits of `SocketChannel.#bits`: the state, the socket options, the closed sides. */
const Bit = {
  StateMask: 3,
  Keepalive: 4,
  Nodelay: 8,
  NoReverse: 16,
  ClosedRead: 32,
  ClosedWrite: 64,
  ClosedBoth: 96,
} as const;

/** The two ends, made when first queried (or known from a failed connect). */
interface Ends {
  peer: Endpoint | undefined;
  local: Endpoint | undefined;
  /** The PROXY protocol header the connection began with: the peer is then its source. */
  proxy?: ProxyHeader | undefined;
  /** A Unix-domain socket's path: the one name the connection has, on both ends. */
  path?: string | undefined;
}

/** What only a connect has: its attempts, its abort, its failure text; accepted channels have none. */
interface ConnectInfo {
  attempts: readonly Attempt[];
  abort: AbortController | undefined;
  error: string;
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
  // Four fields only: an idle server holds thousands of channels (see the `Bit` flags).
  #socket: Socket | undefined;
  /** State, keepalive, nodelay, reverse lookups off, the sides closed so far (`Bit`). */
  #bits = 0;
  #ends: Ends | undefined;
  #connect: ConnectInfo | undefined;

  /**
   * Wraps a `net.Socket` (connected, or still connecting: the channel then waits for it as an
   * async connect). Without a socket the channel starts in the connecting state; `socket()` uses
   * that for `async: true`. The channel owns the socket from then on.
   */
  constructor(socket?: Socket, options: SocketChannelConstructorOptions = NO_OPTIONS) {
    const name = options.name;
    // Settings are applied below, once this class's fields exist (core would call configure now).
    super(undefined, name === undefined ? NO_OPTIONS : { name });
    if (options.reverseLookup === false) this.#bits |= Bit.NoReverse;
    const path = options.path;
    if (path !== undefined) {
      // A Unix-domain socket: nothing to look up; both ends get the path once connected.
      this.#bits |= Bit.NoReverse;
      this.#ends = { peer: undefined, local: undefined, path };
    }
    if (options.proxy !== undefined) this.ends().proxy = options.proxy;
    // The socket options as booleans, without configure() (which takes Tcl's booleans too).
    if (options.keepalive === true) this.#bits |= Bit.Keepalive;
    if (options.nodelay === true) this.#bits |= Bit.Nodelay;
    // Core's setter checks it (ERR_SOCKCHAN_BAD_VALUE); set here, not through super(), so that
    // accepted channels cost no options object of their own.
    const maxLine = options.maxLine;
    try {
      if (maxLine !== undefined) this.maxLine = maxLine;
      // Accepted channels pass only `reverseLookup` (and `maxLine`): no copy of the options for them.
      if (hasSettings(options)) {
        const { name: _name, reverseLookup: _reverseLookup, maxLine: _maxLine, proxy: _proxy, path: _path, ...settings } = options;
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
    const connect = this.#connect;
    if (connect !== undefined) connect.abort = undefined;
    if (attempts.length > 0) this.connectInfo().attempts = attempts;
    if (this.state() !== State.Connecting) {
      socket.destroy();
      return;
    }
    this.#bits = (this.#bits & ~Bit.StateMask) | State.Connected;
    this.#socket = socket;
    // Tcl keeps a socket writable after the peer's FIN. socket() and socket.server() create their
    // sockets that way; a socket wrapped by `new SocketChannel(socket)` is switched here.
    socket.allowHalfOpen = true;
    // The ends are made when first queried (peerEnd, localEnd: a getsockname()). Node keeps
    // the peer's address once read: the listener read it for accepted sockets. A connect's
    // winning attempt names it when its address is IPv4 (peerEnd takes it from there); any
    // other is read now, while the socket surely has its descriptor.
    if (attempts.length > 0 && connectedV4(attempts) === undefined) this.peerEnd();
    const path = this.#ends?.path;
    if (path !== undefined) {
      // Behind a proxy (a PROXY header on a Unix socket), the peer is the header's source.
      const end = { address: path, port: 0 };
      const proxy = this.#ends?.proxy;
      this.#ends = { peer: proxy?.source === undefined ? end : undefined, local: end, path, proxy };
    }
    if ((this.#bits & Bit.Keepalive) !== 0) socket.setKeepAlive(true);
    if ((this.#bits & Bit.Nodelay) !== 0) socket.setNoDelay(true);
    this.attach(socket);
    // No reverse lookup here: they start when a name is queried (see resolveNames).
  }

  private state(): State {
    return this.#bits & Bit.StateMask;
  }

  /** The connect's record, made on first use (accepted channels never need one). */
  private connectInfo(): ConnectInfo {
    this.#connect ??= { attempts: NO_ATTEMPTS, abort: undefined, error: '' };
    return this.#connect;
  }

  private ends(): Ends {
    this.#ends ??= { peer: undefined, local: undefined };
    return this.#ends;
  }

  /** The peer's end, made from the socket on first use. */
  private peerEnd(): Endpoint | undefined {
    const ends = this.#ends;
    const known = ends?.peer;
    if (known !== undefined) return known;
    // Behind a proxy (PROXY protocol), the peer is the original client the header names.
    const source = ends?.proxy?.source;
    if (source !== undefined) {
      const peer = { address: shownAddress(source.address), port: source.port };
      this.ends().peer = peer;
      return peer;
    }
    // A connect's winner with an IPv4 address names the peer as the kernel would (the attempt
    // log keeps it): no getpeername(), through TLS a call into the TLS wrap as well.
    const won = this.#connect === undefined ? undefined : connectedV4(this.#connect.attempts);
    if (won !== undefined) {
      const peer = { address: won.address, port: won.port };
      this.ends().peer = peer;
      return peer;
    }
    const s = this.#socket;
    const address = s?.remoteAddress;
    if (s === undefined || address === undefined) return undefined;
    const peer = { address: shownAddress(address), port: s.remotePort ?? 0 };
    this.ends().peer = peer;
    return peer;
  }

  /** The local end, read from the socket on first use (while the socket still has its descriptor). */
  private localEnd(): Endpoint | undefined {
    const known = this.#ends?.local;
    if (known !== undefined) return known;
    const s = this.#socket;
    const address = s?.localAddress;
    if (s === undefined || address === undefined) return undefined;
    const local = { address: shownAddress(address), port: s.localPort ?? 0 };
    this.ends().local = local;
    return local;
  }

  /**
   * The connect failed: I/O now fails with `socket is not connected`, `error` says why.
   * @internal
   */
  _connectFailed(err: unknown): void {
    const connect = this.connectInfo();
    connect.abort = undefined;
    const attempts = (err as { attempts?: unknown }).attempts;
    if (Array.isArray(attempts)) connect.attempts = attempts as readonly Attempt[];
    if (this.state() !== State.Connecting) return;
    this.#bits = (this.#bits & ~Bit.StateMask) | State.Failed;
    connect.error = connectFailureText(err);
    // Tcl keeps the last attempt's descriptor: `-sockname` still answers with its local end.
    this.ends().local = failedLocalEnd(connect.attempts);
    this.failConnect();
  }

  /**
   * An attempt started or ended (the connect's `onAttempt`).
   * @internal
   */
  _attempt(attempt: Attempt): void {
    const connect = this.connectInfo();
    const list = connect.attempts.filter((a) => a.id !== attempt.id);
    list.push(attempt);
    list.sort((a, b) => a.id - b.id);
    connect.attempts = list;
  }

  /**
   * Lets `close()` during the connect abort it.
   * @internal
   */
  _setAbort(controller: AbortController): void {
    this.connectInfo().abort = controller;
  }

  /**
   * Every connect attempt (happy eyeballs: addresses, families, times, outcomes), in the order
   * started; empty for accepted channels and wrapped sockets. Updated while an async connect runs.
   */
  get attempts(): readonly Attempt[] {
    return this.#connect?.attempts ?? NO_ATTEMPTS;
  }

  /**
   * The PROXY protocol header this accepted connection began with (`socket.server` with
   * `proxyProtocol`, from a listed proxy): version, command, family, `source` and `destination`
   * (the original client and the address it connected to), and the v2 TLVs (`alpn`,
   * `authority`, `uniqueId`, `ssl`, `netns`, `tlvs`). `undefined` for other channels.
   * `peername` shows the header's source; `sockname` stays the socket's own end.
   */
  get proxy(): ProxyHeader | undefined {
    return this.#ends?.proxy;
  }

  /**
   * The `net.Socket` under the channel, once connected (for socket options sockchan has no name
   * for). A client socket made by `socket()` or `tls.socket()` reads through `Channel.onread`:
   * its 'data' event never fires (the channel takes every byte); read through the channel.
   */
  get socket(): Socket | undefined {
    return this.#socket;
  }

  private isOpen(): boolean {
    return (this.#bits & Bit.ClosedBoth) !== Bit.ClosedBoth;
  }

  /**
   * Starts the reverse lookups of `sockname` and `peername` (as a query of either does) and waits
   * until they are done, at most `timeoutMs` (default 2000 ms); the names are then in
   * `configure('peername')` / `configure('sockname')`. Names in `/etc/hosts` are known at once.
   * Resolves at once with `reverseLookup: false` or before the connect has ended (after a failed
   * connect, it waits for the name of a known local end). Never rejects for a lookup that fails
   * (the address is then the name, as in Tcl).
   */
  async resolveNames(timeoutMs: number = DEFAULT_RESOLVE_TIMEOUT_MS): Promise<void> {
    if (!this.isOpen()) throw this.unknownChannelError();
    if ((this.#bits & Bit.NoReverse) !== 0 || this.state() === State.Connecting) return;
    const addresses: string[] = [];
    for (const end of [this.peerEnd(), this.localEnd()]) if (end !== undefined) addresses.push(end.address);
    await reverseNames().resolve(addresses, timeoutMs);
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
    const abort = this.#connect?.abort;
    if (direction === undefined && abort !== undefined && this.state() === State.Connecting && this.isOpen() && this.pending('output') === 0) {
      this.connectInfo().abort = undefined;
      const closed = super.close();
      this.#bits |= Bit.ClosedBoth;
      abort.abort(new SockchanError('channel closed during connect', { code: 'ERR_SOCKCHAN_ABORTED' }));
      return closed;
    }
    const result = super.close(direction);
    this.#bits |= direction === undefined ? Bit.ClosedBoth : direction === 'read' ? Bit.ClosedRead : Bit.ClosedWrite;
    return result;
  }

  // ------------------------------------------------------------ options

  /** Tcl's full listing (`chan configure ch`): generic options, then `peername sockname`. */
  override configure(): SocketChannelOptions & Record<string, unknown>;
  /**
   * `error`: the async connect's failure text, or else a background write failure no call reported
   * yet (nonblocking mode); `''` when none. Reading it clears it (Tcl's SO_ERROR).
   */
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
    return super.configure(arg as string);
  }

  /** `keepalive` and `nodelay` are this class's (Tcl 9's); every other option is core's. */
  protected override configureOne(key: string, value: unknown): void {
    // No generic option (nor `profile`) starts with k or n: a word is one of these two, or core's
    // to match, never both (core's generic match is then not done twice).
    const own = matchUniquePrefix(optionWord(key), SOCKET_OPTION_NAMES);
    if (own === undefined) {
      super.configureOne(key, value);
      return;
    }
    if (!this.isOpen()) throw this.unknownChannelError();
    this.setSocketOption(own as (typeof SOCKET_OPTION_NAMES)[number], value);
  }

  private setSocketOption(name: (typeof SOCKET_OPTION_NAMES)[number], value: unknown): void {
    const on = parseTclBoolean(value as string);
    const s = this.#socket;
    try {
      if (name === 'keepalive') {
        this.#bits = on ? this.#bits | Bit.Keepalive : this.#bits & ~Bit.Keepalive;
        if (s !== undefined && !s.destroyed) s.setKeepAlive(on);
      } else {
        this.#bits = on ? this.#bits | Bit.Nodelay : this.#bits & ~Bit.Nodelay;
        if (s !== undefined && !s.destroyed) s.setNoDelay(on);
      }
    } catch (err) {
      throw posixError("couldn't set socket option: ", (err as { code?: string }).code ?? 'EINVAL', err);
    }
  }

  protected override driverOptions(): readonly DriverOptionSpec[] {
    return this.state() === State.Failed ? DRIVER_OPTIONS_FAILED : DRIVER_OPTIONS;
  }

  protected override getDriverOption(name: string): unknown {
    switch (name) {
      case 'connecting':
        return this.state() === State.Connecting;
      case 'error': {
        const connect = this.#connect;
        if (connect === undefined) return this.takeUnreportedWriteError();
        const text = connect.error;
        connect.error = '';
        // A background write failure not reported yet is reported here, once (as Tcl's -error).
        return text !== '' ? text : this.takeUnreportedWriteError();
      }
      case 'peername':
        if (this.state() === State.Failed) throw posixError("can't get peername: ", 'ENOTCONN');
        return triple(this.peerEnd(), (this.#bits & Bit.NoReverse) === 0);
      case 'sockname':
        return triple(this.localEnd(), (this.#bits & Bit.NoReverse) === 0);
      case 'keepalive':
        return (this.#bits & Bit.Keepalive) !== 0;
      case 'nodelay':
        return (this.#bits & Bit.Nodelay) !== 0;
      default:
        throw badOptionError(name, []);
    }
  }
}

/** An end's triple; with reverse lookups on, the name if known, else the address while its lookup starts. */
function triple(end: Endpoint | undefined, reverse: boolean): SocketAddressValue {
  if (end === undefined) return '';
  return [end.address, reverse ? (reverseNames().query(end.address) ?? end.address) : end.address, end.port];
}

/** `displayAddress`, skipped for the common forms it leaves unchanged (IPv4, IPv6 not starting with `:`). */
function shownAddress(address: string): string {
  const first = address.charCodeAt(0);
  return first === 58 /* : */ || first === 91 /* [ */ ? displayAddress(address) : address;
}

/** True when the constructor options hold channel settings (anything but `name`, `reverseLookup`, `maxLine` and `path`). */
/** The attempt that connected, when its address is IPv4 (Node spells those only in dotted decimal, as the kernel does). */
function connectedV4(attempts: readonly Attempt[]): Attempt | undefined {
  for (let i = attempts.length - 1; i >= 0; i--) {
    const a = attempts[i]!;
    if (a.outcome === 'connected') return a.family === 4 ? a : undefined;
  }
  return undefined;
}

function hasSettings(options: SocketChannelConstructorOptions): boolean {
  for (const key in options) {
    if (key === 'name' || key === 'reverseLookup' || key === 'maxLine' || key === 'proxy' || key === 'path') continue;
    // Set by the constructor itself when given as booleans (as socket() and tls.socket pass them).
    if (key === 'keepalive' ? typeof options.keepalive === 'boolean' : key === 'nodelay' && typeof options.nodelay === 'boolean') continue;
    return true;
  }
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
  return { address: shownAddress(address), port };
}

/** The `-error` text of a failed connect: the errno text, or the resolver's (`Name or service not known`). */
function connectFailureText(err: unknown): string {
  if (err instanceof SockchanError) {
    if (err.errorCode[0] === 'POSIX' && err.errorCode[2] !== undefined) return err.errorCode[2];
    return err.message.replace(/^couldn't open socket: /, '');
  }
  return err instanceof Error ? err.message : String(err);
}
