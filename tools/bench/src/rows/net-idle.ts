// idle, raw node:net server: accepts connections and keeps them open, each with the data and
// error handlers a real server would have, so the per-connection cost is a realistic one.
import net from 'node:net';
import { fail, listenAndAnnounce, parseRowArgs, serveControl } from './common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: net-idle.js server');
let accepted = 0;
// Module-level handlers: the measured cost is the socket's, not that of closures per socket.
function onData(this: net.Socket, _chunk: Buffer): void {
  // Idle connections carry no data; a real server would parse here.
}
function onError(this: net.Socket): void {
  this.destroy();
}
const server = net.createServer((socket) => {
  accepted += 1;
  socket.on('data', onData);
  socket.on('error', onError);
});
serveControl(server, () => accepted);
listenAndAnnounce(server, 1024);
