import type { Socket } from 'node:net';
import { SockchanError, formatChoices, parseTclBoolean } from '@sockchan/base';
import { checkConnectArguments, connect } from '@sockchan/async-connect';
import type { ConnectOptions, HappyEyeballsTuning } from '@sockchan/async-connect';
import { listen } from '@sockchan/server';
import type { ListenOptions } from '@sockchan/server';
import { ServerChannel } from './server-channel.js';
import { SocketChannel } from './socket-channel.js';
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
  /** `socket -server command ?-myaddr addr? port`: resolves once listening. */
  server(callback: AcceptCallback, port: number | string, options?: ServerOptions): Promise<ServerChannel>;
  /** Tcl's argument syntax (see {@link SocketFromArgs}). */
  fromArgs: SocketFromArgs;
}

function badArgument(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
}

const CLIENT_OPTION_NAMES = [
  'async',
  'connectTimeout',
  'connectionAttemptDelay',
  'firstAddressFamilyCount',
  'keepalive',
  'myaddr',
  'myport',
  'nodelay',
  'resolutionDelay',
  'reverseLookup',
  'signal',
  'useHistory',
] as const;

const SERVER_OPTION_NAMES = ['backlog', 'keepalive', 'maxConnections', 'myaddr', 'nodelay', 'onError', 'reusePort', 'reverseLookup'] as const;

/** A misspelt option (`myAddr`) fails as Tcl's `bad option` does, instead of being ignored. */
function checkOptionNames(options: Record<string, unknown>, known: readonly string[], also: readonly string[] = []): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key) || also.includes(key) || options[key] === undefined) continue;
    throw new SockchanError(`bad option "${key}": must be ${formatChoices(known)}`, {
      code: 'ERR_SOCKCHAN_ARGS',
      errorCode: ['TCL', 'LOOKUP', 'INDEX', 'option', key],
    });
  }
}

function optionalBoolean(options: Record<string, unknown>, name: string): boolean | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'string') return parseTclBoolean(v);
  throw badArgument(`bad value for ${name}: expected a boolean but got ${typeof v}`);
}

interface CheckedClient {
  readonly host: string;
  readonly port: number | string;
  readonly connectOptions: ConnectOptions;
  readonly reverseLookup: boolean;
  readonly keepalive: boolean;
  readonly nodelay: boolean;
}

/** Checks everything a connect needs, throwing Tcl's argument errors (synchronously). */
function checkClient(host: unknown, port: unknown, options: unknown): CheckedClient {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw badArgument('socket options must be an object');
  }
  const o = (options ?? {}) as SocketOptions & Record<string, unknown>;
  checkOptionNames(o, CLIENT_OPTION_NAMES);
  // Tcl keeps a socket writable after the peer's FIN (`close $s write` on the other side).
  const connectOptions: ConnectOptions = { allowHalfOpen: true };
  if (o.myaddr !== undefined) connectOptions.myaddr = o.myaddr;
  if (o.myport !== undefined) connectOptions.myport = o.myport;
  if (o.connectTimeout !== undefined) connectOptions.connectTimeout = o.connectTimeout;
  if (o.connectionAttemptDelay !== undefined) connectOptions.connectionAttemptDelay = o.connectionAttemptDelay;
  if (o.resolutionDelay !== undefined) connectOptions.resolutionDelay = o.resolutionDelay;
  if (o.firstAddressFamilyCount !== undefined) connectOptions.firstAddressFamilyCount = o.firstAddressFamilyCount;
  if (o.useHistory !== undefined) connectOptions.useHistory = o.useHistory;
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw badArgument('bad value for signal: expected an AbortSignal');
  // Throws Tcl's texts for the host, the ports (`port number too high`, `expected integer ...`) and the tuning.
  const checked = checkConnectArguments(host, port, connectOptions);
  return {
    host: checked.host,
    port: checked.port,
    connectOptions,
    reverseLookup: optionalBoolean(o, 'reverseLookup') ?? true,
    keepalive: optionalBoolean(o, 'keepalive') ?? false,
    nodelay: optionalBoolean(o, 'nodelay') ?? false,
  };
}

function channelOptions(c: { reverseLookup: boolean; keepalive: boolean; nodelay: boolean }): {
  reverseLookup: boolean;
  keepalive?: boolean;
  nodelay?: boolean;
} {
  return {
    reverseLookup: c.reverseLookup,
    ...(c.keepalive ? { keepalive: true } : {}),
    ...(c.nodelay ? { nodelay: true } : {}),
  };
}

