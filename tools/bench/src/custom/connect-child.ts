// Runs inside a network namespace (started by ./connect.ts under the names wrapper): listens on
// ::1 and 127.0.0.1, times connects by @sockchan/async-connect, Node's net.connect and tclsh, and
// prints one JSON line: `{ <contender>: [ms or null, ...] }`.
// Argument: {"case": "blackhole" | "slow" | "healthy", "port": N, "samples": N, "bound": ms}.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearHistory, connect } from '@sockchan/async-connect';
import type { ConnectOptions } from '@sockchan/async-connect';

interface Spec {
  case: 'blackhole' | 'slow' | 'healthy';
  port: number;
  samples?: number;
  bound?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const port = spec.port;
const samples = spec.samples ?? 7;
const bound = spec.bound ?? 3000;

function listen(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** ms for one sockchan connect, or null when it failed or passed `bound`. */
async function sockchanOnce(host: string, options: ConnectOptions = {}): Promise<number | null> {
  const started = performance.now();
  try {
    const { socket } = await connect(host, port, { connectTimeout: bound, ...options });
    const ms = performance.now() - started;
    socket.destroy();
    return ms;
  } catch {
    return null;
  }
}

/** ms for one net.connect with autoSelectFamily, or null when it failed or passed `bound`. */
function nodeOnce(host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host, port, autoSelectFamily: true });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, bound);
    socket.once('connect', () => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/** ms tclsh 8.6 needs for `socket host port` (timed inside tclsh), or null past `bound`. */
function tclOnce(host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const script = `set t [clock microseconds]; set s [socket ${host} ${port}]; puts [expr {([clock microseconds]-$t)/1000.0}]; close $s`;
    const child = spawn('tclsh', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), bound);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', () => resolve(null));
    child.on('close', () => {
      clearTimeout(timer);
      const ms = Number.parseFloat(out);
      resolve(Number.isFinite(ms) ? ms : null);
    });
    child.stdin.end(script + '\n');
  });
}

async function series(n: number, once: () => Promise<number | null>): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i += 1) out.push(await once());
  return out;
}

const servers = [await listen('::1'), await listen('127.0.0.1')];
const rows: Record<string, (number | null)[]> = {};
try {
  if (spec.case === 'blackhole' || spec.case === 'slow') {
    // Alternate the contenders so that drift affects each alike.
    const first: (number | null)[] = [];
    const second: (number | null)[] = [];
    const node: (number | null)[] = [];
    for (let i = 0; i < samples; i += 1) {
      clearHistory();
      first.push(await sockchanOnce('dual.test'));
      second.push(await sockchanOnce('dual.test'));
      node.push(await nodeOnce('dual.test'));
    }
    Object.assign(rows, { sockchanFirst: first, sockchanSecond: second, nodeAutoSelect: node, tclsh: await series(1, () => tclOnce('dual.test')) });
  } else {
    // Warm up both paths (thread pool, JIT) before timing.
    await series(50, () => sockchanOnce('localhost'));
    await series(50, () => nodeOnce('localhost'));
    await series(50, () => sockchanOnce('localhost', { useHistory: false }));
    const withHistory: (number | null)[] = [];
    const noHistory: (number | null)[] = [];
    const node: (number | null)[] = [];
    for (let i = 0; i < samples; i += 1) {
      withHistory.push(await sockchanOnce('localhost'));
      node.push(await nodeOnce('localhost'));
      noHistory.push(await sockchanOnce('localhost', { useHistory: false }));
    }
    Object.assign(rows, { sockchan: withHistory, sockchanNoHistory: noHistory, nodeNetConnect: node });
  }
} finally {
  for (const s of servers) s.close();
}
process.stdout.write(JSON.stringify(rows) + '\n');
