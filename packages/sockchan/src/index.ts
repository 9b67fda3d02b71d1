/**
 * `sockchan`: Tcl's `socket` command and its channels for Node.js.
 *
 * ```ts
 * import { socket } from 'sockchan';
 * const ch = await socket('localhost', 9900);
 * await ch.puts('hello');
 * await ch.flush();
 * const line = await ch.gets();
 * await ch.close();
 * ```
 *
 * The umbrella composes `@sockchan/core` (the channel), `@sockchan/async-connect` (happy-eyeballs
 * connect), `@sockchan/server` (dual-stack listen), `@sockchan/tls` (TLS, as `tls`) and `@sockchan/encodings`, and re-exports their
 * public API so that one import serves.
 *
 * @packageDocumentation
 */
export { socket } from './socket.js';
export type {
  AcceptCallback,
  AsyncSocketOptions,
  ServerOptions,
  SocketCommand,
  SocketFromArgs,
  SocketOptions,
} from './socket.js';
export type { AsyncUnixSocketOptions, InheritedSockets, UnixServerOptions, UnixSocketOptions } from './unix.js';
export { tls } from './tls.js';
export type { AsyncTlsSocketOptions, TlsCommand, TlsServerOptions, TlsSocketOptions } from './tls.js';
export { SocketChannel } from './socket-channel.js';
export type {
  SocketAddressValue,
  SocketChannelConstructorOptions,
  SocketChannelOptions,
  SocketChannelSettings,
} from './socket-channel.js';
export { ServerChannel, channelNames } from './server-channel.js';
export type { ServerChannelOptions } from './server-channel.js';
export { parseSocketArgs, SOCKET_WRONG_ARGS } from './tcl-args.js';
export type { ParsedClientArgs, ParsedServerArgs, TclSocketWord } from './tcl-args.js';

// The layers' public API, so that one import serves. `channelNames` above replaces core's (it
// lists servers too); a local export takes precedence over `export *`.
export * from '@sockchan/base';
export * from '@sockchan/encodings';
export * from '@sockchan/core';
export * from '@sockchan/async-connect';
export * from '@sockchan/server';
export * from '@sockchan/tls';
