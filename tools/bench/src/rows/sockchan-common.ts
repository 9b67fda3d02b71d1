// Shared by the sockchan rows (the full stack: `socket` + `socket.server` from the umbrella; the
// loops are in channel-loops.ts, shared with the @sockchan/core rows).
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { socket } from 'sockchan';
import type { AcceptCallback, ServerChannel, ServerOptions, SocketChannel } from 'sockchan';
import { intParam, serveControl, strParam } from './common.js';
import type { RowArgs } from './common.js';

/**
 * Listens with `socket.server` on 127.0.0.1 (as the node:net rows do), prints `READY <port>` and
 * serves the control protocol. `accepted` counts the connections the callback saw. `options`
 * adds server options (`proxyProtocol`).
 */
export async function sockchanServer(callback: AcceptCallback, backlog = 511, options: ServerOptions = {}): Promise<ServerChannel> {
  let accepted = 0;
  const srv = await socket.server(
    (chan, addr, port) => {
      accepted += 1;
      return callback(chan, addr, port);
    },
    0,
    { ...options, myaddr: '127.0.0.1', backlog },
  );
  // serveControl listens for a net.Server's 'error'; a ServerChannel reports accept errors to
  // onError instead (printed to stderr), so a plain emitter stands in for it.
  serveControl(new EventEmitter() as unknown as Server, () => accepted);
  process.stdout.write(`READY ${srv.port}\n`);
  return srv;
}

/** `socket` to the row's `host=` (default 127.0.0.1) and `port=`, without a reverse lookup. */
export function sockchanConnect(args: RowArgs): Promise<SocketChannel> {
  return socket(strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'), { reverseLookup: false });
}
