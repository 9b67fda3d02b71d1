// accept behind a load balancer, raw node:net (a reference next to `sockchan PROXY v2`, not a
// baseline): the same load generator sends a PROXY v2 header first on every connection; this
// server waits for the first chunk of each connection and closes it, parsing nothing. No server
// that must read the header before it hands the connection on can do less, so its ratio to
// node:net is the floor of what reading a header costs in this workload.
import net from 'node:net';
import { fail, listenAndAnnounce, parseRowArgs, serveControl } from './common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: net-accept-proxy.js server');
let accepted = 0;

// Module-level handlers: no closure per connection.
function onFirstChunk(this: net.Socket): void {
  this.destroy();
}
function ignore(): void {
  // the load generator only ever sees the close
}

const server = net.createServer((socket) => {
  accepted += 1;
  socket.on('error', ignore);
  socket.once('data', onFirstChunk);
});
serveControl(server, () => accepted);
listenAndAnnounce(server, 1024);
