// idle, the @sockchan/server listener alone: keeps each accepted connection open with the same
// data and error handlers as net-idle.ts, so the difference is the listener's own cost.
import type net from 'node:net';
import { listen } from '@sockchan/server';
import { fail, parseRowArgs } from './common.js';
import { announceListener } from './listener-common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: listener-idle.js server');
let accepted = 0;
function onData(this: net.Socket, _chunk: Buffer): void {
  // Idle connections carry no data.
}
function onError(this: net.Socket): void {
  this.destroy();
}
function onConnection(socket: net.Socket): void {
  accepted += 1;
  socket.on('data', onData);
  socket.on('error', onError);
}
const listener = await listen(0, { myaddr: '127.0.0.1', backlog: 1024, onConnection, reverseLookup: false });
announceListener(listener, () => accepted);
