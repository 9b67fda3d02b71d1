import process from 'node:process';
import type { Socket } from 'node:net';
import { SockchanError, formatChoices, valueText } from '@sockchan/base';
import { checkConnectArguments, connect } from '@sockchan/async-connect';
import type { ConnectOptions, HappyEyeballsTuning } from '@sockchan/async-connect';
import { listen } from '@sockchan/server';
import { Channel, parseMaxLine } from '@sockchan/core';
import type { ListenOptions, ProxyHeader, ProxyProtocolOptions } from '@sockchan/server';
import { ServerChannel } from './server-channel.js';
import { inheritedServer, isInheritedSockets, unixImpl, unixServerImpl } from './unix.js';
import type { AsyncUnixSocketOptions, InheritedSockets, UnixServerOptions, UnixSocketOptions } from './unix.js';
import { SocketChannel } from './socket-channel.js';
import type { SocketChannelConstructorOptions } from './socket-channel.js';
import { parseSocketArgs } from './tcl-args.js';
import type { TclSocketWord } from './tcl-args.js';

/**
 * `socket`: Tcl's command, composed from `@sockchan/async-connect` (happy-eyeballs connect),
 * `@sockchan/server` (dual-stack listen) and `@sockchan/core` (the channel).
 */

/** Options of `socket(host, port, options)`: Tcl's `-myaddr`, `-myport`, `-async`, and Node-side extras. */
export interface SocketOptions extends HappyEyeballsTuning {
  /** Local address or name to bind before connecting (Tcl's `-myaddr`). */
  myaddr?: string;
  /** Local port to bind before connecting (Tcl's `-myport`): a number or a TCP service name. */
  myport?: number | string;
  /** Tcl's `-async`: return the channel at once and connect in the background. */
  async?: boolean;
  /** Cancels the connect (the promise rejects; an async channel fails as a failed connect). */
  signal?: AbortSignal;
  /** Reverse-resolve `sockname`/`peername` in the background (default true; Tcl's `noReverseDNS` is `false`). */
  reverseLookup?: boolean;
  /** `SO_KEEPALIVE` from the start (Tcl 9's `-keepalive`; default false). */
  keepalive?: boolean;
  /** `TCP_NODELAY` from the start (Tcl 9's `-nodelay`; default false, as Tcl). */
  nodelay?: boolean;
  /** Use and update happy eyeballs' per-host history (default true). */
  useHistory?: boolean;
  /**
   * The channel's input limit for `gets`, in characters (`Channel.maxLine`): a non-negative
   * integer, `0` for no limit (Tcl's behaviour); default `DEFAULT_MAX_LINE` (1 MiB). A longer line
   * makes `gets` fail with `ERR_SOCKCHAN_LIMIT`.
   */
  maxLine?: number;
}

/** `socket(...)` with `async: true`: the channel, at once. */
export type AsyncSocketOptions = SocketOptions & { async: true };

/**
 * The accept callback of `socket.server`: Tcl appends the new channel, the client's numeric
 * address and its port. A throw or a rejected promise goes to `onError` and closes the channel.
 */
export type AcceptCallback = (chan: SocketChannel, clientAddr: string, clientPort: number) => unknown;

/** Options of `socket.server(callback, port, options)`. */
export interface ServerOptions {
  /** Local address or name to listen on (Tcl's `-myaddr`); default: every family, one port. */
  myaddr?: string;
  /** Kernel accept queue length (Tcl 8.7's `-backlog`; default SOMAXCONN). */
  backlog?: number | string;
  /**
   * Receives errors of the accept callback, with the accepted channel (already being closed),
   * and `accept()` failures (no channel). Default: printed to stderr, like Tcl's `bgerror`.
   */
  onError?: (err: unknown, chan?: SocketChannel) => void;
  /** Reverse lookups for accepted channels and `sockname` (default true). */
  reverseLookup?: boolean;
  /** `SO_KEEPALIVE` on accepted channels (default false). */
  keepalive?: boolean;
  /** `TCP_NODELAY` on accepted channels (default false). */
  nodelay?: boolean;
  /** At most this many accepted connections open at once; more are closed at once. */
  maxConnections?: number;
  /** `SO_REUSEPORT` (Node >= 22.12 only, see `@sockchan/server`). */
  reusePort?: boolean;
  /**
   * The input limit for `gets` of every accepted channel (`Channel.maxLine`): a non-negative
   * integer, `0` for no limit; default `DEFAULT_MAX_LINE` (1 MiB).
   */
  maxLine?: number;
  /**
   * Behind a load balancer: connections from these proxies (`from`: addresses and CIDR blocks)
   * must begin with a PROXY protocol header (v1 or v2, haproxy's specification). The callback
   * then gets the original client's address and port, `peername` shows it, and `chan.proxy`
   * holds the header (TLVs included). A bad header, none within `timeout` ms (default 10 000),
   * or a connection closed first, closes that connection and goes to `onError`; the callback
   * never sees it. A `LOCAL` header (health checks) keeps the connection's own addresses.
   * Connections from other sources are plain ones.
   */
  proxyProtocol?: ProxyProtocolOptions;
}

