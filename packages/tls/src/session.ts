import { isIP } from 'node:net';
import type { TcpNetConnectOpts } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, PeerCertificate, TLSSocketOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { SockchanError, errnoCodeOf, errnoText, posixError } from '@sockchan/base';
import { opensslReason } from './options.js';
import type { CheckedTlsOptions } from './options.js';
import { checkPeer } from './verify.js';

/**
 * One TLS connection over a stream: the `TLSSocket`, its handshake (with a time limit) and the
 * verification of the peer once it is done. `startClient`, `connectClient` and `startServer` make
 * one; the channel functions (`import`, `handshake`, `status`) and the umbrella's
 * `tls.socket`/`tls.server` use it.
 */

const enum State {
  Handshaking = 0,
  Done = 1,
  Failed = 2,
}

/** A TLS connection being set up or set up (see {@link startClient}, {@link startServer}). */
export class TlsSession {
  /** The TLS socket: read and write application data through it (a channel attaches to it). */
  readonly socket: TLSSocket;
  /** Client or server side. */
  readonly role: 'client' | 'server';
  /**
   * Resolves once the handshake is done and the peer verified; rejects with a `SockchanError`
   * (the socket is then destroyed) when it failed, timed out, or the peer was refused.
   */
  readonly handshake: Promise<void>;
  #state = State.Handshaking;
  #error: SockchanError | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Made by connectClient and TCP not up yet. */
  #tcpPending = false;
  #resolve: () => void = noop;
  #reject: (err: SockchanError) => void = noop;
  readonly #prefix: string;
  readonly #host: string | undefined;
  readonly #checked: CheckedTlsOptions;
  readonly #peer: PeerHolder | undefined;

  /** @internal Use {@link startClient}, {@link connectClient} or {@link startServer}. */
  constructor(socket: TLSSocket, role: 'client' | 'server', checked: CheckedTlsOptions, host: string | undefined, prefix: string, peer?: PeerHolder) {
    this.socket = socket;
    this.#peer = peer;
    this.role = role;
    this.#checked = checked;
    this.#host = host;
    this.#prefix = prefix;
    this.handshake = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be waiting (a nonblocking import): the failure is kept for handshake().
    this.handshake.catch(noop);
    socket.on(role === 'client' ? 'secureConnect' : 'secure', onSecure);
    socket.on('error', onHandshakeError);
    socket.on('close', onHandshakeClose);
    sessions.set(socket, this);
    // A client still connecting (connectClient): the handshake, and its time, start with TCP.
    // `on`, not `once` (no wrapper per connection): #cleanup removes it.
    if (socket.connecting) {
      this.#tcpPending = true;
      socket.on('connect', onConnected);
    } else this.#startTimer();
  }

  /** @internal TCP is up: the handshake has started. */
  _connected(): void {
    this.#tcpPending = false;
    this.#startTimer();
  }

  #startTimer(): void {
    const ms = this.#checked.handshakeTimeout;
    if (ms <= 0 || this.#state !== State.Handshaking || this.#timer !== undefined) return;
    this.#timer = setTimeout(onTimeout, ms, this);
    this.#timer.unref();
  }

  /** True once the handshake is done and the peer accepted. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** The failure, once the handshake failed. */
  get error(): SockchanError | undefined {
    return this.#error;
  }

