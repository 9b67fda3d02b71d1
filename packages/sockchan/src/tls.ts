import type { Socket, TcpNetConnectOpts } from 'node:net';
import type { ConnectOptions } from '@sockchan/async-connect';
import { SockchanError, formatChoices } from '@sockchan/base';
import { connect } from '@sockchan/async-connect';
import { TLS_OPTION_NAMES, bindTls, checkTlsOptions, connectClient, handshake, importTls, splitTlsOptions, startServer, status } from '@sockchan/tls';
import type { CheckedTlsOptions, TlsImportOptions, TlsOptions, TlsSession, TlsStatus, TlsStatusOptions } from '@sockchan/tls';
import type { Channel } from '@sockchan/core';
import type { ServerChannel } from './server-channel.js';
import { SocketChannel } from './socket-channel.js';
import { CLIENT_OPTION_NAMES, acceptedChannel, anySignal, channelOptions, checkClient, ownConnectOptions, runAcceptCallback, serverImpl, withSignal } from './socket.js';
import { OptionsMemo } from './options-memo.js';
import type { AcceptCallback, AcceptHandler, CheckedClient, NewChannelOptions, ServerOptions, SocketOptions } from './socket.js';

/**
 * `tls`: TclTLS's commands, composed. `tls.socket` connects with happy eyeballs and then speaks
 * TLS with the host name given as SNI and verification name; `tls.server` hands a connection to
 * its callback only once its handshake succeeded; `tls.import`, `tls.handshake` and `tls.status`
 * are `@sockchan/tls`'s.
 */

/** Options of `tls.socket`: `socket()`'s and TclTLS's (see `TlsOptions` of `@sockchan/tls`). */
export interface TlsSocketOptions extends SocketOptions, Omit<TlsOptions, 'server' | 'sni'> {}

/** `tls.socket` with `async: true`. */
export type AsyncTlsSocketOptions = TlsSocketOptions & { async: true };

/** Options of `tls.server`: `socket.server()`'s and TclTLS's; a certificate is required. */
export interface TlsServerOptions extends ServerOptions, Omit<TlsOptions, 'server' | 'servername'> {}

/** The `tls` command set: `socket`, `server`, `import`, `handshake`, `status`, `reload`. */
export interface TlsCommand {
  /** `tls::socket -async host port`: the channel at once; `connecting` stays true until the handshake is done. */
  socket(host: string, port: number | string, options: AsyncTlsSocketOptions): SocketChannel;
  /** `tls::socket host port`: resolves once connected, the handshake done and the server verified. */
  socket(host: string, port: number | string, options?: TlsSocketOptions & { async?: false }): Promise<SocketChannel>;
  /** Either form, decided at run time by `options.async`. */
  socket(host: string, port: number | string, options?: TlsSocketOptions): SocketChannel | Promise<SocketChannel>;
  /** `tls::socket -server command port`: resolves once listening. */
  server(callback: AcceptCallback, port: number | string, options: TlsServerOptions): Promise<ServerChannel>;
  /** `tls::import`: STARTTLS on an open channel (`server: true` for the server's role). */
  import(ch: Channel, options?: TlsImportOptions): Promise<void>;
  /** `tls::handshake`: true once done; false while in progress in nonblocking mode. */
  handshake(ch: Channel): Promise<boolean>;
  /** `tls::status`: certificate and connection facts, `null` before the handshake. */
  status(ch: Channel, options?: TlsStatusOptions): TlsStatus | null;
  /** New certificates (and other TLS options) for a `tls.server`'s next connections, without restarting it. */
  reload(server: ServerChannel, options: Omit<TlsOptions, 'server' | 'servername'>): void;
}

const CONNECT_PREFIX = "couldn't open socket: ";
const CLIENT_TLS_NAMES = TLS_OPTION_NAMES.filter((n) => n !== 'server' && n !== 'sni');
const SERVER_TLS_NAMES = TLS_OPTION_NAMES.filter((n) => n !== 'server' && n !== 'servername');
/** The TLS options a client refuses (a server's), and the names its `bad option` text offers instead. */
const CLIENT_REFUSED = ['server', 'sni'];
const CLIENT_REFUSED_KNOWN = [...CLIENT_TLS_NAMES, 'async', 'myaddr', 'myport'];
const SERVER_ONLY_OF_SOCKET = ['backlog', 'keepalive', 'maxConnections', 'maxLine', 'myaddr', 'nodelay', 'onError', 'reusePort', 'reverseLookup'];

/** The TLS options of each TLS server, replaced by `reload`. */
const serverOptions = new WeakMap<ServerChannel, { checked: CheckedTlsOptions }>();