/** `socket.fromArgs`: Tcl's own argument syntax, for line-by-line ports of Tcl code. */
export interface SocketFromArgs {
  /**
   * The client form: `socket.fromArgs('-async', '-myaddr', addr, host, port)`. With `-async` the
   * channel comes back at once, otherwise a promise; `await` serves both. Argument errors throw
   * synchronously with Tcl's texts (`bad option "-asy": must be -async, -myaddr, -myport, or
   * -server`, `wrong # args: should be ...`), as the Tcl command raises them.
   */
  (...words: readonly (string | number)[]): SocketChannel | Promise<SocketChannel>;
  /** The server form: `socket.fromArgs('-server', callback, '-myaddr', addr, port)`. */
  (...words: readonly TclSocketWord<AcceptCallback>[]): Promise<ServerChannel>;
}

/** The `socket` command: a function with `server` and `fromArgs` attached. */
export interface SocketCommand {
  /** `socket -async ?-myaddr addr? ?-myport port? host port`: returns the channel at once. */
  (host: string, port: number | string, options: AsyncSocketOptions): SocketChannel;
  /** `socket ?-myaddr addr? ?-myport port? host port`: resolves once connected. */
  (host: string, port: number | string, options?: SocketOptions & { async?: false }): Promise<SocketChannel>;
  /** Either form, decided at run time by `options.async`. */
  (host: string, port: number | string, options?: SocketOptions): SocketChannel | Promise<SocketChannel>;
  /**
   * `socket -server command ?-myaddr addr? port`: resolves once listening. In place of the port,
   * `{ fd: 3 }` (or several descriptors) or `{ listenFds: true | name }` serves listening
   * sockets a supervisor passed (socket activation; TCP or Unix-domain).
   */
  server(callback: AcceptCallback, port: number | string | InheritedSockets, options?: ServerOptions): Promise<ServerChannel>;
  /** A channel over a Unix-domain socket, at once (`async: true`). */
  unix(path: string, options: AsyncUnixSocketOptions): SocketChannel;
  /** A channel over a Unix-domain socket (a path, or `@name` on Linux): resolves once connected. */
  unix(path: string, options?: UnixSocketOptions & { async?: false }): Promise<SocketChannel>;
  /** Either form, decided at run time by `options.async`. */
  unix(path: string, options?: UnixSocketOptions): SocketChannel | Promise<SocketChannel>;
  /**
   * Listens on a Unix-domain socket; `callback(chan, path, 0)` for each connection. A stale
   * socket file is replaced, a live one or a non-socket fails (`address already in use`); the
   * file is removed on close and on a clean exit while it is still this server's.
   */
  unixServer(callback: AcceptCallback, path: string, options?: UnixServerOptions): Promise<ServerChannel>;
  /** Tcl's argument syntax (see {@link SocketFromArgs}). */
  fromArgs: SocketFromArgs;
}

export function badArgument(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
}

/**
 * An option whose value has the wrong type or range: `bad value for useHistory: expected true or
 * false but got {}`. Code `ERR_SOCKCHAN_BAD_VALUE`, as every value check of the layers below
 * (ports, Tcl booleans and integers, happy-eyeballs tuning, `maxLine`).
 */
export function badValue(name: string, expected: string, value: unknown): SockchanError {
  return new SockchanError(`bad value for ${name}: expected ${expected} but got ${shownValue(value)}`, {
    code: 'ERR_SOCKCHAN_BAD_VALUE',
    errorCode: ['NONE'],
  });
}

