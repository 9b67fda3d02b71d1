import net from 'node:net';
import type { Socket } from 'node:net';
import { SockchanError, checkUnixPath, toSockchanError } from '@sockchan/base';
import { Channel } from '@sockchan/core';
import { activatedSockets, listenFd, listenUnix } from '@sockchan/server';
import type { Listener, ListenOptions, UnixListenOptions, UnixProxyProtocolOptions } from '@sockchan/server';
import { ServerChannel } from './server-channel.js';
import { SocketChannel } from './socket-channel.js';
import {
  accepted,
  anySignal,
  defaultOnError,
  badArgument,
  badValue,
  checkNumberOrString,
  checkOptionNames,
  optionalBoolean,
  optionalMaxLine,
} from './socket.js';
import type { AcceptCallback, AcceptContext, ServerOptions } from './socket.js';

/**
 * `socket.unix` and `socket.unixServer`: Tcl channels over Unix-domain sockets, and the
 * listening sockets a supervisor passes (`socket.server(cb, { fd })`, `{ listenFds }`).
 */

const OPEN_FAILED = "couldn't open socket: ";

/** Options of `socket.unix(path, options)`. */
export interface UnixSocketOptions {
  /** Return the channel at once and connect in the background, as `socket -async`. */
  async?: boolean;
  /** Cancels the connect (the promise rejects; an async channel fails as a failed connect). */
  signal?: AbortSignal;
  /** The channel's input limit for `gets` (see `SocketOptions.maxLine`). */
  maxLine?: number;
}

/** `socket.unix(...)` with `async: true`: the channel, at once. */
export type AsyncUnixSocketOptions = UnixSocketOptions & { async: true };

/** Options of `socket.unixServer(callback, path, options)`. */
export interface UnixServerOptions {
  /**
   * The socket file's permission bits (`0o660` or `'660'`), set before the file appears at its
   * path. Default: what the umask leaves. Not for `@abstract` names.
   */
  mode?: number | string;
  /** Kernel accept queue length (default SOMAXCONN). */
  backlog?: number | string;
  /** Receives accept-callback errors (with the channel) and accept failures; default: stderr. */
  onError?: (err: unknown, chan?: SocketChannel) => void;
  /** At most this many accepted connections open at once; more are closed at once. */
  maxConnections?: number;
  /** The input limit for `gets` of every accepted channel. */
  maxLine?: number;
  /**
   * Behind a proxy that forwards to this socket (haproxy's `send-proxy` / `send-proxy-v2`):
   * every connection must begin with a PROXY protocol header, as with `socket.server`'s
   * `proxyProtocol`. The callback then gets the original client's address and port, `peername`
   * shows them and `chan.proxy` holds the header; a bad, slow (`timeout`, default 10 s) or
   * missing header closes that connection and goes to `onError`. `from` may be left out: a
   * Unix peer has no address to match. A `LOCAL` header keeps the socket's path.
   */
  proxyProtocol?: UnixProxyProtocolOptions;
}

/**
 * Listening sockets handed over by a supervisor, in place of a port: `{ fd: 3 }` (or several
 * descriptors), or `{ listenFds: true }` for every socket systemd passed (`LISTEN_FDS`,
 * `LISTEN_PID`), `{ listenFds: 'web' }` for those its `LISTEN_FDNAMES` names `web`.
 */
export type InheritedSockets = { readonly fd: number | readonly number[] } | { readonly listenFds: true | string };

const UNIX_CLIENT_OPTIONS = ['async', 'maxLine', 'signal'] as const;
const UNIX_SERVER_OPTIONS = ['backlog', 'maxConnections', 'maxLine', 'mode', 'onError', 'proxyProtocol'] as const;

interface CheckedUnixClient {
  readonly nodePath: string;
  readonly path: string;
  readonly maxLine: number | undefined;
  readonly signal: AbortSignal | undefined;
}

function checkUnixClient(path: unknown, options: unknown): CheckedUnixClient {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw badArgument('socket.unix options must be an object');
  const o = (options ?? {}) as UnixSocketOptions & Record<string, unknown>;
  checkOptionNames(o, UNIX_CLIENT_OPTIONS);
  optionalBoolean(o['async'], 'async');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw badValue('signal', 'an AbortSignal', o.signal);
  const maxLine = optionalMaxLine(o);
  const address = checkUnixPath(path);
  return { nodePath: address.nodePath, path: address.path, maxLine, signal: o.signal };
}

