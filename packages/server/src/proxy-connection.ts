import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { SockchanError, descriptorOf, displayAddress, readNow, toSockchanError, valueText } from '@sockchan/base';
import { addressMatcher } from './address-match.js';
import { ProxyHeaderParser } from './proxy-protocol.js';
import type { ProxyHeader } from './proxy-protocol.js';

/**
 * Reading the PROXY protocol header of one accepted connection: a small state machine per
 * socket (its parser, its timer), driven by the socket's 'readable' events, so that a slow
 * sender holds up nothing but itself. Works on any `net.Socket`, TCP or Unix.
 */

/** `proxyProtocol` of {@link ListenOptions}: which peers must send a PROXY protocol header. */
export interface ProxyProtocolOptions {
  /**
   * The proxies: addresses and CIDR blocks (`['127.0.0.1', '10.0.0.0/8', 'fd00::/8']`). A
   * connection from one of them must begin with a header; an IPv4-mapped IPv6 peer matches its
   * IPv4 entry. Connections from elsewhere are plain ones (a header they send is just data).
   */
  from: readonly string[];
  /** Milliseconds a listed peer has to deliver its whole header; default 10 000. */
  timeout?: number;
}

/**
 * `proxyProtocol` of a Unix-domain listener ({@link UnixListenOptions}): a Unix peer has no
 * address to match, so every connection must begin with a header and `from` may be left out
 * (given, it is checked as on TCP and otherwise unused).
 */
export interface UnixProxyProtocolOptions {
  /** As {@link ProxyProtocolOptions.from}; optional, since a Unix peer has no address. */
  from?: readonly string[];
  /** As {@link ProxyProtocolOptions.timeout}. */
  timeout?: number;
}

/** Default of {@link ProxyProtocolOptions.timeout}, in milliseconds. */
export const DEFAULT_PROXY_HEADER_TIMEOUT = 10_000;

/**
 * Told how the header of a connection ended: `(undefined, header, socket)` with the parsed
 * header, or `(err, undefined, socket)` with the socket already destroyed.
 */
export type ProxyHeaderCallback = (err: SockchanError | undefined, header: ProxyHeader | undefined, socket: Socket) => void;

/** `proxyProtocol` after checking. @internal */
export interface CheckedProxyProtocol {
  readonly expects: (address: string) => boolean;
  readonly timeout: number;
}

/**
 * Checks `proxyProtocol` options (`from` entries, `timeout`), throwing a `SockchanError` with
 * `ERR_SOCKCHAN_BAD_VALUE` that names a bad value; with `unix`, `from` may be left out. @internal
 */