/** `AbortSignal.any` (Node >= 20.3), or the same by hand on older 20.x. */
function anySignal(user: AbortSignal, own: AbortController): AbortSignal {
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
  connect(c.host, c.port, { ...c.connectOptions, signal, onAttempt: (a) => ch._attempt(a) }).then(
    ({ socket, attempts }) => ch._connected(socket, attempts),
    (err: unknown) => ch._connectFailed(err),
  );
  return ch;
}

async function connectBlocking(c: CheckedClient, signal: AbortSignal | undefined): Promise<SocketChannel> {
  const { socket: s, attempts } = await connect(c.host, c.port, { ...c.connectOptions, ...(signal === undefined ? {} : { signal }) });
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

function defaultOnError(err: unknown, chan?: SocketChannel): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${chan === undefined ? '' : `error in accept callback for ${chan.name}: `}${text}\n`);
}

/** What every accepted connection of one server shares (no closures per connection). */
interface AcceptContext {
  readonly callback: AcceptCallback;
  readonly onError: (err: unknown, chan?: SocketChannel) => void;
  readonly chanOptions: { reverseLookup: boolean; keepalive?: boolean; nodelay?: boolean };
}

/** Runs the accept callback; a throw or rejection goes to `onError` and closes the channel (Tcl). */
function accepted(ctx: AcceptContext, s: Socket, address: string, port: number): void {
  const chan = new SocketChannel(s, ctx.chanOptions);
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

function acceptFailed(ctx: AcceptContext, chan: SocketChannel, err: unknown): void {
  chan.close().catch(() => undefined);
  try {
    ctx.onError(err, chan);
  } catch (second) {
    defaultOnError(err, chan);
    defaultOnError(second);
  }
}

async function serverImpl(callback: AcceptCallback, port: number | string, options: ServerOptions = {}): Promise<ServerChannel> {
  if (typeof callback !== 'function') throw badArgument('socket.server needs a callback (chan, clientAddr, clientPort)');
  if (typeof options !== 'object' || (options as unknown) === null) throw badArgument('socket.server options must be an object');
  const o = options as ServerOptions & Record<string, unknown>;
  // myport and async are checked below with Tcl's own texts.
  checkOptionNames(o, SERVER_OPTION_NAMES, ['myport', 'async']);
  if (o.onError !== undefined && typeof o.onError !== 'function') throw badArgument('bad value for onError: expected a function (err, chan)');
  // Tcl's texts for the client-only options (`socket -server cmd -myport 5 0`, `-async`).
  if (o['myport'] !== undefined) throw badArgument('option -myport is not valid for servers');
  if (o['async'] !== undefined && o['async'] !== false) throw badArgument('cannot set -async option for server sockets');
  const onError = o.onError ?? defaultOnError;
  const reverseLookup = optionalBoolean(o, 'reverseLookup') ?? true;
  const keepalive = optionalBoolean(o, 'keepalive') ?? false;
  const nodelay = optionalBoolean(o, 'nodelay') ?? false;
  const ctx: AcceptContext = { callback, onError, chanOptions: channelOptions({ reverseLookup, keepalive, nodelay }) };
  const listenOptions: ListenOptions = {
    onConnection: (s, address, clientPort) => accepted(ctx, s, address, clientPort),
    // Errors of accept() itself (no channel): the same handler.
    onError: (err) => onError(err),
    reverseLookup,
    allowHalfOpen: true,
  };
  if (o.myaddr !== undefined) listenOptions.myaddr = o.myaddr;
  if (o.backlog !== undefined) listenOptions.backlog = o.backlog;
  if (o.maxConnections !== undefined) listenOptions.maxConnections = o.maxConnections;
  if (o.reusePort !== undefined) listenOptions.reusePort = o.reusePort;
  const listener = await listen(port, listenOptions);
  return ServerChannel._create(listener);
}

function fromArgsImpl(...words: readonly TclSocketWord<AcceptCallback>[]): SocketChannel | Promise<SocketChannel> | Promise<ServerChannel> {
  const parsed = parseSocketArgs<AcceptCallback>(words);
  if (parsed.server) {
    if (typeof parsed.command !== 'function') {
      throw badArgument(`bad value for -server: expected a function (chan, clientAddr, clientPort) but got "${String(parsed.command)}"`);
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
 */
export const socket: SocketCommand = Object.assign(socketImpl as SocketCommand, {
  server: serverImpl,
  fromArgs: fromArgsImpl as SocketFromArgs,
});
