/**
 * `@sockchan/server`: Tcl's dual-stack TCP listener for Node.js. One listening socket per
 * local address (IPv4 and IPv6 by default, or every address a `myaddr` name resolves to), all
 * on one port, accepted connections handed over as plain `net.Socket`s. Also Unix-domain
 * listeners ({@link listenUnix}) and inherited listening sockets (socket activation:
 * {@link listenFd}, {@link activatedSockets}).
 * @packageDocumentation
 */
export { listen } from './listener.js';
export type { Listener } from './listener.js';
export { DEFAULT_BACKLOG } from './options.js';
export type {
  ListenOptions,
  ConnectionHandler,
  ErrorHandler,
  AddressResolver,
  ReverseResolver,
} from './options.js';
export { DEFAULT_PROXY_HEADER_TIMEOUT, readProxyHeader } from './proxy-connection.js';
export type { ProxyProtocolOptions, ProxyHeaderCallback, UnixProxyProtocolOptions } from './proxy-connection.js';
export { ProxyHeaderParser, parseProxyHeader, crc32c, PROXY_V1_MAX_LENGTH } from './proxy-protocol.js';
export type { ProxyHeader, ProxyAddress, ProxyTlv, ProxySslInfo, ProxyParseResult } from './proxy-protocol.js';
export { addressMatcher } from './address-match.js';
export { encodeProxyHeader } from './proxy-encode.js';
export type { ProxyHeaderInit } from './proxy-encode.js';
export { listenUnix } from './unix.js';
export type { UnixListenOptions } from './unix.js';
export { activatedSockets, listenFd, LISTEN_FDS_START } from './activation.js';
export type { ActivatedSocket, ActivationOptions, FdListenOptions } from './activation.js';
