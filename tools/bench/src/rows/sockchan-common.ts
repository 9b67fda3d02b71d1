// Shared by the sockchan rows (the full stack: `socket` + `socket.server` from the umbrella; the
// loops are in channel-loops.ts, shared with the @sockchan/core rows).
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { socket } from 'sockchan';
import type { AcceptCallback, ServerChannel, ServerOptions, SocketChannel } from 'sockchan';
import { connectTarget, overUnix, serveControl, unixBenchPath } from './common.js';
import type { RowArgs } from './common.js';

/**
 * Listens with `socket.server` on 127.0.0.1 (as the node:net rows do), port 0 (under
 * node:cluster: the port the workers share); `onAccepted` hears of each connection first.
 */
export function listenSockchan(callback: AcceptCallback, onAccepted: () => void, backlog = 511, options: ServerOptions = {}): Promise<ServerChannel> {
  return socket.server(
    (chan, addr, port) => {
      onAccepted();
      return callback(chan, addr, port);
    },
    0,
    { ...options, myaddr: '127.0.0.1', backlog },
  );
}

/**
 * {@link listenSockchan} (over a Unix socket, `socket.unixServer`), then prints `READY <port>`
 * (`READY <path>`) and serves the control protocol. `accepted` counts the connections the
 * callback saw; `options` adds server options (`proxyProtocol`).
 */
export async function sockchanServer(callback: AcceptCallback, backlog = 511, options: ServerOptions = {}): Promise<ServerChannel> {
  let accepted = 0;
  const path = overUnix ? unixBenchPath() : undefined;
  const srv =
    path === undefined
      ? await listenSockchan(callback, () => (accepted += 1), backlog, options)
      : await socket.unixServer((chan, addr, port) => {
          accepted += 1;
          return callback(chan, addr, port);
        }, path, { backlog });
  // serveControl listens for a net.Server's 'error'; a ServerChannel reports accept errors to
  // onError instead (printed to stderr), so a plain emitter stands in for it.
  serveControl(new EventEmitter() as unknown as Server, () => accepted);
  process.stdout.write(`READY ${path ?? srv.port}\n`);
  return srv;
}

/** `socket` to the row's `host=` (default 127.0.0.1) and `port=`, without a reverse lookup; `socket.unix` over a Unix socket. */
export function sockchanConnect(args: RowArgs): Promise<SocketChannel> {
  const target = connectTarget(args);
  if ('path' in target) return socket.unix(target.path);
  return socket(target.host, target.port, { reverseLookup: false });
}
