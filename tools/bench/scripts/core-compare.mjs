// Quick comparison of the core Channel rows with raw node:net and tclsh (all of them tools/bench's
// row scripts; the node ones run from its build), in one run:
// `node tools/bench/scripts/core-compare.mjs [--quick] [--reps N]`.
// The real harness is tools/bench (`pnpm bench`); this is for measuring ratios while developing.
import process from 'node:process';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benchRows = join(here, '..');
const quick = process.argv.includes('--quick');
const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 3;
const only = process.argv.filter((a) => !a.startsWith('--') && a !== String(reps)).slice(2);

const impls = {
  'node:net': (w) => ({ cmd: process.execPath, script: join(benchRows, 'dist', 'rows', `net-${w}.js`) }),
  tclsh: (w) => ({ cmd: 'tclsh', script: join(benchRows, 'src', 'rows', `tcl-${w}.tcl`) }),
  core: (w) => ({ cmd: process.execPath, script: join(benchRows, 'dist', 'rows', `core-${w}.js`) }),
};

const workloads = {
  pingpong: { params: { count: quick ? 500 : 20_000 }, metric: (r) => r.ops / r.seconds, unit: 'round trips/s' },
  lines: { params: { count: quick ? 5_000 : 300_000 }, metric: (r) => r.ops / r.seconds, unit: 'lines/s' },
  bulk: { params: { bytes: (quick ? 8 : 256) * 1024 * 1024, chunk: 65536 }, metric: (r) => r.bytes / r.seconds / 1e6, unit: 'MB/s' },
};

function child(spec, role, params) {
  const words = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  const p = spawn(spec.cmd, spec.cmd === 'tclsh' ? [spec.script, role, ...words] : ['--expose-gc', spec.script, role, ...words], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiters = [];
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiters.splice(w, 1)[0].resolve(line.slice(waiters.length >= 0 ? line.indexOf(' ') + 1 : 0));
    }
  });
  return {
    p,
    expect: (prefix) => new Promise((resolve) => waiters.push({ prefix, resolve })),
    ask(cmd, prefix) {
      const r = this.expect(prefix);
      p.stdin.write(`${cmd}\n`);
      return r;
    },
  };
}

async function runOnce(impl, w) {
  const spec = impls[impl](w);
  if (spec.cmd !== 'tclsh' && !existsSync(spec.script)) return undefined;
  const server = child(spec, 'server', {});
  const port = Number(await server.expect('READY '));
  const client = child(spec, 'client', { ...workloads[w].params, host: '127.0.0.1', port });
  const result = JSON.parse(await client.expect('RESULT '));
  server.p.stdin.end();
  server.p.kill();
  return workloads[w].metric(result);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function idle(impl, n) {
  const spec = impls[impl]('idle');
  const server = child(spec, 'server', {});
  const port = Number(await server.expect('READY '));
  await server.ask('GC', 'GC');
  const before = rss(server.p.pid);
  const heapBefore = JSON.parse(await server.ask('MEM', 'MEM')).heapUsed;
  const sockets = [];
  for (let i = 0; i < n; i++) {
    sockets.push(await new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.on('error', reject);
    }));
  }
  for (let i = 0; i < 1000; i++) {
    if (Number(await server.ask('COUNT', 'COUNT')) >= n) break;
  }
  await server.ask('GC', 'GC');
  const after = rss(server.p.pid);
  const heapAfter = JSON.parse(await server.ask('MEM', 'MEM')).heapUsed;
  for (const s of sockets) s.destroy();
  server.p.stdin.end();
  server.p.kill();
  return { rss: (after - before) / n, heap: (heapAfter - heapBefore) / n };
}

const rows = [];
for (const w of Object.keys(workloads)) {
  if (only.length > 0 && !only.includes(w)) continue;
  const medians = {};
  for (const impl of Object.keys(impls)) {
    const samples = [];
    for (let r = 0; r < reps; r++) {
      const v = await runOnce(impl, w);
      if (v !== undefined) samples.push(v);
    }
    if (samples.length === 0) continue;
    medians[impl] = median(samples);
    rows.push({ workload: w, impl, unit: workloads[w].unit, median: Math.round(medians[impl] * 10) / 10, samples: samples.map((x) => Math.round(x)) });
  }
  for (const row of rows.filter((r) => r.workload === w)) row.ratio = medians['node:net'] ? Math.round((medians[row.impl] / medians['node:net']) * 100) / 100 : null;
}
if (only.length === 0 || only.includes('idle')) {
  const n = quick ? 200 : 2000;
  const base = await idle('node:net', n);
  const core = await idle('core', n);
  rows.push({ workload: 'idle', impl: 'node:net', unit: 'bytes/conn', rss: Math.round(base.rss), heap: Math.round(base.heap) });
  rows.push({ workload: 'idle', impl: 'core', unit: 'bytes/conn', rss: Math.round(core.rss), heap: Math.round(core.heap), extraHeap: Math.round(core.heap - base.heap), extraRss: Math.round(core.rss - base.rss) });
}
for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
