// Bench server for Node: `node --expose-gc server-child.js net|net-peer|listener accept|idle`.
// Prints "READY <port>"; each line on stdin runs the GC and is answered with
// `ok {"accepted":N,"heapUsed":B}`; EOF on stdin exits.
// accept: every accepted socket is destroyed at once. idle: every accepted socket is kept.
import net from 'node:net';
import { createInterface } from 'node:readline';
import { listen } from '../src/index.js';

const [kind, mode] = process.argv.slice(2);
let accepted = 0;
const held: net.Socket[] = [];

function onAcceptClose(socket: net.Socket): void {
  accepted += 1;
  socket.destroy();
}
function onAcceptHold(socket: net.Socket): void {
  accepted += 1;
  held.push(socket);
}
const handler = mode === 'accept' ? onAcceptClose : onAcceptHold;
/** What listen() must do for its handler's arguments: one getpeername per connection. */
function withPeer(socket: net.Socket): void {
  if (socket.remoteAddress === undefined || socket.remotePort === undefined) accepted -= 1;
  handler(socket);
}

async function start(): Promise<number> {
  if (kind === 'net' || kind === 'net-peer') {
    // Raw Node: one net.Server, IPv4 wildcard (the clients use 127.0.0.1), Node's defaults.
    const server = net.createServer(kind === 'net' ? handler : withPeer);
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    return (server.address() as net.AddressInfo).port;
  }
  if (kind === 'listener') {
    // The product as users get it: no myaddr, so 0.0.0.0 and :: on one port.
    const listener = await listen(0, { onConnection: handler });
    return listener.port;
  }
  throw new Error(`unknown server kind ${kind ?? ''}`);
}

const port = await start();
process.stdout.write(`READY ${port}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
createInterface({ input: process.stdin })
  .on('line', () => {
    gc?.();
    gc?.();
    process.stdout.write(`ok ${JSON.stringify({ accepted, heapUsed: process.memoryUsage().heapUsed, held: held.length })}\n`);
  })
  .on('close', () => process.exit(0));
