// accept, the @sockchan/server listener alone (no channel layer): accepts each connection and
// closes it at once, like net-accept.ts, so the difference is the listener's own cost.
import type net from 'node:net';
import { listen } from '@sockchan/server';
import { fail, parseRowArgs } from './common.js';
import { announceListener } from './listener-common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: listener-accept.js server');
let accepted = 0;
function onConnection(socket: net.Socket): void {
  accepted += 1;
  socket.on('error', () => undefined);
  socket.destroy();
}
const listener = await listen(0, { myaddr: '127.0.0.1', backlog: 1024, onConnection, reverseLookup: false });
announceListener(listener, () => accepted);