/** A TLS option that only the other side has: `bad option`, with the names this side takes. */
function refuseOption(options: Record<string, unknown>, names: readonly string[], known: readonly string[]): void {
  for (const n of names) {
    if (options[n] === undefined) continue;
    throw new SockchanError(`bad option "${n}": must be ${formatChoices([...known].sort())}`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['TCL', 'LOOKUP', 'INDEX', 'option', n] });
  }
}

/** What `tls.socket` checked of its arguments: kept for the next call with the same options object. */
interface TlsClientCheck {
  /** The socket part; its `connectOptions` are a template, copied for each call ({@link ownConnectOptions}). */
  readonly client: CheckedClient;
  readonly tls: CheckedTlsOptions;
  /** The channel's constructor options (read at once by the constructor, never changed: shared). */
  readonly chanOptions: NewChannelOptions;
}

/** One call of `tls.socket`: the checked arguments, and the call's own connect options and attempts. */
interface CheckedTlsClient extends TlsClientCheck {
  /** The connector's options for this call (`createSocket` is the attempts'). */
  readonly connectOptions: ConnectOptions;
  /** The connector's attempts, each a TLS client of its own. */
  readonly attempts: TlsAttempts;
}

/**
 * The checks of the options objects `tls.socket` was given. Checking costs about as much CPU as
 * the rest of the call's own work before the connect (the CA's bytes compared, the options read
 * and looked up), so a client that connects again and again with one options object pays once.
 * Options that name files (`cafile`, `certfile`, `keyfile`) are checked on every call: the files
 * are read again, as before.
 */
const clientChecks = new OptionsMemo<TlsClientCheck>(['cafile', 'certfile', 'keyfile']);

/**
 * The connector's attempts of one `tls.socket`: each is a TLS client socket of its own
 * (`connectClient`, which is `tls.connect` to the attempt's address), so the winner is one
 * TLSSocket with its own TCP handle, as Node makes a client, rather than a net.Socket that TLS
 * wraps afterwards: less work per connection, and Node's own property loads on sockets keep to
 * the few shapes a plain node:tls client gives them (a wrapped net.Socket adds one more, enough
 * to make them megamorphic). A loser's handshake ends with its socket, which the connector destroys.
 */
