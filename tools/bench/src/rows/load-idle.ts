// idle load generator (raw node:net, common to every idle row): on `OPEN <n>` from stdin it
// opens connections until it holds n (100 connects in flight at a time) and answers
// `OPEN <n>`; the connections stay silent until stdin ends, then all are closed. `source=`
// binds them to one local address (the cluster rows run several generators, each from its own
// 127.0.0.x, so that no source address runs out of ports); the process ends by itself after
// `maxSeconds=` (default 900).
import net from 'node:net';
import { createInterface } from 'node:readline';
import { connectTarget, fail, intParam, parseRowArgs } from './common.js';

const args = parseRowArgs();
if (args.role !== 'client') fail('usage: load-idle.js client port=P');
// 127.0.0.1:port (from the address `source=` when given), or a Unix socket's path (the Unix-socket idle rows).
const target = connectTarget(args);
const source = args.params.get('source');
const maxSeconds = args.params.has('maxSeconds') ? intParam(args, 'maxSeconds') : 900;
setTimeout(() => fail(`client: ended after maxSeconds=${maxSeconds}`), maxSeconds * 1000).unref();
const sockets: net.Socket[] = [];

// With `source=`, local ports are chosen here, counting up from 10,000 below the kernel's ephemeral
// range (32768-60999). Left to the kernel (bind(source, 0)), 100,000 binds stalled the cluster run
// at 75,000 connections, and every port a bind() takes is one that plain connects from any process
// (the single-process rows) skip until its TIME_WAIT ends: they then failed with EADDRNOTAVAIL.
const FIRST_PORT = 10_000;
const LAST_PORT = 32_767;
let nextPort = FIRST_PORT;

/** Retries of one Unix-socket connect that found the listen backlog full (EAGAIN), 1 ms apart. */
const BACKLOG_RETRIES = 2_000;

function connectOne(retries = 0): Promise<void> {
  return connectFrom().catch((error: NodeJS.ErrnoException) => {
    // A port some other socket holds: the next one (bounded by the range).
    if (source !== undefined && error.code === 'EADDRINUSE' && nextPort <= LAST_PORT) return connectOne();
    // A Unix socket's connect does not wait in the backlog as TCP's SYN does: it fails with
    // EAGAIN while the server's accept queue is full. Try again once the server accepted some.
    if (error.code === 'EAGAIN' && 'path' in target && retries < BACKLOG_RETRIES) {
      return new Promise<void>((resolve) => setTimeout(resolve, 1)).then(() => connectOne(retries + 1));
    }
    throw error;
  });
}

function connectFrom(): Promise<void> {
  return new Promise((resolve, reject) => {
    let options: net.NetConnectOpts = target;
    if (source !== undefined && !('path' in target)) {
      if (nextPort > LAST_PORT) throw new Error(`no local port left on ${source} (${FIRST_PORT}-${LAST_PORT} used)`);
      options = { ...target, localAddress: source, localPort: nextPort++ };
    }
    const socket = net.connect(options);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      // A server that dies resets its connections; the harness reports the server's exit.
      socket.on('error', () => undefined);
      // A connection the server ends while it should be held fails the run: a server (or a
      // cluster primary) out of descriptors accepts and closes, and the row would count it.
      socket.on('close', onServerClose);
      socket.resume();
      sockets.push(socket);
      resolve();
    });
  });
}

/** True once stdin has ended: the generator closes its connections itself. */
let stopping = false;

function onServerClose(): void {
  if (!stopping) fail(`client: the server closed a connection it should hold (${sockets.length} open)`);
}

/** Progress goes to stderr every this many connections (a 100,000-connection cluster run takes minutes). */
const PROGRESS_EVERY = 5_000;

async function openUntil(target: number): Promise<void> {
  let started = sockets.length;
  const began = Date.now();
  const lane = async (): Promise<void> => {
    while (started < target) {
      started += 1;
      await connectOne();
      if (sockets.length % PROGRESS_EVERY === 0) {
        process.stderr.write(`idle load generator${source === undefined ? '' : ` ${source}`}: ${sockets.length}/${target} open (${((Date.now() - began) / 1000).toFixed(1)} s)\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: 100 }, lane));
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [command, n] = line.trim().split(/\s+/);
  if (command !== 'OPEN') return;
  openUntil(Number(n)).then(
    () => process.stdout.write(`OPEN ${sockets.length}\n`),
    (error: Error) => fail(`client: connect ${sockets.length + 1}: ${error.message}`),
  );
});
rl.on('close', () => {
  stopping = true;
  for (const s of sockets) s.destroy();
  process.exit(0);
});
