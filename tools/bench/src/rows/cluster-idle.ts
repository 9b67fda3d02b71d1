// idle under node:cluster: the primary forks `workers=N` workers that each run the idle server of
// `impl=net` (raw net.Server) or `impl=sockchan` (socket.server; default: the environment's
// SOCKCHAN_BENCH_CLUSTER_IMPL, else net), all on one port (node:cluster
// shares it; on Linux the primary accepts and hands connections round-robin to the workers).
// The primary prints `READY <port>` and answers the control protocol for the whole cluster:
// `COUNT` (connections accepted, summed), `GC` (in every process), `MEM` (`rss` and `heapUsed`
// summed over the primary and the workers, plus `processes`), `TCP` (TCP connection handles the
// workers still hold). Workers end with the primary; every process ends by itself after
// `maxSeconds=` (default 900).
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import process from 'node:process';
import { fail, gc, intParam, memoryReport, parseRowArgs, serveCommands, strParam } from './common.js';
import { idleChannel, rawIdleServer } from './idle-servers.js';
import { listenSockchan } from './sockchan-common.js';

interface Request {
  readonly id: number;
  readonly command: 'COUNT' | 'GC' | 'MEM' | 'TCP';
}

interface Reply {
  readonly id: number;
  readonly value: unknown;
}

const args = parseRowArgs();
const impl = strParam(args, 'impl', process.env['SOCKCHAN_BENCH_CLUSTER_IMPL'] ?? 'net');
if (impl !== 'net' && impl !== 'sockchan') fail(`cluster-idle: impl=net or impl=sockchan, not ${impl}`);
const maxSeconds = args.params.has('maxSeconds') ? intParam(args, 'maxSeconds') : 900;

let accepted = 0;
const countOne = (): void => {
  accepted += 1;
};

/** TCP connection handles of this process (the listening socket is a TCPServerWrap). */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

async function runWorker(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  let port: number;
  if (impl === 'net') {
    const server = rawIdleServer(countOne);
    port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  } else {
    port = (await listenSockchan(idleChannel, countOne, 1024)).port;
  }
  process.on('message', (request: Request) => {
    let value: unknown;
    if (request.command === 'COUNT') value = accepted;
    else if (request.command === 'GC') value = gc?.() ?? 'ok';
    else if (request.command === 'MEM') value = memoryReport();
    else value = tcpHandles();
    process.send?.({ id: request.id, value } satisfies Reply);
  });
  process.send?.({ id: 0, value: port } satisfies Reply);
}

async function runPrimary(): Promise<void> {
  if (args.role !== 'server') fail('usage: cluster-idle.js server impl=net|sockchan workers=N');
  const count = intParam(args, 'workers');
  if (count < 1) fail('cluster-idle: workers=N with N >= 1');
  const workers: Worker[] = [];
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const stopAll = (status: number): never => {
    for (const w of workers) w.process.kill('SIGKILL');
    process.exit(status);
  };
  setTimeout(() => {
    process.stderr.write(`cluster-idle: ended after maxSeconds=${maxSeconds}\n`);
    stopAll(3);
  }, maxSeconds * 1000).unref();
  const ports: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 1) {
    const worker = cluster.fork();
    workers.push(worker);
    ports.push(new Promise((resolve) => pending.set(-1 - i, resolve)));
    worker.on('message', (reply: Reply) => {
      const key = reply.id === 0 ? -1 - i : reply.id;
      const resolve = pending.get(key);
      pending.delete(key);
      resolve?.(reply.value);
    });
    worker.on('exit', (code, signal) => {
      process.stderr.write(`cluster-idle: worker ${i + 1} ended (${signal ?? code})\n`);
      stopAll(2);
    });
  }
  const port = (await Promise.all(ports))[0];
  const askAll = (command: Request['command']): Promise<unknown[]> =>
    Promise.all(
      workers.map(
        (w) =>
          new Promise<unknown>((resolve) => {
            const id = nextId++;
            pending.set(id, resolve);
            w.send({ id, command } satisfies Request);
          }),
      ),
    );
  const sum = (values: unknown[]): number => values.reduce<number>((a, v) => a + Number(v), 0);
  serveCommands(
    {
      COUNT: async () => String(sum(await askAll('COUNT'))),
      GC: async () => {
        gc?.();
        await askAll('GC');
        return 'ok';
      },
      MEM: async () => {
        const all = [memoryReport(), ...((await askAll('MEM')) as ReturnType<typeof memoryReport>[])];
        return JSON.stringify({
          rss: all.reduce((a, m) => a + m.rss, 0),
          heapUsed: all.reduce((a, m) => a + m.heapUsed, 0),
          processes: all.length,
        });
      },
      TCP: async () => String(sum(await askAll('TCP'))),
    },
    () => {
      for (const w of workers) w.removeAllListeners('exit');
      stopAll(0);
    },
  );
  process.stdout.write(`READY ${String(port)}\n`);
}

if (cluster.isPrimary) await runPrimary();
else await runWorker();
