// accept load generator (raw node:net, common to every accept row): connects `count` times one
// at a time, then `count` times with `concurrency` connections in flight. A connection counts
// when the server has closed it and the client has seen the close, so every one was accepted
// by the server under test (a finished handshake alone only means the kernel queued it).
// With SOCKCHAN_BENCH_PROXY=v2 each connection first sends a PROXY protocol v2 header, as haproxy's
// send-proxy-v2 does (for the rows of servers behind a load balancer).
import net from 'node:net';
import { encodeProxyHeader } from '@sockchan/server';
import { fail, intParam, parseRowArgs, printResult, secondsSince, strParam } from './common.js';

const args = parseRowArgs();
if (args.role !== 'client') fail('usage: load-accept.js client port=P count=N concurrency=C');
const host = strParam(args, 'host', '127.0.0.1');
const port = intParam(args, 'port');
const count = intParam(args, 'count');
const concurrency = intParam(args, 'concurrency');
const proxyMode = process.env['SOCKCHAN_BENCH_PROXY'];
if (proxyMode !== undefined && proxyMode !== 'v2') fail(`SOCKCHAN_BENCH_PROXY=${proxyMode}: only v2 is known`);
const greeting =
  proxyMode === 'v2' ? Buffer.from(encodeProxyHeader({ source: { address: '192.0.2.10', port: 40000 }, destination: { address: '198.51.100.1', port: 443 } })) : undefined;

/** One connect, wait for the server's close; rejects on any error. */
function cycle(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    if (greeting !== undefined) socket.write(greeting);
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
