// CPU time per operation of the core Channel rows next to raw node:net (both are tools/bench's
// row scripts: dist/rows/core-*.js and net-*.js, so build tools/bench first) on a loaded
// machine: each run starts a server and a client child with cpu-hook.mjs, which report their CPU
// time (user + system, from the first socket on); the rows run interleaved, `--reps N` times,
// and the medians of µs/op (client + server) and of the wall metric are printed with their
// ratios to node:net.
//   node tools/bench/scripts/core-cpu.mjs [--reps N] [--scale F] [--before DIR] [--sockchan] [pingpong|lines|lines-try|bulk|unix-bulk|tls-pingpong|tls-bulk|tls-handshakes]
// `--before DIR`: also run DIR/core-<workload>.js (a copy of tools/bench/dist/rows next to an
// older build of @sockchan/core in DIR/../node_modules) as the `before` row.
import process from 'node:process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeFlag, takeOption } from './script-args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const benchRows = join(here, '..', 'dist', 'rows');
const hook = join(here, 'cpu-hook.mjs');
const argv = process.argv.slice(2);
const reps = Number(takeOption(argv, '--reps', '5'));
const scale = Number(takeOption(argv, '--scale', '1'));
const beforeDir = takeOption(argv, '--before', undefined);
// `--sockchan`: also run the full stack's rows (sockchan-<workload>.js, tls-sockchan.js).
const withSockchan = takeFlag(argv, '--sockchan');
const only = argv;

const workloads = {
  pingpong: { script: 'pingpong', params: { count: Math.round(10_000 * scale) }, per: (r) => r.ops, unit: 'rt' },
  lines: { script: 'lines', params: { count: Math.round(200_000 * scale), api: 'plain' }, per: (r) => r.ops, unit: 'line' },
  'lines-try': { script: 'lines', params: { count: Math.round(200_000 * scale), api: 'try' }, per: (r) => r.ops, unit: 'line' },
  bulk: { script: 'bulk', params: { bytes: Math.round(64 * scale) * 1024 * 1024, chunk: 65536 }, per: (r) => r.bytes / 1e6, unit: 'MB' },
  // Over a Unix-domain socket: the rows run with SOCKCHAN_BENCH_UNIX=1, as the harness runs them.
  'unix-bulk': { script: 'bulk', unix: true, params: { bytes: Math.round(64 * scale) * 1024 * 1024, chunk: 65536 }, per: (r) => r.bytes / 1e6, unit: 'MB' },
  // TLS: tls-node.js (as the node:net row) against tls-core.js; needs SOCKCHAN_BENCH_TLS_DIR
  // (cert.pem and key.pem for localhost and 127.0.0.1, as the bench harness makes them).
  'tls-pingpong': { tls: true, params: { count: Math.round(10_000 * scale), warmup: Math.round(4_000 * scale) }, per: (r) => r.ops, unit: 'rt' },
  'tls-bulk': { tls: true, params: { bytes: Math.round(64 * scale) * 1024 * 1024, chunk: 65536 }, per: (r) => r.bytes / 1e6, unit: 'MB' },
  'tls-handshakes': { tls: true, params: { handshakes: Math.round(1_000 * scale) }, per: (r) => r.ops, unit: 'handshake' },
};

const impls = {
  'node:net': (w) => join(benchRows, w.tls ? 'tls-node.js' : `net-${w.script}.js`),
  ...(beforeDir === undefined ? {} : { before: (w) => join(beforeDir, w.tls ? 'tls-core.js' : `core-${w.script}.js`) }),
  core: (w) => join(benchRows, w.tls ? 'tls-core.js' : `core-${w.script}.js`),
  ...(withSockchan ? { sockchan: (w) => join(benchRows, w.tls ? 'tls-sockchan.js' : `sockchan-${w.script}.js`) } : {}),
};

