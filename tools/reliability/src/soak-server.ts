/**
 * Soak server process: a sockchan server (`socket.server`, every local family) that runs the
 * server side of each soak connection and reports on stdout, one JSON object per line:
 * `listening` (the port), `mem` (its own `process.memoryUsage()`, every `sampleMs`), `conn`
 * (one per finished connection) and `final` (memory after the last connection and a GC).
 * Reads `stop` on stdin to close and exit. Started by the soak driver; run with `--expose-gc`.
 */
import { socket } from 'sockchan';
import type { SocketChannel } from 'sockchan';
import { configureForPlan, runSession } from './session.js';
import { parsePlanHeader } from './soak-plan.js';
import { createInterface } from 'node:readline';
import { leakedHandles } from './leaks.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';

interface ServerArgs {
  sampleMs?: number;
  myaddr?: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ServerArgs;
const out = (obj: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(obj) + '\n');
};
let open = 0;
let done = 0;
const started = performance.now();
// How long the event loop was held at a time: the server's latency under the load.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function sample(type: 'mem' | 'final', leaked?: string[]): void {
  const m = process.memoryUsage();
  const extra =
    leaked === undefined ? {} : { leaked, loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6), loopDelayMaxMs: Math.round(loopDelay.max / 1e6) };
  out({ type, t: Math.round(performance.now() - started), rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, open, done, ...extra });
}

async function serve(ch: SocketChannel, addr: string, port: number): Promise<void> {
  open += 1;
  try {
    const header = await ch.gets();
    if (header === null) {
      // Closed before a word: the attempt that lost a happy-eyeballs race (the client opened
      // both families and closed the slower one), not a soak connection.
      out({ type: 'empty', addr, port });
      await ch.close();
      return;
    }
    const parsed = parsePlanHeader(header);
    if (parsed === undefined) {
      out({ type: 'conn', id: -1, error: `bad header ${JSON.stringify(header)}`, addr, port });
      await ch.close();
      return;
    }
    configureForPlan(ch, parsed.plan);
    const r = await runSession(ch, parsed.plan);
    out({ type: 'conn', id: parsed.id, addr, port, plan: parsed.plan, ...r });
  } finally {
    open -= 1;
    done += 1;
  }
}

const server = await socket.server(
  (ch, addr, port) => {
    serve(ch, addr, port).catch((err: unknown) => out({ type: 'conn', id: -1, error: String(err), addr, port }));
  },
  0,
  {
    ...(args.myaddr === undefined ? {} : { myaddr: args.myaddr }),
    reverseLookup: false,
    onError: (err) => out({ type: 'error', error: String(err) }),
  },
);
const timer = setInterval(() => sample('mem'), args.sampleMs ?? 250);
out({ type: 'listening', port: server.port, sockname: server.configure('sockname') });
sample('mem');

// `stop` on stdin, or stdin closing, stops the server: it closes, lets the closed handles go
// (one turn), collects garbage and reports, then exits by itself (nothing may be left open).
const rl = createInterface({ input: process.stdin });
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  rl.close();
  process.stdin.destroy();
  clearInterval(timer);
  void server.close().then(() => {
    void leakedHandles().then((left) => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      loopDelay.disable();
      sample('final', left);
    });
  });
}
rl.on('line', (line) => {
  if (line.trim() === 'stop') stop();
});
rl.on('close', stop);