/** A value as an error message shows it: strings quoted, functions by kind, long texts cut. */
function shownValue(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  const text = valueText(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

export const CLIENT_OPTION_NAMES = [
  'async',
  'connectTimeout',
  'connectionAttemptDelay',
  'firstAddressFamilyCount',
  'keepalive',
  'maxLine',
  'myaddr',
  'myport',
  'nodelay',
  'resolutionDelay',
  'reverseLookup',
  'signal',
  'useHistory',
] as const;

const SERVER_OPTION_NAMES = [
  'backlog',
  'keepalive',
  'maxConnections',
  'maxLine',
  'myaddr',
  'nodelay',
  'onError',
  'proxyProtocol',
  'reusePort',
  'reverseLookup',
] as const;

/** The client's option names with a caller's (`tls.socket`'s), sorted; made once per list of extra names. */
const clientNames = new WeakMap<readonly string[], readonly string[]>();
function clientNamesWith(extraNames: readonly string[]): readonly string[] {
  let names = clientNames.get(extraNames);
  if (names === undefined) {
    names = [...CLIENT_OPTION_NAMES, ...extraNames].sort();
    clientNames.set(extraNames, names);
  }
  return names;
}

/** A misspelt option (`myAddr`) fails as Tcl's `bad option` does, instead of being ignored. */
export function checkOptionNames(options: Record<string, unknown>, known: readonly string[], also: readonly string[] = []): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key) || also.includes(key) || options[key] === undefined) continue;
    throw new SockchanError(`bad option "${key}": must be ${formatChoices(known)}`, {
      code: 'ERR_SOCKCHAN_ARGS',
      errorCode: ['TCL', 'LOOKUP', 'INDEX', 'option', key],
    });
  }
}

// The option checks take the value, read by name where they are called (`o['nodelay']`): one
// property load per call site, where a load of `options[name]` inside a shared helper sees every
// name and object and goes megamorphic, a lookup in V8's runtime for each absent option of
// every call.

/** A boolean option: `true`, `false` or absent; anything else (`'yes'`, `1`, `{}`) is a bad value. */
export function optionalBoolean(v: unknown, name: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw badValue(name, 'true or false', v);
}

/** A string option (`myaddr`). */
function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  throw badValue(name, 'a string', v);
}

/** A number-or-name option (`myport`, `backlog`): its text is checked by the layer that parses it. */
export function checkNumberOrString(v: unknown, name: string, expected: string): void {
  if (v !== undefined && typeof v !== 'number' && typeof v !== 'string') throw badValue(name, expected, v);
}

/** `maxLine`: checked by core's {@link parseMaxLine}, with the `Channel.maxLine` setter's text. */
export function optionalMaxLine(options: Record<string, unknown>): number | undefined {
  const v = options['maxLine'];
  return v === undefined ? undefined : parseMaxLine(v);
}

/** What the channels of one `socket()` or `socket.server()` call are made with. */
export interface ChannelDefaults {
  readonly reverseLookup: boolean;
  readonly keepalive: boolean;
  readonly nodelay: boolean;
  readonly maxLine: number | undefined;
}

export interface CheckedClient extends ChannelDefaults {
  readonly host: string;
  readonly port: number | string;
  readonly connectOptions: ConnectOptions;
}

/**
 * Checks everything a connect needs, throwing Tcl's argument errors (synchronously). `extraNames`
 * are further option names the caller handles itself (`tls.socket`'s), named in `bad option` texts.
 * The connect options give every attempt's socket `Channel.onread`: its reads go straight to the
 * channel (`tls.socket`'s attempts too: Node gives a TLS socket's decrypted bytes to `onread`).
 */
export function checkClient(host: unknown, port: unknown, options: unknown, extraNames: readonly string[] = []): CheckedClient {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw badArgument('socket options must be an object');
  }
  const o = (options ?? {}) as SocketOptions & Record<string, unknown>;
  checkOptionNames(o, extraNames.length === 0 ? CLIENT_OPTION_NAMES : clientNamesWith(extraNames), extraNames);
  // Types first, in the order of the interface; the texts of numbers and names are checked below.
  optionalString(o['myaddr'], 'myaddr');
  checkNumberOrString(o['myport'], 'myport', 'a port number or a service name');
  optionalBoolean(o['async'], 'async');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw badValue('signal', 'an AbortSignal', o.signal);
  const reverseLookup = optionalBoolean(o['reverseLookup'], 'reverseLookup') ?? true;
  const keepalive = optionalBoolean(o['keepalive'], 'keepalive') ?? false;
  const nodelay = optionalBoolean(o['nodelay'], 'nodelay') ?? false;
  optionalBoolean(o['useHistory'], 'useHistory');
  const maxLine = optionalMaxLine(o);
  // The values were checked above (the checks return them unchanged): the connect options take them as given.
  const connectOptions = ownConnectOptions(o);
  // Throws Tcl's texts for the host, the ports (`port number too high`, `expected integer ...`) and
  // the tuning (`bad connectTimeout "x": must be an integer from ...`).
  const checked = checkConnectArguments(host, port, connectOptions);
  return { host: checked.host, port: checked.port, connectOptions, reverseLookup, keepalive, nodelay, maxLine };
}

