// Runs inside a network namespace (started by ./connect.mjs under the names wrapper): listens on
// ::1 and 127.0.0.1, times connects by sockchan, Node's net.connect and tclsh, prints one JSON line.
// Argument: {"case": "blackhole" | "slow" | "healthy", "port": N, "samples": N, "bound": ms}.
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { setTimeout, clearTimeout } from 'node:timers';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { clearHistory, connect } from '../dist/index.js';

const spec = JSON.parse(process.argv[2] ?? '{}');
const port = spec.port;
const samples = spec.samples ?? 7;
const bound = spec.bound ?? 3000;

function listen(host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** ms for one sockchan connect, or null when it failed or passed `bound`. */
async function sockchanOnce(host, options = {}) {
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

/** ms for one net.connect (autoSelectFamily as given), or null when it failed or passed `bound`. */
function nodeOnce(host, autoSelectFamily) {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host, port, autoSelectFamily });
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
function tclOnce(host) {
  return new Promise((resolve) => {
    const script = `set t [clock microseconds]; set s [socket ${host} ${port}]; puts [expr {([clock microseconds]-$t)/1000.0}]; close $s`;
    const child = spawn('tclsh', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), bound);
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve(null));
    child.on('close', () => {
      clearTimeout(timer);
      const ms = Number.parseFloat(out);
      resolve(Number.isFinite(ms) ? ms : null);
    });
    child.stdin.end(script + '\n');
  });
}

async function series(n, once) {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(await once());
  return out;
}

const servers = [await listen('::1'), await listen('127.0.0.1')];
const rows = {};
try {
  if (spec.case === 'blackhole' || spec.case === 'slow') {
    // Alternate the contenders so that drift affects each alike.
    rows.sockchanFirst = [];
    rows.sockchanSecond = [];
    rows.nodeAutoSelect = [];
    for (let i = 0; i < samples; i += 1) {
      clearHistory();
      rows.sockchanFirst.push(await sockchanOnce('dual.test'));
      rows.sockchanSecond.push(await sockchanOnce('dual.test'));
      rows.nodeAutoSelect.push(await nodeOnce('dual.test', true));
    }
    rows.tclsh = await series(1, () => tclOnce('dual.test'));
  } else {
    // Warm up both paths (thread pool, JIT) before timing.
    await series(50, () => sockchanOnce('localhost'));
    await series(50, () => nodeOnce('localhost', true));
    await series(50, () => sockchanOnce('localhost', { useHistory: false }));
    rows.sockchan = [];
    rows.sockchanNoHistory = [];
    rows.nodeNetConnect = [];
    for (let i = 0; i < samples; i += 1) {
      rows.sockchan.push(await sockchanOnce('localhost'));
      rows.nodeNetConnect.push(await nodeOnce('localhost', true));
      rows.sockchanNoHistory.push(await sockchanOnce('localhost', { useHistory: false }));
    }
  }
} finally {
  for (const s of servers) s.close();
}
process.stdout.write(JSON.stringify(rows) + '\n');
