import process from 'node:process';
import type { Socket } from 'node:net';
import { SockchanError, parseTclInteger, valueText } from '@sockchan/base';
import { checkProxyProtocol } from './proxy-connection.js';
import type { CheckedProxyProtocol, ProxyProtocolOptions } from './proxy-connection.js';
import type { ProxyHeader } from './proxy-protocol.js';

/**
 * Called for every accepted connection with the peer's numeric address (no brackets; an
 * IPv4-mapped IPv6 address shown as IPv4) and port. The handler owns the socket. When it
 * throws, or returns a promise that rejects, the error goes to {@link ListenOptions.onError}
 * and the socket is destroyed (Tcl closes the channel of a failed accept callback).
 *
 * With {@link ListenOptions.proxyProtocol}, a connection from a listed proxy arrives once its
 * header is read: `address` and `port` are then the original client's (the header's source;
 * the connection's own for a `LOCAL` or `UNKNOWN` header), and `proxy` is the parsed header.
 * The socket's next read starts with the bytes that followed the header.
 */
export type ConnectionHandler = (socket: Socket, address: string, port: number, proxy?: ProxyHeader) => unknown;

/**
 * Receives what cannot be thrown to a caller: errors of the connection handler (with the
 * socket it was given, already destroyed) and failures of `accept()` (no socket then). Running
 * out of descriptors (`EMFILE`) is reported at most once a second per listener, with the number
 * of connections closed for it since the last report (`couldn't accept connection: too many
 * open files (3 connections closed at once)`), and once when the process runs out (`... (the
 * process has no descriptor left for new connections)`); the listener goes on and accepts
 * again as soon as descriptors are free.
 */
export type ErrorHandler = (err: unknown, socket?: Socket) => void;

/** Resolves a `myaddr` host name to numeric addresses, in the resolver's order. */
export type AddressResolver = (host: string) => Promise<readonly string[]>;

/** Finds the host name of a numeric address (a reverse lookup). */
export type ReverseResolver = (address: string) => Promise<string>;

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Called for every accepted connection (required). */
  onConnection: ConnectionHandler;
  /**
   * Local address or host name to listen on (Tcl's `-myaddr`). A name is resolved and every
   * address it gives is listened on, one shared port. Default: every family the host supports
   * (`0.0.0.0` and `::`).
   */
  myaddr?: string;
  /**
   * Length of the kernel's queue of connections not yet accepted. Default 4096, Linux's
   * `SOMAXCONN` as Tcl uses it (the kernel caps it at `net.core.somaxconn`); a negative value
   * means the default, as in Tcl 8.7's `-backlog`.
   */
  backlog?: number | string;
  /** Where handler and accept errors go. Default: printed to stderr, as Tcl's `bgerror` does. */
  onError?: ErrorHandler;
  /**
   * At most this many accepted connections open at once, across all listening addresses.
   * A connection beyond it is closed at once (the peer sees EOF or a reset), as Node's
   * `server.maxConnections` does; {@link ListenOptions.onDrop} hears about it. Default: no limit.
   */
  maxConnections?: number;
  /** Told about every connection closed because of {@link ListenOptions.maxConnections}. */
  onDrop?: (address: string, port: number) => void;
  /**
   * Set `SO_REUSEPORT` so that several processes can listen on the same port and the kernel
   * spreads connections among them. Needs Node.js 22.12 / 23.1 or later (and a platform that
   * has it); elsewhere `listen` rejects with a clear error. Default false, as in Tcl 8.7.
   */
  reusePort?: boolean;
  /**
   * Under `node:cluster`, false (the default) lets workers share the primary's listening
   * sockets; true gives this worker sockets of its own. Outside a cluster it changes nothing.
   */
  exclusive?: boolean;
  /**
   * Keep an accepted socket writable after the peer's FIN, as Tcl does (the peer's
   * `close $s write` leaves a channel that can still answer). Default true; false gives Node's
   * default of ending our side at once.
   */
  allowHalfOpen?: boolean;
  /** Start accepted sockets paused (Node's `pauseOnConnect`). Default false. */
  pauseOnConnect?: boolean;
  /** Set `TCP_NODELAY` on accepted sockets. Default false, as in Tcl. */
  noDelay?: boolean;
  /** Set `SO_KEEPALIVE` on accepted sockets. Default false, as in Tcl. */
  keepAlive?: boolean;
  /**
   * Reverse-resolve the listening addresses so that {@link Listener.addresses} can show host
   * names, as Tcl's `-sockname` does: when first queried, through the process's bounded
   * reverse-lookup pool (`reverseNames()` of `@sockchan/base`: `/etc/hosts` first, then
   * `getnameinfo` in the background); never delaying anything. `false` (Tcl's `noReverseDNS`)
   * keeps the addresses numeric; a function replaces the hosts file and `getnameinfo` for this
   * listener. Wildcard addresses are never looked up. Default true.
   */
  reverseLookup?: boolean | ReverseResolver;
  /** Resolves `myaddr` names (default: the system resolver, like `getaddrinfo`). For tests. */
  resolver?: AddressResolver;
  /**
   * Servers behind a load balancer: connections from the listed proxies must begin with a
   * PROXY protocol header (v1 or v2, haproxy's specification), read before `onConnection`
   * runs, without holding up other connections. `onConnection` then gets the original
   * client's address and port and the header. A bad header, none within `timeout` (default
   * 10 s), or a connection closed before it, closes that connection and goes to `onError`
   * (`ERR_SOCKCHAN_PROXY`, `ERR_SOCKCHAN_TIMEOUT`); `onConnection` never sees it. Other peers
   * are served as plain connections. Default: none.
   */
  proxyProtocol?: ProxyProtocolOptions;
}