  /** @internal The handshake finished: verify the peer. */
  _secure(): void {
    if (this.#state !== State.Handshaking) return;
    const c = this.#checked;
    const peerCertificate = this.#peer?.cert;
    // Held only until it is checked: an open connection keeps no copy of the chain.
    if (this.#peer !== undefined) this.#peer.cert = undefined;
    const failure = checkPeer(this.socket, { role: this.role, require: c.require, host: this.#host, verify: c.verify, peerCertificate }, this.#prefix);
    if (failure !== undefined) {
      this._fail(failure);
      return;
    }
    this.#state = State.Done;
    this.#cleanup();
    this.#resolve();
  }

  /** @internal The handshake failed: the socket is destroyed. */
  _fail(err: SockchanError): void {
    if (this.#state !== State.Handshaking) return;
    this.#state = State.Failed;
    this.#error = err;
    this.#cleanup();
    // Errors of the dying socket are this failure's; nobody else listens yet.
    this.socket.on('error', noop);
    this.socket.destroy();
    this.#reject(err);
  }

  /** @internal A stream error or close during the handshake, in Tcl's words. */
  _failWith(err: unknown): void {
    // The TCP connect of connectClient failed: a connect error in Tcl's words, as for a socket.
    const errno = this.#tcpPending ? errnoCodeOf(err) : undefined;
    this._fail(errno !== undefined ? posixError(this.#prefix, errno, err) : handshakeError(this.#prefix, err, this.#host));
  }

  /** @internal */
  _timedOut(): void {
    const ms = this.#checked.handshakeTimeout;
    const text = `TLS handshake timed out after ${ms} ms${this.#host === undefined ? '' : ` (host "${this.#host}")`}`;
    this._fail(new SockchanError(this.#prefix + text, { code: 'ERR_SOCKCHAN_TIMEOUT', errorCode: ['TLS', 'HANDSHAKE', 'TIMEOUT', text] }));
  }

  #cleanup(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.socket;
    s.off('secureConnect', onSecure);
    s.off('secure', onSecure);
    s.off('error', onHandshakeError);
    s.off('close', onHandshakeClose);
    s.off('connect', onConnected);
    sessions.delete(s);
  }
}

/**
 * The server's certificate chain as Node's client built it for `checkServerIdentity` (Node
 * calls that with `getPeerCertificate(true)` on every full handshake, before 'secureConnect'):
 * checkPeer takes it from here instead of building it a second time.
 */
interface PeerHolder {
  cert: PeerCertificate | undefined;
}

/**
 * The session of each socket in its handshake. A WeakMap, not a property on the socket: a
 * property of ours would give Node's socket objects one more map, and Node's own property loads
 * (`_handle` and the stream code) turn megamorphic for the whole process (see core's
 * `streamChannels`).
 */
const sessions = new WeakMap<TLSSocket, TlsSession>();

function noop(): void {}

// Module-level handlers (no closure per connection): `sessions` maps the socket to its session.
function onSecure(this: TLSSocket): void {
  sessions.get(this)?._secure();
}
function onHandshakeError(this: TLSSocket, err: unknown): void {
  const session = sessions.get(this);
  if (session === undefined) return;
  session._failWith(err);
  // A channel on this socket (a STARTTLS switch) hears the error next: it reads it as TclTLS
  // reports a failed handshake, `software caused connection abort` (the reason is the session's).
  if (typeof err === 'object' && err !== null && errnoCodeOf(err) === undefined) {
    Object.defineProperty(err, 'code', { value: 'ECONNABORTED', configurable: true, writable: true });
  }
}
function onHandshakeClose(this: TLSSocket): void {
  sessions.get(this)?._failWith(undefined);
}
function onConnected(this: TLSSocket): void {
  this.off('connect', onConnected);
  sessions.get(this)?._connected();
}
function onTimeout(session: TlsSession): void {
  session._timedOut();
}

/** A failure of the handshake itself: OpenSSL's reason, an errno text, or the peer closing. */
export function handshakeError(prefix: string, err: unknown, host: string | undefined): SockchanError {
  const suffix = host === undefined ? '' : ` (host "${host}")`;
  const errno = errnoCodeOf(err);
  const nodeCode = (err as { code?: unknown } | undefined)?.code;
  let text: string;
  let code: string;
  if (err === undefined || nodeCode === 'ECONNRESET' && /disconnected before secure TLS/.test(String((err as Error).message))) {
    text = 'TLS handshake failed: connection closed by the peer';
    code = 'ECONNRESET';
  } else if (errno !== undefined && /^E[A-Z]+$/.test(errno)) {
    text = `TLS handshake failed: ${errnoText(errno)}`;
    code = errno;
  } else {
    text = `TLS handshake failed: ${opensslReason(err)}`;
    code = typeof nodeCode === 'string' ? nodeCode : 'ERR_SOCKCHAN_TLS';
  }
  return new SockchanError(prefix + text + suffix, { code: 'ERR_SOCKCHAN_TLS_HANDSHAKE', errorCode: ['TLS', 'HANDSHAKE', code, text + suffix], cause: err });
}

/** Puts bytes received before the switch in front of what the stream will give (the TLS engine reads them first). */
function giveBack(stream: Duplex, unread: Buffer | undefined): void {
  if (unread !== undefined && unread.length > 0) stream.unshift(unread);
}

/**
 * Starts the client side of TLS over `stream` (a connected `net.Socket`, or any `Duplex`).
 * `host` is the name the connection was made to: the default `servername`, sent as SNI (unless
 * it is an address) and checked against the certificate. `unread` are bytes already received
 * from the server (a STARTTLS switch): the TLS engine parses them first. `prefix` starts the
 * failure texts (`couldn't open socket: `).
 */
export function startClient(stream: Duplex, checked: CheckedTlsOptions, host: string | undefined, prefix: string, unread?: Buffer): TlsSession {
  const name = checked.servername ?? host;
  giveBack(stream, unread);
  const peer: PeerHolder = { cert: undefined };
  const options = clientOptions(checked, name, peer);
  options.socket = stream;
  return new TlsSession(tlsConnect(options), 'client', checked, name, prefix, peer);
}

/**
 * Connects a TLS client to one address: `tls.connect` with `target`'s `host` (an address),
 * `port`, `family`, `localAddress`, `localPort`, `allowHalfOpen` and `onread`, so the client is
 * one TLSSocket with its own TCP handle, as Node makes one. With `onread: Channel.onread` (for a
 * socket a core `Channel` will read) the decrypted bytes go straight to the channel, without the
 * stream's 'data' event. The handshake starts once TCP is up, and its time limit runs from then.
 * `host` and `prefix` as for {@link startClient}.
 * `@sockchan/async-connect`'s `createSocket` takes `(target) => connectClient(...).socket`.
 */
export function connectClient(target: TcpNetConnectOpts, checked: CheckedTlsOptions, host: string | undefined, prefix: string): TlsSession {
  const name = checked.servername ?? host;
  const peer: PeerHolder = { cert: undefined };
  const options = clientOptions(checked, name, peer);
  // One by one (no spread of the target: a copy through V8's runtime per connect).
  options.host = target.host;
  options.port = target.port;
  if (target.family !== undefined) options.family = target.family;
  if (target.autoSelectFamily !== undefined) options.autoSelectFamily = target.autoSelectFamily;
  if (target.localAddress !== undefined) options.localAddress = target.localAddress;
  if (target.localPort !== undefined) options.localPort = target.localPort;
  if (target.allowHalfOpen !== undefined) options.allowHalfOpen = target.allowHalfOpen;
  // Node honours `onread` for a TLS socket that makes its own TCP connection (never for one
  // over a given socket): the decrypted bytes of each read go straight to the callback.
  if (target.onread !== undefined) options.onread = target.onread;
  return new TlsSession(tlsConnect(options), 'client', checked, name, prefix, peer);
}

/**
 * True for a numeric address (sent as no SNI). A name whose last character is not a digit and
 * that has no colon is no address (an IPv4 address ends with a digit, an IPv6 one has colons):
 * that settles a host name such as `localhost` without `isIP`'s regular expressions, which cost
 * a few microseconds per connect.
 */
function isAddress(name: string): boolean {
  const last = name.charCodeAt(name.length - 1);
  if ((last < 48 || last > 57) && !name.includes(':')) return false;
  return isIP(name) !== 0;
}

/** `tls.connect`'s options for a client (what it connects over or to is the caller's). */
type ClientConnectOptions = ConnectionOptions & Pick<TcpNetConnectOpts, 'family' | 'autoSelectFamily' | 'localAddress' | 'localPort' | 'allowHalfOpen' | 'onread'>;

/** The TLS options of a client: the context, SNI, ALPN, and the peer's chain kept for checkPeer. */
function clientOptions(checked: CheckedTlsOptions, name: string | undefined, peer: PeerHolder): ClientConnectOptions {
  const options: ClientConnectOptions = {
    secureContext: checked.context,
    // Verification is ours (checkPeer): OpenSSL's chain result, then the host name, then `verify`.
    // Node's name check only hands over the chain it built (see PeerHolder).
    rejectUnauthorized: false,
    checkServerIdentity: (_name, cert) => {
      peer.cert = cert;
      return undefined;
    },
  };
  if (name !== undefined && !isAddress(name)) options.servername = name;
  if (checked.alpn !== undefined) options.ALPNProtocols = [...checked.alpn];
  return options;
}

/**
 * Starts the server side of TLS over `stream` (an accepted `net.Socket`, or any `Duplex`), with
 * the contexts of `checked` (SNI names included). `unread`: bytes already received from the
 * client (a ClientHello that arrived before a STARTTLS switch).
 */
export function startServer(stream: Duplex, checked: CheckedTlsOptions, prefix: string, unread?: Buffer): TlsSession {
  giveBack(stream, unread);
  const sni = checked.sni;
  // Set one by one (no conditional spreads: a copy through V8's runtime each, per connection).
  const options: TLSSocketOptions = { isServer: true, secureContext: checked.context, requestCert: checked.request, rejectUnauthorized: false };
  if (checked.alpn !== undefined) options.ALPNProtocols = [...checked.alpn];
  if (sni !== undefined) options.SNICallback = (servername, cb) => cb(null, sni.get(servername.toLowerCase()) ?? checked.context);
  const socket = new TLSSocket(stream, options);
  return new TlsSession(socket, 'server', checked, undefined, prefix);
}