class TlsAttempts {
  readonly #tls: CheckedTlsOptions;
  readonly #host: string;
  readonly #client: CheckedClient;
  readonly #sessions: TlsSession[] = [];
  /** For the connector's `createSocket`. */
  readonly createSocket = (target: TcpNetConnectOpts): Socket => {
    const session = connectClient(target, this.#tls, this.#host, CONNECT_PREFIX);
    this.#sessions.push(session);
    // `nodelay` and `keepalive` hold from the handshake's first byte, as for a socket() client
    // from its first: set before the connect, they cost no call into the TLS wrap afterwards,
    // and no handshake record waits for Nagle's ACK (the channel finds them set: no-ops then).
    if (this.#client.nodelay) session.socket.setNoDelay(true);
    if (this.#client.keepalive) session.socket.setKeepAlive(true);
    return session.socket;
  };

  constructor(tls: CheckedTlsOptions, client: CheckedClient) {
    this.#tls = tls;
    this.#host = client.host;
    this.#client = client;
  }

  /** The session of the attempt that won. */
  sessionOf(socket: Socket): TlsSession {
    for (const session of this.#sessions) if (session.socket === socket) return session;
    socket.destroy();
    throw new SockchanError(`${CONNECT_PREFIX}the connector returned a socket that no TLS attempt made`, { code: 'ERR_SOCKCHAN_INTERNAL', errorCode: ['NONE'] });
  }
}

function checkTlsClient(host: unknown, port: unknown, options: unknown): CheckedTlsClient {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new SockchanError('tls.socket options must be an object', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  // Each part checks the names it knows in the one options object (no split copies per call):
  // checkClient refuses a name that neither it nor TLS knows.
  const o = (options ?? {}) as Record<string, unknown>;
  let check = options === undefined ? undefined : clientChecks.get(o, host, port);
  if (check === undefined) {
    const client = checkClient(host, port, o, CLIENT_TLS_NAMES);
    refuseOption(o, CLIENT_REFUSED, CLIENT_REFUSED_KNOWN);
    check = { client, tls: checkTlsOptions(o, 'client', CLIENT_OPTION_NAMES), chanOptions: channelOptions(client) };
    if (options !== undefined) clientChecks.set(o, host, port, check);
  }
  const connectOptions = ownConnectOptions(check.client.connectOptions);
  const attempts = new TlsAttempts(check.tls, check.client);
  connectOptions.createSocket = attempts.createSocket;
  return { client: check.client, tls: check.tls, chanOptions: check.chanOptions, connectOptions, attempts };
}

function connectAsync(c: CheckedTlsClient, userSignal: AbortSignal | undefined): SocketChannel {
  const ch = new SocketChannel(undefined, c.chanOptions);
  const controller = new AbortController();
  const signal = userSignal === undefined ? controller.signal : anySignal(userSignal, controller);
  ch._setAbort(controller);
  // The call's own options object (see withSignal).
  const o = c.connectOptions;
  o.signal = signal;
  o.onAttempt = (a) => ch._attempt(a);
  const started = connect(c.client.host, c.client.port, o).then(({ socket, attempts }) => {
    const session = c.attempts.sessionOf(socket);
    // A close() during the handshake ends it.
    signal.addEventListener('abort', () => session.socket.destroy(), { once: true });
    void session.handshake.then(
      () => ch._connected(session.socket, attempts),
      (err: unknown) => ch._connectFailed(err),
    );
    return session;
  });
  started.catch((err: unknown) => ch._connectFailed(err));
  bindTls(ch, started);
  return ch;
}

async function connectBlocking(c: CheckedTlsClient, signal: AbortSignal | undefined): Promise<SocketChannel> {
  const { socket, attempts } = await connect(c.client.host, c.client.port, withSignal(c.connectOptions, signal));
  const session = c.attempts.sessionOf(socket);
  if (signal === undefined) await session.handshake;
  else await handshakeOrAbort(session, signal);
  const ch = new SocketChannel(undefined, c.chanOptions);
  bindTls(ch, session);
  ch._connected(session.socket, attempts);
  return ch;
}

/** The handshake, which the caller's signal ends (the socket destroyed: the handshake fails). */
async function handshakeOrAbort(session: TlsSession, signal: AbortSignal): Promise<void> {
  const onAbort = (): void => {
    session.socket.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await session.handshake;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function tlsSocket(host: string, port: number | string, options?: TlsSocketOptions): SocketChannel | Promise<SocketChannel> {
  if (options?.async === true) return connectAsync(checkTlsClient(host, port, options), options.signal);
  try {
    return connectBlocking(checkTlsClient(host, port, options), options?.signal);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** `127.0.0.1 port 40000` / `::1 port 40000`: the peer in a server's error texts. */
function peerText(address: string, port: number): string {
  return `${address} port ${port}`;
}

async function tlsServer(callback: AcceptCallback, port: number | string, options: TlsServerOptions): Promise<ServerChannel> {
  if (typeof callback !== 'function') {
    throw new SockchanError('tls.server needs a callback (chan, clientAddr, clientPort)', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new SockchanError('tls.server needs options with a certificate (certfile and keyfile)', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  const [tlsPart, rest] = splitTlsOptions(options);
  refuseOption(tlsPart, ['server', 'servername'], [...SERVER_TLS_NAMES, ...SERVER_ONLY_OF_SOCKET]);
  const holder = { checked: checkTlsOptions(tlsPart, 'server') };
  // The channel is made, and marked TLS, once the handshake is done: the callback never sees a
  // connection whose handshake failed (that goes to onError, with the peer in its text).
  const secureAccept: AcceptHandler = (ctx, raw, address, clientPort, proxy) => {
    const session = startServer(raw, holder.checked, `client ${peerText(address, clientPort)}: `);
    session.handshake.then(
      () => {
        const chan = acceptedChannel(ctx, session.socket, proxy);
        bindTls(chan, session);
        runAcceptCallback(ctx, chan, address, clientPort);
      },
      (err: unknown) => ctx.onError(err),
    );
  };
  const srv = await serverImpl(callback, port, rest, secureAccept, SERVER_TLS_NAMES);
  serverOptions.set(srv, holder);
  return srv;
}

function reload(server: ServerChannel, options: Omit<TlsOptions, 'server' | 'servername'>): void {
  const holder = serverOptions.get(server);
  if (holder === undefined) {
    throw new SockchanError(`bad channel "${server.name}": not a TLS server`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['TLS', 'CHANNEL', server.name] });
  }
  refuseOption(options, ['server', 'servername'], SERVER_TLS_NAMES);
  holder.checked = checkTlsOptions(options, 'server');
}

/**
 * TclTLS's commands (`tls::socket`, `tls::import`, `tls::handshake`, `tls::status`), secure by
 * default: a client verifies the chain against the CA store (or `cafile`/`ca`) and the host name
 * against `servername` (default: the host given), TLS 1.2 or later; a failure says why and for
 * which host (`couldn't open socket: certificate verify failed: self-signed certificate (host
 * "localhost")`). `require: false` is TclTLS 1.7's unsafe default. Handshakes time out after
 * `handshakeTimeout` ms (10 000). A TLS channel is a {@link SocketChannel}: every channel
 * behaviour is the same as on TCP.
 */
export const tls: TlsCommand = {
  socket: tlsSocket as TlsCommand['socket'],
  server: tlsServer,
  import: importTls,
  handshake,
  status,
  reload,
};