/**
 * The connect options of checked socket options, field by field (`checkClient` makes its own
 * this way; `tls.socket` makes each call's from the ones it kept, which then get the call's own
 * fields, `signal`, `onAttempt` and `createSocket`, while the kept ones stay as they were).
 */
export function ownConnectOptions(checked: ConnectOptions): ConnectOptions {
  // Tcl keeps a socket writable after the peer's FIN (`close $s write` on the other side).
  // Channel.onread: the channel gets each read straight from the socket (no 'data' event).
  const o: ConnectOptions = { allowHalfOpen: true, onread: Channel.onread };
  if (checked.myaddr !== undefined) o.myaddr = checked.myaddr;
  if (checked.myport !== undefined) o.myport = checked.myport;
  if (checked.connectTimeout !== undefined) o.connectTimeout = checked.connectTimeout;
  if (checked.connectionAttemptDelay !== undefined) o.connectionAttemptDelay = checked.connectionAttemptDelay;
  if (checked.resolutionDelay !== undefined) o.resolutionDelay = checked.resolutionDelay;
  if (checked.firstAddressFamilyCount !== undefined) o.firstAddressFamilyCount = checked.firstAddressFamilyCount;
  if (checked.useHistory !== undefined) o.useHistory = checked.useHistory;
  return o;
}

/** The constructor options of the channels (only what differs from the defaults besides `reverseLookup`). */
export type NewChannelOptions = Pick<SocketChannelConstructorOptions, 'reverseLookup' | 'keepalive' | 'nodelay' | 'maxLine' | 'path'>;

export function channelOptions(c: ChannelDefaults): NewChannelOptions {
  // Set one by one: no spreads (a copy through V8's runtime each) on every connect.
  const options: NewChannelOptions = { reverseLookup: c.reverseLookup };
  if (c.keepalive) options.keepalive = true;
  if (c.nodelay) options.nodelay = true;
  if (c.maxLine !== undefined) options.maxLine = c.maxLine;
  return options;
}

/**
 * A connect's options with the caller's signal, if any: set on `options`, which is the call's own
 * object (`checkClient` makes one per call), as a copy would cost a spread per connect.
 */
export function withSignal(options: ConnectOptions, signal: AbortSignal | undefined): ConnectOptions {
  if (signal !== undefined) options.signal = signal;
  return options;
}

/** `AbortSignal.any` (Node >= 20.3), or the same by hand on older 20.x. */
export function anySignal(user: AbortSignal, own: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([user, own.signal]);
  if (user.aborted) own.abort(user.reason);
  else user.addEventListener('abort', () => own.abort(user.reason), { once: true });
  return own.signal;
}

function connectAsync(c: CheckedClient, userSignal: AbortSignal | undefined): SocketChannel {
  const ch = new SocketChannel(undefined, channelOptions(c));
  const controller = new AbortController();
  const signal = userSignal === undefined ? controller.signal : anySignal(userSignal, controller);
  ch._setAbort(controller);
  // The call's own options object (see withSignal).
  const o = c.connectOptions;
  o.signal = signal;
  o.onAttempt = (a) => ch._attempt(a);
  connect(c.host, c.port, o).then(
    ({ socket, attempts }) => ch._connected(socket, attempts),
    (err: unknown) => ch._connectFailed(err),
  );
  return ch;
}

async function connectBlocking(c: CheckedClient, signal: AbortSignal | undefined): Promise<SocketChannel> {
  const { socket: s, attempts } = await connect(c.host, c.port, withSignal(c.connectOptions, signal));
  const ch = new SocketChannel(undefined, channelOptions(c));
  ch._connected(s, attempts);
  return ch;
}