function child(script, role, params, unix) {
  const words = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  const env = unix ? { ...process.env, SOCKCHAN_BENCH_UNIX: '1' } : process.env;
  const p = spawn(process.execPath, ['--expose-gc', '--import', hook, script, role, ...words], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const lines = { out: [], err: [] };
  const waiters = [];
  const feed = (kind) => {
    let buf = '';
    return (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines[kind].push(line);
        for (let i = 0; i < waiters.length; i++) {
          if (line.startsWith(waiters[i].prefix)) {
            waiters.splice(i, 1)[0].resolve(line.slice(line.indexOf(' ') + 1));
            break;
          }
        }
        if (kind === 'err' && !line.startsWith('CPU ')) process.stderr.write(`[${role}] ${line}\n`);
      }
    };
  };
  p.stdout.setEncoding('utf8').on('data', feed('out'));
  p.stderr.setEncoding('utf8').on('data', feed('err'));
  const exited = new Promise((resolve) => p.on('exit', resolve));
  return { p, exited, expect: (prefix) => new Promise((resolve) => waiters.push({ prefix, resolve })) };
}

async function runOnce(script, params, unix) {
  const server = child(script, 'server', params, unix);
  // A port, or the path of a Unix-domain socket (passed on as port=, as the harness does).
  const port = await server.expect('READY ');
  const client = child(script, 'client', { ...params, host: '127.0.0.1', port }, unix);
  const clientCpu = client.expect('CPU ');
  const result = JSON.parse(await client.expect('RESULT '));
  const cpuC = Number(await clientCpu);
  await client.exited;
  const serverCpu = server.expect('CPU ');
  server.p.kill('SIGUSR2');
  const cpuS = Number(await serverCpu);
  server.p.stdin.end();
  server.p.kill();
  await server.exited;
  return { result, cpuC, cpuS };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

if (only.some((name) => workloads[name]?.tls) && !process.env.SOCKCHAN_BENCH_TLS_DIR) {
  process.stderr.write('the tls-* workloads need SOCKCHAN_BENCH_TLS_DIR (a directory with cert.pem and key.pem)\n');
  process.exit(2);
}
const out = [];
for (const [name, w] of Object.entries(workloads)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const samples = {};
  for (let r = 0; r < reps; r++) {
    for (const [impl, path] of Object.entries(impls)) {
      const script = path(w);
      if (!existsSync(script)) continue;
      const params = impl === 'node:net' ? Object.fromEntries(Object.entries(w.params).filter(([k]) => k !== 'api')) : w.params;
      const { result, cpuC, cpuS } = await runOnce(script, params, w.unix === true);
      const per = w.per(result);
      const s = (samples[impl] ??= { rate: [], cpu: [], cpuC: [], cpuS: [] });
      s.rate.push(per / result.seconds);
      s.cpu.push((cpuC + cpuS) / per);
      s.cpuC.push(cpuC / per);
      s.cpuS.push(cpuS / per);
      process.stderr.write(`${name} ${impl} rep ${r + 1}: ${Math.round(per / result.seconds)} ${w.unit}/s, ${((cpuC + cpuS) / per).toFixed(2)} µs/${w.unit}\n`);
    }
  }
  const base = samples['node:net'];
  for (const [impl, s] of Object.entries(samples)) {
    const rate = median(s.rate);
    const cpu = median(s.cpu);
    out.push({
      workload: name,
      impl,
      [`${w.unit}/s`]: Math.round(rate),
      wallRatio: base ? Math.round((rate / median(base.rate)) * 100) / 100 : null,
      [`cpuUs/${w.unit}`]: Math.round(cpu * 100) / 100,
      client: Math.round(median(s.cpuC) * 100) / 100,
      server: Math.round(median(s.cpuS) * 100) / 100,
      cpuRatio: base ? Math.round((median(base.cpu) / cpu) * 100) / 100 : null,
      wallSamples: s.rate.map(Math.round),
    });
  }
}
for (const r of out) process.stdout.write(`${JSON.stringify(r)}\n`);
