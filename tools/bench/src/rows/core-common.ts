// Shared by the @sockchan/core rows: a core `Channel` over a raw node:net socket (the loops are
// in channel-loops.ts, shared with the sockchan rows).
import net from 'node:net';
import { intParam, listenAndAnnounce, serveControl, strParam } from './common.js';
import type { RowArgs } from './common.js';

/**
 * A `net.Server` on 127.0.0.1 whose connections go to `onSocket` (the row wraps each in a
 * Channel); prints `READY <port>` and serves the control protocol, counting connections.
 */
export function coreServer(onSocket: (socket: net.Socket) => unknown, options: net.ServerOpts = {}, backlog = 511): net.Server {
  let accepted = 0;
  const server = net.createServer(options, (socket) => {
    accepted += 1;
    void onSocket(socket);
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server, backlog);
  return server;
}

/** Connects to the row's `host=` (default 127.0.0.1) and `port=` with node:net. */
export function connectSocket(args: RowArgs, options: Omit<net.TcpNetConnectOpts, 'host' | 'port'> = {}): Promise<net.Socket> {
  const host = strParam(args, 'host', '127.0.0.1');
  const port = intParam(args, 'port');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...options });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}