function channelFor(c: { readonly path: string; readonly maxLine: number | undefined }): SocketChannel {
  return new SocketChannel(undefined, { path: c.path, ...(c.maxLine === undefined ? {} : { maxLine: c.maxLine }) });
}

/** The connect's failure as Tcl words it (`couldn't open socket: no such file or directory`). */
function connectError(err: unknown): SockchanError {
  return toSockchanError(OPEN_FAILED, err);
}

function aborted(reason: unknown): SockchanError {
  return new SockchanError(`${OPEN_FAILED}operation canceled`, {
    code: 'ERR_SOCKCHAN_ABORTED',
    errorCode: ['POSIX', 'ECANCELED', 'operation canceled'],
    cause: reason,
  });
}

/**
 * Starts the connect; `settle` hears once: the connected socket, or the error. An abort
 * destroys the socket and settles with `operation canceled`.
 */
function startConnect(c: CheckedUnixClient, signal: AbortSignal | undefined, settle: (socket: Socket | undefined, err?: SockchanError) => void): void {
  if (signal?.aborted === true) {
    settle(undefined, aborted(signal.reason));
    return;
  }
  // Channel.onread: each read goes straight to the channel (no 'data' event), as TCP clients.
  const socket = net.connect({ path: c.nodePath, allowHalfOpen: true, onread: Channel.onread });
  const onAbort = (): void => {
    socket.destroy();
    done(undefined, aborted(signal?.reason));
  };
  let settled = false;
  const done = (s: Socket | undefined, err?: SockchanError): void => {
    if (settled) return;
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    socket.removeListener('error', onError);
    settle(s, err);
  };
  const onError = (err: Error): void => {
    socket.destroy();
    done(undefined, connectError(err));
  };
  socket.once('connect', () => done(socket));
  socket.once('error', onError);
  signal?.addEventListener('abort', onAbort, { once: true });
}

/**
 * `socket.unix(path, options)`: a {@link SocketChannel} over a Unix-domain socket (a path, or a
 * Linux abstract name written `@name`). Blocking form: resolves once connected; `async: true`:
 * the channel at once (argument errors still throw). Every channel behaviour is TCP's.
 * @internal
 */