export function checkProxyProtocol(value: unknown, unix = false): CheckedProxyProtocol {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SockchanError(`bad value for proxyProtocol: expected { from: [addresses], timeout? } but got ${valueText(value)}`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'from' && key !== 'timeout' && o[key] !== undefined) {
      throw new SockchanError(`bad option "${key}" in proxyProtocol: must be from or timeout`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
    }
  }
  // A Unix-domain listener expects a header on every connection: `from` is optional there.
  const expects = unix && o['from'] === undefined ? expectsAll : addressMatcher(o['from'] as readonly string[], 'proxyProtocol.from');
  const t = o['timeout'];
  if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1 || t > 0x7fffffff)) {
    throw new SockchanError(`bad value for proxyProtocol.timeout: expected milliseconds from 1 to 2147483647 but got ${valueText(t)}`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  return { expects, timeout: t ?? DEFAULT_PROXY_HEADER_TIMEOUT };
}

function expectsAll(): boolean {
  return true;
}

/** Per-socket state while its header is read (under a symbol: no closure per connection). */
interface Pending {
  readonly parser: ProxyHeaderParser;
  /** The peer (the proxy) as messages name it: the socket may be gone when they are made. */
  readonly address: string | undefined;
  readonly port: number;
  readonly timer: NodeJS.Timeout;
  readonly timeout: number;
  readonly done: ProxyHeaderCallback;
}

/**
 * The header read in progress on each socket. A WeakMap, not a property on the socket: a
 * property of ours would give Node's socket objects another map, and Node's own property loads
 * on sockets (`_handle` and the stream code) turn megamorphic for the whole process.
 */
const pendingHeaders = new WeakMap<Socket, Pending>();

/**
 * Reads the PROXY protocol header (v1 or v2) at the start of `socket`, then calls `done` once.
 *
 * - The bytes may arrive split in any way; nothing waits on this socket but its own timer, so
 *   other connections are accepted and served meanwhile.
 * - On success the timer is cleared, this function's listeners are removed and the bytes that
 *   followed the header are put back at the front of the socket's readable buffer
 *   (`socket.unshift`) before `done(undefined, header, socket)` runs: the next reader (a
 *   'data' or 'readable' listener, or a channel) gets them first, EOF included.
 * - A malformed header, no complete header within `timeoutMs`, or the connection ending or
 *   failing first, destroys the socket and calls `done(err, undefined, socket)` with a
 *   `SockchanError` (`ERR_SOCKCHAN_PROXY`, or `ERR_SOCKCHAN_TIMEOUT` for the timeout) that says
 *   why and for which peer.
 *
 * The socket must be fresh from `accept()` (nothing has read it yet). The listener of
 * `listen({ proxyProtocol })` uses this for each connection from a listed proxy; use it the same
 * way on sockets accepted by any other server (a Unix-socket one, for instance).
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: ProxyHeaderCallback): void {
  // Asked now (one getpeername): messages name the peer after the socket is gone.
  readProxyHeaderFrom(socket, timeoutMs, done, socket.remoteAddress, socket.remotePort ?? 0);
}

/**
 * {@link readProxyHeader} for a caller that knows the peer's address and port already (the
 * listener read them at accept): no second getpeername per connection. @internal
 */
export function readProxyHeaderFrom(s: Socket, timeoutMs: number, done: ProxyHeaderCallback, address: string | undefined, port: number): void {
  const parser = new ProxyHeaderParser();
  if (readArrived(s, parser, done, address, port)) return;
  // The global setTimeout, so that tests can drive it with a virtual clock.
  const timer = setTimeout(onTimeout, timeoutMs, s);
  timer.unref();
  pendingHeaders.set(s, { parser, address, port, timer, timeout: timeoutMs, done });
  s.on('readable', onReadable);
  s.on('end', onEnd);
  s.on('error', onError);
  s.on('close', onClose);
}

/**
 * How much a read at accept takes: a v1 header (at most 107 bytes) or a v2 one with the TLVs a
 * load balancer adds, and what the client sent with it. A longer header is read on as it arrives.
 */
const FIRST_READ = 1024;

/**
 * Reads what the proxy has sent by the time its connection is accepted, with one read(2) on the
 * descriptor (libuv has not read it yet: it polls a new connection on its next turn). A proxy
 * sends its header at once, so it is usually there, and the connection reaches `done` now instead
 * of after another event-loop turn and Node's readable machinery. True when it is settled here:
 * the header parsed (the bytes after it put back for the channel) or the header is bad. False
 * when more is needed (the parser holds what came) or the kernel said anything else (nothing yet,
 * end of stream, an error): the event-driven reader goes on and meets the same state.
 */
function readArrived(s: Socket, parser: ProxyHeaderParser, done: ProxyHeaderCallback, address: string | undefined, port: number): boolean {
  const fd = descriptorOf(s);
  if (fd < 0) return false;
  // Not shared: the parsed header's TLV values and the rest are views of these bytes.
  const into = Buffer.allocUnsafe(FIRST_READ);
  let n: number;
  try {
    n = readNow(fd, into);
  } catch (err) {
    fail(s, done, address, port, (peer) => toSockchanError(`couldn't read PROXY protocol header${peer}: `, err));
    return true;
  }
  if (n <= 0) return false;
  const result = parser.push(into.subarray(0, n));
  if (result.status === 'more') return false;
  if (result.status === 'error') {
    fail(s, done, address, port, (peer) => proxyError(`bad PROXY protocol header${peer}: ${result.reason}`));
    return true;
  }
  if (result.rest.length > 0) s.unshift(result.rest);
  done(undefined, result.header, s);
  return true;
}

function detach(s: Socket): Pending | undefined {
  const p = pendingHeaders.get(s);
  if (p === undefined) return undefined;
  pendingHeaders.delete(s);
  clearTimeout(p.timer);
  s.removeListener('readable', onReadable);
  s.removeListener('end', onEnd);
  s.removeListener('error', onError);
  s.removeListener('close', onClose);
  return p;
}

function failWith(s: Socket, make: (p: Pending, peer: string) => SockchanError): void {
  const p = detach(s);
  if (p === undefined) return;
  fail(s, p.done, p.address, p.port, (peer) => make(p, peer));
}

/** Destroys the socket and tells `done` why, naming the peer (`address`, `port`). */
function fail(s: Socket, done: ProxyHeaderCallback, address: string | undefined, port: number, make: (peer: string) => SockchanError): void {
  const peer = address === undefined ? '' : ` from ${displayAddress(address)} port ${port}`;
  // A late 'error' from the destroyed socket must not go unhandled.
  s.on('error', ignore);
  s.destroy();
  done(make(peer), undefined, s);
}

function ignore(): void {
  // The socket was already reported.
}

function proxyError(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_PROXY', errorCode: ['NONE'] });
}

function onReadable(this: Socket): void {
  const p = pendingHeaders.get(this);
  if (p === undefined) return;
  let chunk: Buffer | null;
  while ((chunk = this.read() as Buffer | null) !== null) {
    const result = p.parser.push(chunk);
    if (result.status === 'more') continue;
    if (result.status === 'error') {
      failWith(this, (_p, peer) => proxyError(`bad PROXY protocol header${peer}: ${result.reason}`));
      return;
    }
    detach(this);
    // Back to the front of the buffer, before anyone else reads; 'end' (if it came) stays after it.
    if (result.rest.length > 0) this.unshift(result.rest);
    p.done(undefined, result.header, this);
    return;
  }
}

function onEnd(this: Socket): void {
  failWith(this, (p, peer) =>
    proxyError(
      p.parser.received === 0
        ? `no PROXY protocol header${peer}: the connection was closed before sending one`
        : `incomplete PROXY protocol header${peer}: the connection was closed after ${p.parser.received} bytes`,
    ),
  );
}

function onError(this: Socket, err: Error): void {
  failWith(this, (_p, peer) => toSockchanError(`couldn't read PROXY protocol header${peer}: `, err));
}

function onClose(this: Socket): void {
  failWith(this, (_p, peer) => proxyError(`no PROXY protocol header${peer}: the connection was closed`));
}

function onTimeout(s: Socket): void {
  failWith(s, (p, peer) =>
    new SockchanError(`no complete PROXY protocol header${peer} within ${p.timeout} ms (${p.parser.received} bytes received)`, {
      code: 'ERR_SOCKCHAN_TIMEOUT',
      errorCode: ['NONE'],
    }),
  );
}
