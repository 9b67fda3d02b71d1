// The child protocol of tools/bench (see tools/bench/README.md, "Child protocol"), kept small
// here so these row scripts run on their own: `node <script> server|client key=value ...`.
import process from 'node:process';
import { createInterface } from 'node:readline';

/** `{ role, params }` from argv. */
export function parseRowArgs(argv = process.argv.slice(2)) {
  const [role = '', ...rest] = argv;
  const params = new Map();
  for (const word of rest) {
    const eq = word.indexOf('=');
    if (eq > 0) params.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return { role, params };
}

export function intParam(args, name) {
  const value = Number(args.params.get(name));
  if (!Number.isSafeInteger(value) || value < 0) fail(`parameter ${name}=<non-negative integer> missing or invalid`);
  return value;
}

export function strParam(args, name, fallback) {
  return args.params.get(name) ?? fallback;
}

export function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

export function printResult(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

export function secondsSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Stdin commands of a server: COUNT, GC, MEM, QUIT (EOF quits too). */
export function serveControl(server, accepted) {
  server.on('error', (error) => fail(`server: ${error.message}`));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const command = line.trim();
    if (command === 'COUNT') process.stdout.write(`COUNT ${accepted()}\n`);
    else if (command === 'GC') {
      globalThis.gc?.();
      process.stdout.write('GC ok\n');
    } else if (command === 'MEM') {
      const m = process.memoryUsage();
      process.stdout.write(`MEM ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external })}\n`);
    } else if (command === 'QUIT') process.exit(0);
  });
  rl.on('close', () => process.exit(0));
}

/** Listens on 127.0.0.1, port 0, and prints `READY <port>`. */
export function listenAndAnnounce(server, backlog = 511) {
  server.listen({ host: '127.0.0.1', port: 0, backlog }, () => {
    const address = server.address();
    if (address === null || typeof address === 'string') fail('server: no TCP address');
    process.stdout.write(`READY ${address.port}\n`);
  });
}

/** Connects with node:net and resolves with the socket. */
export function connect(net, host, port, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...options });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}