function socketImpl(host: string, port: number | string, options?: SocketOptions): SocketChannel | Promise<SocketChannel> {
  if (options?.async === true) {
    const c = checkClient(host, port, options);
    return connectAsync(c, options.signal);
  }
  try {
    const c = checkClient(host, port, options);
    return connectBlocking(c, options?.signal);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export function defaultOnError(err: unknown, chan?: SocketChannel): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${chan === undefined ? '' : `error in accept callback for ${chan.name}: `}${text}\n`);
}

/** What every accepted connection of one server shares (no closures per connection). */
export interface AcceptContext {
  readonly callback: AcceptCallback;
  readonly onError: (err: unknown, chan?: SocketChannel) => void;
  readonly chanOptions: NewChannelOptions;
}

/** Runs the accept callback on a new channel; a throw or rejection goes to `onError` and closes the channel (Tcl). */
export function accepted(ctx: AcceptContext, s: Socket, address: string, port: number, proxy?: ProxyHeader): void {
  runAcceptCallback(ctx, acceptedChannel(ctx, s, proxy), address, port);
}

/** The channel of an accepted socket, with the server's channel options (and the PROXY header it began with). */
export function acceptedChannel(ctx: AcceptContext, s: Socket, proxy: ProxyHeader | undefined): SocketChannel {
  return proxy === undefined ? new SocketChannel(s, ctx.chanOptions) : proxiedChannel(ctx, s, proxy);
}

/** Calls the accept callback with `chan`; a throw or rejection goes to `onError` and closes the channel (Tcl). */
export function runAcceptCallback(ctx: AcceptContext, chan: SocketChannel, address: string, port: number): void {
  let result: unknown;
  try {
    result = ctx.callback(chan, address, port);
  } catch (err) {
    acceptFailed(ctx, chan, err);
    return;
  }
  if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
    (result as Promise<unknown>).then(undefined, (err: unknown) => acceptFailed(ctx, chan, err));
  }
}

/**
 * The options of each server's channels with a PROXY header, one object per server, reused: the
 * constructor reads them at once and keeps none (a copy per connection showed in the accept
 * rate behind a load balancer).
 */
const proxiedOptions = new WeakMap<AcceptContext, NewChannelOptions & { proxy?: ProxyHeader | undefined }>();

function proxiedChannel(ctx: AcceptContext, s: Socket, proxy: ProxyHeader): SocketChannel {
  let options = proxiedOptions.get(ctx);
  if (options === undefined) {
    options = { ...ctx.chanOptions, proxy: undefined };
    proxiedOptions.set(ctx, options);
  }
  options.proxy = proxy;
  try {
    // `proxy` is set for the call only (undefined between calls, which the public type leaves out).
    return new SocketChannel(s, options as SocketChannelConstructorOptions);
  } finally {
    options.proxy = undefined;
  }
}

function acceptFailed(ctx: AcceptContext, chan: SocketChannel, err: unknown): void {
  chan.close().catch(() => undefined);
  try {
    ctx.onError(err, chan);
  } catch (second) {
    defaultOnError(err, chan);
    defaultOnError(second);
  }
}

/**
 * How an accepted socket becomes a channel: {@link accepted} at once (TCP), or after a TLS
 * handshake (`tls.server`); `proxy` is the PROXY protocol header the connection began with.
 */
export type AcceptHandler = (ctx: AcceptContext, s: Socket, address: string, port: number, proxy?: ProxyHeader) => void;

/**
 * `socket.server`; `accept` and `extraNames` (option names it handles, for `bad option` texts)
 * are for `tls.server`.
 */
export async function serverImpl(
  callback: AcceptCallback,
  port: number | string | InheritedSockets,
  options: ServerOptions = {},
  accept: AcceptHandler = accepted,
  extraNames: readonly string[] = [],
): Promise<ServerChannel> {
  if (typeof callback !== 'function') throw badArgument('socket.server needs a callback (chan, clientAddr, clientPort)');
  if (typeof options !== 'object' || (options as unknown) === null) throw badArgument('socket.server options must be an object');
  const o = options as ServerOptions & Record<string, unknown>;
  // myport and async are checked below with Tcl's own texts.
  checkOptionNames(o, extraNames.length === 0 ? SERVER_OPTION_NAMES : [...SERVER_OPTION_NAMES, ...extraNames].sort(), ['myport', 'async', ...extraNames]);
  // Tcl's texts for the client-only options (`socket -server cmd -myport 5 0`, `-async`).
  if (o['myport'] !== undefined) throw badArgument('option -myport is not valid for servers');
  if (o['async'] !== undefined && o['async'] !== false) throw badArgument('cannot set -async option for server sockets');
  // Types, in the order of the interface; `backlog`'s text and `maxConnections` are checked by listen().
  const myaddr = optionalString(o['myaddr'], 'myaddr');
  checkNumberOrString(o['backlog'], 'backlog', 'an integer');
  if (o.onError !== undefined && typeof o.onError !== 'function') throw badValue('onError', 'a function (err, chan)', o.onError);
  const reverseLookup = optionalBoolean(o['reverseLookup'], 'reverseLookup') ?? true;
  const keepalive = optionalBoolean(o['keepalive'], 'keepalive') ?? false;
  const nodelay = optionalBoolean(o['nodelay'], 'nodelay') ?? false;
  const reusePort = optionalBoolean(o['reusePort'], 'reusePort');
  const maxLine = optionalMaxLine(o);
  const onError = o.onError ?? defaultOnError;
  const ctx: AcceptContext = { callback, onError, chanOptions: channelOptions({ reverseLookup, keepalive, nodelay, maxLine }) };
  if (isInheritedSockets(port)) return inheritedServer(ctx, port, options);
  const listenOptions: ListenOptions = {
    onConnection: (s, address, clientPort, proxy) => accept(ctx, s, address, clientPort, proxy),
    // Errors of accept() itself and failed PROXY headers (no channel): the same handler.
    onError: (err) => onError(err),
    reverseLookup,
    allowHalfOpen: true,
  };
  if (myaddr !== undefined) listenOptions.myaddr = myaddr;
  if (o.backlog !== undefined) listenOptions.backlog = o.backlog;
  if (o.maxConnections !== undefined) listenOptions.maxConnections = o.maxConnections;
  if (reusePort !== undefined) listenOptions.reusePort = reusePort;
  // Checked by listen() (`from` entries, `timeout`), with messages that name the bad value.
  if (o.proxyProtocol !== undefined) listenOptions.proxyProtocol = o.proxyProtocol;
  const listener = await listen(port, listenOptions);
  return ServerChannel._create(listener);
}

function fromArgsImpl(...words: readonly TclSocketWord<AcceptCallback>[]): SocketChannel | Promise<SocketChannel> | Promise<ServerChannel> {
  const parsed = parseSocketArgs<AcceptCallback>(words);
  if (parsed.server) {
    if (typeof parsed.command !== 'function') {
      throw badArgument(`bad value for -server: expected a function (chan, clientAddr, clientPort) but got "${valueText(parsed.command)}"`);
    }
    return serverImpl(parsed.command, parsed.port, parsed.myaddr === undefined ? {} : { myaddr: parsed.myaddr });
  }
  const options: SocketOptions = {
    ...(parsed.myaddr === undefined ? {} : { myaddr: parsed.myaddr }),
    ...(parsed.myport === undefined ? {} : { myport: parsed.myport }),
  };
  if (parsed.async) return socketImpl(parsed.host, parsed.port, { ...options, async: true });
  return socketImpl(parsed.host, parsed.port, options);
}

/**
 * Tcl's `socket` command.
 *
 * - `await socket(host, port, { myaddr, myport })`: connects (happy eyeballs over every address
 *   of `host`), resolves with a {@link SocketChannel}; rejects with Tcl's text
 *   (`couldn't open socket: connection refused`).
 * - `socket(host, port, { async: true })`: the channel at once; the connect (name resolution
 *   included) runs in the background. Output is queued meanwhile; `onWritable` fires once it
 *   succeeded or failed; `configure('error')` says why it failed.
 * - `await socket.server(callback, port, { myaddr })`: listens (every family without `myaddr`),
 *   calls `callback(chan, clientAddr, clientPort)` for each connection; resolves with a
 *   {@link ServerChannel}.
 * - `socket.fromArgs(...words)`: Tcl's own argument syntax.
 * - `socket.unix(path, { async })` and `socket.unixServer(callback, path, { mode })`: the same
 *   channels over Unix-domain sockets; `socket.server(callback, { fd: 3 })` and
 *   `{ listenFds: true }`: socket activation.
 */
export const socket: SocketCommand = Object.assign(socketImpl as SocketCommand, {
  server: serverImpl,
  fromArgs: fromArgsImpl as SocketFromArgs,
  unix: unixImpl as SocketCommand['unix'],
  unixServer: unixServerImpl,
});