/** SOMAXCONN on Linux since glibc 2.35 / kernel 5.4; what Tcl passes to `listen()`. */
export const DEFAULT_BACKLOG = 4096;

/** Options after checking, with defaults applied. @internal */
export interface CheckedOptions {
  readonly onConnection: ConnectionHandler;
  readonly myaddr: string | undefined;
  readonly backlog: number;
  readonly onError: ErrorHandler | undefined;
  readonly maxConnections: number | undefined;
  readonly onDrop: ((address: string, port: number) => void) | undefined;
  readonly reusePort: boolean;
  readonly exclusive: boolean;
  readonly allowHalfOpen: boolean;
  readonly pauseOnConnect: boolean;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly reverseLookup: boolean | ReverseResolver;
  readonly resolver: AddressResolver | undefined;
  readonly proxyProtocol: CheckedProxyProtocol | undefined;
}

function badArgument(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
}

function optionalFunction<F>(value: unknown, name: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw badArgument(`option ${name} must be a function`);
  return value as F;
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw badArgument(`option ${name} must be true or false`);
  return value;
}

/**
 * Checks the options at run time (callers from JavaScript have no types) and applies defaults.
 * @internal
 */
export function checkOptions(options: ListenOptions, unix = false): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw badArgument('listen needs an options object with an onConnection handler');
  }
  if (typeof options.onConnection !== 'function') {
    throw badArgument('option onConnection must be a function (socket, address, port)');
  }
  const myaddr: unknown = options.myaddr;
  if (myaddr !== undefined && typeof myaddr !== 'string') throw badArgument('option myaddr must be a string');
  let backlog = DEFAULT_BACKLOG;
  if (options.backlog !== undefined) {
    const n = parseTclInteger(options.backlog);
    if (n >= 0) backlog = n;
  }
  let maxConnections: number | undefined;
  if (options.maxConnections !== undefined) {
    const n: unknown = options.maxConnections;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      throw new SockchanError(`bad value for maxConnections: must be a positive integer, got "${valueText(n)}"`, {
        code: 'ERR_SOCKCHAN_BAD_VALUE',
        errorCode: ['NONE'],
      });
    }
    maxConnections = n;
  }
  const reverseLookup: unknown = options.reverseLookup ?? true;
  if (typeof reverseLookup !== 'boolean' && typeof reverseLookup !== 'function') {
    throw badArgument('option reverseLookup must be true, false or a function');
  }
  return {
    onConnection: options.onConnection,
    myaddr,
    backlog,
    onError: optionalFunction<ErrorHandler>(options.onError, 'onError'),
    maxConnections,
    onDrop: optionalFunction<(address: string, port: number) => void>(options.onDrop, 'onDrop'),
    reusePort: optionalBoolean(options.reusePort, 'reusePort'),
    exclusive: optionalBoolean(options.exclusive, 'exclusive'),
    allowHalfOpen: options.allowHalfOpen === undefined ? true : optionalBoolean(options.allowHalfOpen, 'allowHalfOpen'),
    pauseOnConnect: optionalBoolean(options.pauseOnConnect, 'pauseOnConnect'),
    noDelay: optionalBoolean(options.noDelay, 'noDelay'),
    keepAlive: optionalBoolean(options.keepAlive, 'keepAlive'),
    reverseLookup: reverseLookup as boolean | ReverseResolver,
    resolver: optionalFunction<AddressResolver>(options.resolver, 'resolver'),
    proxyProtocol: options.proxyProtocol === undefined ? undefined : checkProxyProtocol(options.proxyProtocol, unix),
  };
}

/** Whether this Node.js has `reusePort` in `server.listen()` (22.12+ in 22.x, 23.1+). @internal */
export function nodeHasReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}
