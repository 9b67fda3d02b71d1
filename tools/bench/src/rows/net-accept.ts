// accept, raw node:net server: accepts each connection and closes it at once.
import net from 'node:net';
import { fail, listenAndAnnounce, parseRowArgs, serveControl } from './common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: net-accept.js server');
let accepted = 0;
const server = net.createServer((socket) => {
  accepted += 1;
  socket.on('error', () => undefined);
  socket.destroy();
});
serveControl(server, () => accepted);
listenAndAnnounce(server, 1024);
