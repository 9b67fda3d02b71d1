/**
 * Soak client process: opens `connections` sockchan connections to the soak server (at most
 * `concurrency` at a time, spread over `hosts`: IPv4, IPv6 and dual-stack names), runs the
 * client side of each and prints one JSON line per connection (`conn`), then `done`.
 */
import { socket } from 'sockchan';
import { configureForPlan, runSession } from './session.js';
import { connectionPlan, planHeader } from './soak-plan.js';

interface ClientArgs {
  port: number;
  connections: number;
  concurrency: number;
  minBytes: number;
  maxBytes: number;
  seed: number;
  hosts: string[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as ClientArgs;
const out = (obj: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(obj) + '\n');
};

async function one(id: number): Promise<void> {
  const plan = connectionPlan(args.seed, id, args.minBytes, args.maxBytes);
  const host = args.hosts[id % args.hosts.length] as string;
  let ch;
  try {
    ch = await socket(host, args.port, { reverseLookup: false });
  } catch (err) {
    out({ type: 'conn', id, host, error: `connect: ${String(err)}`, plan: plan.client });
    return;
  }
  const peer = ch.configure('peername');
  try {
    // The header goes out with a bare LF, so the server's `auto` input has no CR to wait on.
    ch.configure({ translation: 'binary' });
    await ch.puts(planHeader(plan));
    await ch.flush();
  } catch (err) {
    out({ type: 'conn', id, host, error: `header: ${String(err)}`, plan: plan.client });
    await ch.close().catch(() => undefined);
    return;
  }
  configureForPlan(ch, plan.client);
  const r = await runSession(ch, plan.client);
  out({ type: 'conn', id, host, peer: Array.isArray(peer) ? peer[0] : '', plan: plan.client, ...r });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < args.connections) {
    const id = next++;
    await one(id);
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: Math.min(args.concurrency, args.connections) }, () => worker()));
out({ type: 'done', ms: Math.round(performance.now() - started) });
