// tls-idle load generator (node:tls, common to every tls-idle row): on `OPEN <n>` from stdin it
// opens verified TLS connections until it holds n (50 handshakes in flight at a time) and
// answers `OPEN <n>`; the connections stay silent until stdin ends, then all are closed.
import tls from 'node:tls';
import { createInterface } from 'node:readline';
import { fail, intParam, parseRowArgs, strParam } from './common.js';
import { tlsFiles } from './tls-common.js';

const args = parseRowArgs();
if (args.role !== 'client') fail('usage: tls-load-idle.js client port=P');
const host = strParam(args, 'host', '127.0.0.1');
const port = intParam(args, 'port');
const { certPem } = tlsFiles();
const sockets: tls.TLSSocket[] = [];

function connectOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: 'localhost', ca: certPem }, () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      sockets.push(socket);
      resolve();
    });
    socket.once('error', reject);
  });
}

async function openUntil(target: number): Promise<void> {
  let started = sockets.length;
  const lane = async (): Promise<void> => {
    while (started < target) {
      started += 1;
      await connectOne();
    }
  };
  await Promise.all(Array.from({ length: 50 }, lane));
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
  for (const s of sockets) s.destroy();
  process.exit(0);
});
