// accept load generator (raw node:net, common to every accept row): connects `count` times one
// at a time, then `count` times with `concurrency` connections in flight. A connection counts
// when the server has closed it and the client has seen the close, so every one was accepted
// by the server under test (a finished handshake alone only means the kernel queued it).
import net from 'node:net';
import { fail, intParam, parseRowArgs, printResult, secondsSince, strParam } from './common.js';

const args = parseRowArgs();
if (args.role !== 'client') fail('usage: load-accept.js client port=P count=N concurrency=C');
const host = strParam(args, 'host', '127.0.0.1');
const port = intParam(args, 'port');
const count = intParam(args, 'count');
const concurrency = intParam(args, 'concurrency');

/** One connect, wait for the server's close; rejects on any error. */
function cycle(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
}

async function phase(inFlight: number): Promise<number> {
  let started = 0;
  const start = process.hrtime.bigint();
  const lane = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      await cycle();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  return secondsSince(start);
}

try {
  const serial = await phase(1);
  const concurrent = await phase(concurrency);
  printResult({ ops: count, serialSeconds: serial, concurrentSeconds: concurrent });
} catch (error) {
  fail(`client: ${(error as Error).message}`);
}
