import process from 'node:process';
import net from 'node:net';
import type { Server, ServerOpts, Socket } from 'node:net';
import dns from 'node:dns';
import {
  ReverseNames,
  SockchanError,
  addressFamily,
  displayAddress,
  errnoCodeOf,
  errnoText,
  notAnInteger,
  parsePort,
  reverseNames,
  toSockchanError,
  valueText,
} from '@sockchan/base';
import type { AddressTriple } from '@sockchan/base';
import { BindFailure, bindAll } from './bind.js';
import type { BindOne, BoundSocket } from './bind.js';
import { descriptorWatch } from './descriptors.js';
import type { DescriptorClient } from './descriptors.js';
import { checkOptions, nodeHasReusePort } from './options.js';
import { listenServer, nodeServerOptions } from './listen-server.js';
import type { CheckedOptions, ListenOptions } from './options.js';
import { readProxyHeaderFrom } from './proxy-connection.js';
import type { ProxyHeaderCallback } from './proxy-connection.js';
import type { ProxyHeader } from './proxy-protocol.js';

const OPEN_FAILED = "couldn't open socket: ";

/** The addresses Tcl listens on without `-myaddr`: IPv4 first, then IPv6 (with `IPV6_V6ONLY`). */
const WILDCARDS: readonly string[] = ['0.0.0.0', '::'];

/** How long {@link Listener.resolveNames} waits at most, by default. */
const DEFAULT_RESOLVE_TIMEOUT_MS = 2000;

/** Accept failures are reported at most this often (with a count). */
const ACCEPT_REPORT_INTERVAL_MS = 1000;

const ACCEPT_FAILED = "couldn't accept connection: ";

/**
 * A listening server: one listening socket per local address, all on one port.
 * Made by {@link listen}.
 */
export interface Listener {
  /** The port every listening socket is bound to. */
  readonly port: number;
  /** True once {@link Listener.close} was called. */
  readonly closed: boolean;
  /**
   * The listening addresses as Tcl's server `-sockname` lists them: one
   * `[address, hostName, port]` triple per socket, IPv4 first. The host name is the address
   * itself for wildcards; others are looked up when first queried (here or by
   * {@link Listener.resolveNames}): the name from `/etc/hosts` at once, else the address until
   * the background lookup has answered (never blocking). Empty once closed.
   */
  addresses(): AddressTriple[];
  /**
   * Starts the reverse lookups of the listening addresses and waits until they are done, or
   * `timeoutMs` (default 2000) has passed; {@link Listener.addresses} then shows the names found.
   */
  resolveNames(timeoutMs?: number): Promise<void>;
  /**
   * Stops accepting on every address at once; resolves when no listening socket is left
   * (new connects are refused from then on). Accepted connections stay open.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Lets the process exit while the listener is the only thing left (like `server.unref()`). */
  unref(): this;
  /** Undoes {@link Listener.unref}. */
  ref(): this;
}

/** One listening socket. @internal */
interface ListeningSocket extends BoundSocket {
  readonly server: Server;
}

