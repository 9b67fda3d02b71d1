// The idle servers of the node:net and sockchan rows, shared by their single-process scripts
// (net-idle.ts, sockchan-idle.ts) and by the workers of the cluster rows (cluster-idle.ts), so
// that a cluster worker holds exactly what the single process holds.
import net from 'node:net';
import type { AcceptCallback } from 'sockchan';
import { idleReadable } from './channel-loops.js';

// Module-level handlers: the measured cost is the socket's, not that of closures per socket.
function onData(this: net.Socket, _chunk: Buffer): void {
  // Idle connections carry no data; a real server would parse here.
}
function onError(this: net.Socket): void {
  this.destroy();
}

/**
 * A raw `net.Server` whose connections each get the `data` and `error` handlers a real server
 * would have; `onAccepted` counts them. Not listening yet.
 */
export function rawIdleServer(onAccepted: () => void): net.Server {
  return net.createServer((s) => {
    onAccepted();
    s.on('data', onData);
    s.on('error', onError);
  });
}

const onReadable = idleReadable();

/** The accept callback of the sockchan idle server: every channel nonblocking with the idle readable handler of channel-loops.ts. */
export const idleChannel: AcceptCallback = (chan) => {
  chan.configure({ blocking: false });
  chan.onReadable(onReadable);
};