export function unixImpl(path: string, options?: UnixSocketOptions): SocketChannel | Promise<SocketChannel> {
  if (options?.async === true) {
    const c = checkUnixClient(path, options);
    const ch = channelFor(c);
    const controller = new AbortController();
    ch._setAbort(controller);
    const signal = c.signal === undefined ? controller.signal : anySignal(c.signal, controller);
    startConnect(c, signal, (socket, err) => {
      if (socket === undefined) ch._connectFailed(err);
      else ch._connected(socket, []);
    });
    return ch;
  }
  let c: CheckedUnixClient;
  try {
    c = checkUnixClient(path, options);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return new Promise((resolve, reject) => {
    startConnect(c, c.signal, (socket, err) => {
      if (socket === undefined) {
        reject(err ?? connectError(new Error('connect failed')));
        return;
      }
      const ch = channelFor(c);
      ch._connected(socket, []);
      resolve(ch);
    });
  });
}

/** The accept context of Unix-domain connections on `path`. */
function unixContext(base: AcceptContext, path: string): AcceptContext {
  return { ...base, chanOptions: { ...base.chanOptions, path, reverseLookup: false } };
}

/**
 * `socket.unixServer(callback, path, options)`: listens on a Unix-domain socket (see
 * `@sockchan/server`'s `listenUnix` for stale, live and foreign files, `mode` and removal) and
 * calls `callback(chan, path, 0)` for each connection.
 * @internal
 */
export async function unixServerImpl(callback: AcceptCallback, path: string, options: UnixServerOptions = {}): Promise<ServerChannel> {
  if (typeof callback !== 'function') throw badArgument('socket.unixServer needs a callback (chan, path, port)');
  if (typeof options !== 'object' || (options as unknown) === null) throw badArgument('socket.unixServer options must be an object');
  const o = options as UnixServerOptions & Record<string, unknown>;
  checkOptionNames(o, UNIX_SERVER_OPTIONS);
  checkNumberOrString(o['mode'], 'mode', 'a file mode such as 0o660');
  checkNumberOrString(o['backlog'], 'backlog', 'an integer');
  if (o.onError !== undefined && typeof o.onError !== 'function') throw badValue('onError', 'a function (err, chan)', o.onError);
  const maxLine = optionalMaxLine(o);
  const onError = o.onError ?? defaultOnError;
  const address = checkUnixPath(path);
  const ctx = unixContext({ callback, onError, chanOptions: maxLine === undefined ? {} : { maxLine } }, address.path);
  const listenOptions: UnixListenOptions = {
    onConnection: (s, clientAddr, port, proxy) => accepted(ctx, s, clientAddr, port, proxy),
    onError: (err) => onError(err),
    allowHalfOpen: true,
  };
  if (o.mode !== undefined) listenOptions.mode = o.mode;
  // Checked by listenUnix() (`from` entries, `timeout`), with messages that name the bad value.
  if (o.proxyProtocol !== undefined) listenOptions.proxyProtocol = o.proxyProtocol;
  if (o.backlog !== undefined) listenOptions.backlog = o.backlog;
  if (o.maxConnections !== undefined) listenOptions.maxConnections = o.maxConnections;
  return ServerChannel._create(await listenUnix(path, listenOptions));
}

/** True for `{ fd }` or `{ listenFds }` in place of a port. */
export function isInheritedSockets(value: unknown): value is InheritedSockets {
  return typeof value === 'object' && value !== null && ('fd' in value || 'listenFds' in value);
}

/** The descriptors `source` names: as given, or those systemd passed (all, or by name). */
function inheritedFds(source: InheritedSockets): number | readonly number[] {
  if ('fd' in source) return source.fd;
  const want = source.listenFds;
  if (want !== true && typeof want !== 'string') throw badValue('listenFds', 'true or a LISTEN_FDNAMES name', want);
  const found = activatedSockets().filter((s) => want === true || s.name === want);
  if (found.length === 0) {
    const which = want === true ? '' : ` named "${want}"`;
    throw new SockchanError(`${OPEN_FAILED}no listening socket${which} was passed by the service manager (LISTEN_FDS, LISTEN_PID)`, {
      code: 'ERR_SOCKCHAN_ARGS',
      errorCode: ['NONE'],
    });
  }
  return found.map((s) => s.fd);
}

/**
 * `socket.server(callback, { fd } | { listenFds }, options)`: serves inherited listening
 * sockets (TCP or Unix-domain). `myaddr` and `reusePort` do not apply.
 * @internal
 */
export async function inheritedServer(ctx: AcceptContext, source: InheritedSockets, options: ServerOptions): Promise<ServerChannel> {
  if (options.myaddr !== undefined) throw badArgument('option myaddr does not apply to inherited sockets (fd, listenFds)');
  if (options.reusePort !== undefined) throw badArgument('option reusePort does not apply to inherited sockets (fd, listenFds)');
  const fds = inheritedFds(source);
  const unixContexts = new Map<string, AcceptContext>();
  const listenOptions: Omit<ListenOptions, 'myaddr'> = {
    // A TCP peer's port is never 0: port 0 is a Unix-domain connection on the path `address`.
    onConnection: (s, address, port) => {
      if (port !== 0) {
        accepted(ctx, s, address, port);
        return;
      }
      let unix = unixContexts.get(address);
      if (unix === undefined) unixContexts.set(address, (unix = unixContext(ctx, address)));
      accepted(unix, s, address, port);
    },
    onError: (err) => ctx.onError(err),
    reverseLookup: options.reverseLookup ?? true,
    allowHalfOpen: true,
  };
  if (options.maxConnections !== undefined) listenOptions.maxConnections = options.maxConnections;
  if (options.backlog !== undefined) listenOptions.backlog = options.backlog;
  const listener: Listener = await listenFd(fds, listenOptions);
  return ServerChannel._create(listener);
}