/** Node's system resolver (`getaddrinfo` with no hints), in the resolver's own order. */
async function systemResolve(host: string): Promise<readonly string[]> {
  if (host === '') {
    // Node answers an empty name with no address at all; getaddrinfo (and so Tcl) fails.
    throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  }
  const found = await dns.promises.lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/**
 * Local addresses to listen on, in Tcl's order: IPv4 ones first, then the others, each group
 * in resolver order, duplicates dropped (a name listed twice in a hosts file would otherwise
 * make port 0 retry on itself and fail).
 */
function orderAddresses(found: readonly string[]): string[] {
  const unique = [...new Set(found.map((a) => displayAddress(a)))];
  return [...unique.filter((a) => addressFamily(a) === 4), ...unique.filter((a) => addressFamily(a) !== 4)];
}

async function localAddresses(cfg: CheckedOptions): Promise<string[]> {
  const myaddr = cfg.myaddr;
  if (myaddr === undefined) return [...WILDCARDS];
  if (addressFamily(myaddr) !== 0 && !myaddr.startsWith('[')) return [myaddr];
  let found: readonly string[];
  try {
    found = await (cfg.resolver ?? systemResolve)(myaddr);
  } catch (err) {
    throw toSockchanError(OPEN_FAILED, err);
  }
  const addresses = orderAddresses(found);
  if (addresses.length === 0) {
    throw new SockchanError(`${OPEN_FAILED}Name or service not known`, { code: 'ENOTFOUND', errorCode: ['NONE'] });
  }
  return addresses;
}

/** What `getpeername` fills in (Node's TCP handle). */
interface PeerScratch {
  address?: string | undefined;
  port?: number | undefined;
  family?: string | undefined;
}

/** One object for every accept: the peer is read from it at once. */
const peerScratch: PeerScratch = {};

/**
 * The peer's address and port, from one `getpeername()` on the socket's handle, without the
 * object `socket.remoteAddress` caches on every socket (an idle server holds thousands; the
 * channel asks the socket again when its `peername` is queried). Falls back to
 * `remoteAddress`/`remotePort` where the handle has no `getpeername`.
 */
function peerOf(socket: Socket): PeerScratch {
  const handle = (socket as unknown as { _handle?: { getpeername?: (out: PeerScratch) => number } })._handle;
  if (typeof handle?.getpeername !== 'function') return { address: socket.remoteAddress, port: socket.remotePort };
  peerScratch.address = undefined;
  peerScratch.port = undefined;
  peerScratch.family = undefined;
  if (handle.getpeername(peerScratch) !== 0) peerScratch.address = undefined;
  return peerScratch;
}

function defaultOnError(err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${text}\n`);
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** A listening socket as a {@link Listener} holds it. @internal */
export interface AttachedSocket {
  /** The address it listens on: numeric, or a Unix-domain socket's path. */
  readonly address: string;
  readonly server: Server;
  /** Its port, when it may differ from the listener's (inherited sockets); 0 for Unix-domain ones. */
  readonly port?: number;
}

/** The listener behind {@link listen}, {@link listenUnix} and {@link listenFd}. @internal */
export class ListenerImpl implements Listener, DescriptorClient {
  readonly #cfg: CheckedOptions;
  #port = 0;
  #sockets: readonly AttachedSocket[] = [];
  #onClose: (() => void) | undefined;
  /** The reverse-lookup pool of a `reverseLookup` function (the process's pool serves `true`). */
  #ownNames: ReverseNames | undefined;
  #closing: Promise<void> | undefined;
  /** Accept failures not reported yet (rate limit), and when the last report went out. */
  #acceptFailures = 0;
  #acceptFailureCode = 'EMFILE';
  #lastAcceptReport = -Infinity;
  #wasFull = false;
  readonly #onConnection: CheckedOptions['onConnection'];
  readonly #onError: CheckedOptions['onError'];
  readonly #onDrop: CheckedOptions['onDrop'];
  readonly #maxConnections: number;
  readonly #proxy: CheckedOptions['proxyProtocol'];
  #open = 0;

  /** The one 'connection' handler of all this listener's TCP servers (no closure per connection). */
  readonly #accept = (socket: Socket): void => {
    this.#admit(socket, undefined);
  };

  /**
   * An accepted connection: counted, then handed to the handler with the peer's address and
   * port, or for a Unix-domain socket with `path` (the listening socket's) and port 0.
   */
  #admit(socket: Socket, path: string | undefined): void {
    if (descriptorWatch.full && descriptorWatch.stillFull()) {
      // Out of descriptors: this connection took the watch's reserve slot. Closing it frees the
      // slot for the next one, so each is counted here rather than shed by libuv unseen.
      socket.destroy();
      this.#acceptFailed('EMFILE');
      return;
    }
    if (this.#open >= this.#maxConnections) {
      this.#drop(socket, path);
      return;
    }
    if (this.#maxConnections !== Infinity) {
      this.#open += 1;
      socket.on('close', this.#release);
    }
    let address: string | undefined = path;
    let port: number | undefined = 0;
    if (path === undefined) {
      const peer = peerOf(socket);
      address = peer.address;
      port = peer.port;
    }
    if (address === undefined || port === undefined) {
      // getpeername failed: the peer reset the connection before we got to it.
      socket.destroy();
      return;
    }
    // IPv6 listeners are v6-only, so a mapped address shows up only with a shared cluster
    // handle or an unusual stack; check cheaply before normalising.
    if (path === undefined && address.charCodeAt(0) === 58 && address.startsWith('::ffff:')) address = displayAddress(address);
    const proxy = this.#proxy;
    if (proxy !== undefined && (path !== undefined || proxy.expects(address))) {
      // The peer is known: no second getpeername for the messages of a failed header.
      readProxyHeaderFrom(socket, proxy.timeout, path === undefined ? this.#proxied : this.#proxiedOn(path), path === undefined ? address : undefined, port);
      return;
    }
    this.#hand(socket, address, port, undefined);
  }

  /** The header of a connection from a listed proxy was read (or failed: reported, socket gone). */
  readonly #proxied: ProxyHeaderCallback = (err, header, socket) => {
    this.#afterHeader(err, header, socket, undefined);
  };

  /** {@link ListenerImpl.#proxied} of each Unix-domain path (one function per path, not per connection). */
  #proxiedByPath: Map<string, ProxyHeaderCallback> | undefined;

  #proxiedOn(path: string): ProxyHeaderCallback {
    this.#proxiedByPath ??= new Map();
    let done = this.#proxiedByPath.get(path);
    if (done === undefined) {
      done = (err, header, socket) => this.#afterHeader(err, header, socket, path);
      this.#proxiedByPath.set(path, done);
    }
    return done;
  }

  #afterHeader(err: SockchanError | undefined, header: ProxyHeader | undefined, socket: Socket, path: string | undefined): void {
    if (err !== undefined || header === undefined) {
      this.#report(err, socket);
      return;
    }
    const source = header.source;
    if (source !== undefined) {
      this.#hand(socket, displayAddress(source.address), source.port, header);
      return;
    }
    // LOCAL or UNKNOWN: the connection's own addresses (getpeername's answer is cached), or
    // a Unix-domain socket's path and port 0.
    if (path !== undefined) this.#hand(socket, path, 0, header);
    else this.#hand(socket, displayAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0, header);
  }

  /** Runs the handler; a throw or a rejection destroys the socket and goes to onError. */
  #hand(socket: Socket, address: string, port: number, proxy: ProxyHeader | undefined): void {
    let result: unknown;
    try {
      result = proxy === undefined ? this.#onConnection(socket, address, port) : this.#onConnection(socket, address, port, proxy);
    } catch (err) {
      this.#handlerFailed(err, socket);
      return;
    }
    if (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, (err: unknown) => this.#handlerFailed(err, socket));
    }
  }

  /** Shared 'close' listener of counted sockets (one function for all of them). */
  readonly #release = (): void => {
    this.#open -= 1;
  };

  /** Failures of a listening socket after it listens (accept errors that Node reports). */
  readonly #serverError = (err: unknown): void => {
    const code = errnoCodeOf(err);
    // Out of descriptors (libuv could not shed with its reserve): counted, reported once a second.
    if (code === 'EMFILE' || code === 'ENFILE') {
      this.#acceptFailed(code);
      return;
    }
    this.#report(toSockchanError(ACCEPT_FAILED, err), undefined);
  };

  constructor(cfg: CheckedOptions) {
    this.#cfg = cfg;
    this.#onConnection = cfg.onConnection;
    this.#onError = cfg.onError;
    this.#onDrop = cfg.onDrop;
    this.#maxConnections = cfg.maxConnections ?? Infinity;
    this.#proxy = cfg.proxyProtocol;
  }

  /**
   * A `net.Server` whose connections this listener serves. With `unixPath`, a Unix-domain one:
   * its connections are handed over with that path and port 0 (a Unix peer has no address).
   * @internal
   */
  createServer(serverOptions: ServerOpts, unixPath?: string): Server {
    return net.createServer(serverOptions, this.connectionHandler(unixPath));
  }

  /**
   * The 'connection' handler of a server of this listener (see {@link ListenerImpl.createServer}).
   * @internal
   */
  connectionHandler(unixPath?: string): (socket: Socket) => void {
    if (unixPath === undefined) return this.#accept;
    return (socket) => this.#admit(socket, unixPath);
  }

  /**
   * A listening socket for one address, already wired to this listener: connections that
   * arrive while further addresses are still being bound are served, not left dangling.
   */
  bindOne(serverOptions: ServerOpts): BindOne<ListeningSocket> {
    const cfg = this.#cfg;
    return async (address, port) => {
      const server = this.createServer(serverOptions);
      await listenServer(server, {
        host: address,
        port,
        backlog: cfg.backlog,
        exclusive: cfg.exclusive,
        ...(addressFamily(address) === 6 ? { ipv6Only: true } : {}),
        ...(cfg.reusePort ? { reusePort: true } : {}),
      });
      server.on('error', this.#serverError);
      const bound = server.address();
      const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
      return { server, port: boundPort, close: () => server.close() };
    };
  }

  /**
   * Takes over the listening sockets (those {@link bindAll} bound, a Unix-domain one, inherited
   * ones), and starts watching the descriptors. A socket's own `port` (inherited ones may
   * differ) overrides `port` in {@link Listener.addresses}; `onClose` runs once, right after
   * {@link Listener.close} closed them.
   * @internal
   */
  attach(port: number, sockets: readonly AttachedSocket[], onClose?: () => void): this {
    this.#port = port;
    this.#sockets = sockets;
    this.#onClose = onClose;
    const reverseLookup = this.#cfg.reverseLookup;
    if (typeof reverseLookup === 'function') this.#ownNames = new ReverseNames({ lookup: reverseLookup });
    descriptorWatch.add(this);
    return this;
  }

  /** The reverse-lookup pool, `undefined` with `reverseLookup: false`. */
  #names(): ReverseNames | undefined {
    const reverseLookup = this.#cfg.reverseLookup;
    if (reverseLookup === false) return undefined;
    return this.#ownNames ?? reverseNames();
  }

  get port(): number {
    return this.#port;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  addresses(): AddressTriple[] {
    if (this.#closing !== undefined) return [];
    const names = this.#names();
    return this.#sockets.map((s) => {
      // Wildcards and Unix-domain paths are never looked up.
      const name = names === undefined || isWildcard(s.address) || addressFamily(s.address) === 0 ? undefined : names.query(s.address);
      return [s.address, name ?? s.address, s.port ?? this.port] as const;
    });
  }

  async resolveNames(timeoutMs: number = DEFAULT_RESOLVE_TIMEOUT_MS): Promise<void> {
    const names = this.#names();
    if (names === undefined) return;
    const addresses = this.#sockets.map((s) => s.address).filter((a) => !isWildcard(a) && addressFamily(a) !== 0);
    await names.resolve(addresses, timeoutMs);
  }

  /** The descriptor watch's check (once a second): reports what was counted, and running out. */
  onDescriptorCheck(full: boolean): void {
    const enteredFull = full && !this.#wasFull;
    this.#wasFull = full;
    if (this.#acceptFailures > 0 || enteredFull) this.#reportAcceptFailures(Date.now());
  }

  /** One accept that failed for want of descriptors: reported at once, or with the next report. */
  #acceptFailed(code: string): void {
    this.#acceptFailures += 1;
    this.#acceptFailureCode = code;
    const now = Date.now();
    if (now - this.#lastAcceptReport >= ACCEPT_REPORT_INTERVAL_MS) this.#reportAcceptFailures(now);
  }

  #reportAcceptFailures(now: number): void {
    const count = this.#acceptFailures;
    const code = this.#acceptFailureCode;
    this.#acceptFailures = 0;
    this.#lastAcceptReport = now;
    const what =
      count === 0
        ? 'the process has no descriptor left for new connections'
        : `${count} connection${count === 1 ? '' : 's'} closed at once`;
    const text = errnoText(code);
    this.#report(
      new SockchanError(`${ACCEPT_FAILED}${text} (${what})`, { code, errorCode: ['POSIX', code, text] }),
      undefined,
    );
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    descriptorWatch.delete(this);
    // server.close() closes the listening descriptor synchronously; its 'close' event would
    // wait for every accepted connection to end, which is not what closing a Tcl server means.
    for (const { server } of this.#sockets) server.close();
    this.#closing = Promise.resolve();
    this.#onClose?.();
    return this.#closing;
  }

  unref(): this {
    for (const { server } of this.#sockets) server.unref();
    return this;
  }

  ref(): this {
    for (const { server } of this.#sockets) server.ref();
    return this;
  }

  #drop(socket: Socket, path: string | undefined): void {
    const address = path ?? socket.remoteAddress;
    const port = path === undefined ? socket.remotePort : 0;
    socket.destroy();
    if (this.#onDrop === undefined || address === undefined || port === undefined) return;
    try {
      this.#onDrop(displayAddress(address), port);
    } catch (err) {
      this.#report(err, undefined);
    }
  }

  #handlerFailed(err: unknown, socket: Socket): void {
    socket.destroy();
    this.#report(err, socket);
  }

  #report(err: unknown, socket: Socket | undefined): void {
    if (this.#onError === undefined) {
      defaultOnError(err);
      return;
    }
    try {
      this.#onError(err, socket);
    } catch (secondErr) {
      // The error handler failed too: print both, never let it reach the listening sockets.
      defaultOnError(err);
      defaultOnError(secondErr);
    }
  }
}

/**
 * Listens on `port` the way Tcl's `socket -server` does: without `myaddr` on every address
 * family the host supports (`0.0.0.0` and `::`, the IPv6 socket `IPV6_V6ONLY`); with a
 * `myaddr` name on every address it resolves to; port 0 means one port chosen by the OS and
 * shared by all of them. Addresses that cannot be bound are skipped as long as one can.
 *
 * `port` is a number or a TCP service name (`'http'`), parsed with Tcl's rules. Resolves once
 * listening; rejects with a `SockchanError` (from `@sockchan/base`) carrying Tcl's text
 * (`couldn't open socket: address already in use`, `expected integer but got "x"`, ...),
 * leaving nothing open.
 */
export async function listen(port: number | string, options: ListenOptions): Promise<Listener> {
  if (typeof port !== 'number' && typeof port !== 'string') throw notAnInteger(valueText(port));
  const portNumber = parsePort(port);
  const cfg = checkOptions(options);
  if (cfg.reusePort && !nodeHasReusePort()) {
    throw new SockchanError(
      `${OPEN_FAILED}SO_REUSEPORT isn't supported by this platform (reusePort needs Node.js 22.12 or later; this is ${process.versions.node})`,
      { code: 'ENOTSUP', errorCode: ['NONE'] },
    );
  }
  const addresses = await localAddresses(cfg);
  const serverOptions = nodeServerOptions(cfg, true);
  const listener = new ListenerImpl(cfg);
  let result;
  try {
    result = await bindAll(addresses, portNumber, listener.bindOne(serverOptions));
  } catch (err) {
    throw toSockchanError(OPEN_FAILED, err instanceof BindFailure ? err.cause : err);
  }
  return listener.attach(
    result.port,
    result.bound.map((b) => ({ address: b.address, server: b.socket.server })),
  );
}
