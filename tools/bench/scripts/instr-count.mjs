// User-space instructions per operation of one side of a row, counted by valgrind's callgrind:
// a measure that the machine's load does not move (on a shared 2-core VM, wall time and even CPU
// time of the same build wander by 10-40% between runs; instruction counts by about 1%). It does
// not see cache misses or the kernel: use it to find and compare work, the bench to report speed.
//
// The measured side (a server or a client) runs under callgrind; its peer is the raw node row
// (tls-node.js or net-pingpong.js), the same for every implementation. Each implementation runs
// twice, with N1 and N2 operations: (I(N2) - I(N1)) / (N2 - N1) is the marginal count per
// operation, without start-up and module loading. V8 optimizes on the main thread
// (--no-concurrent-recompilation), so that code is optimized after the same number of calls as
// in a normal run even though callgrind runs threads one at a time. Small sizes count part of
// the warm-up too (the defaults do not: 10,000 round trips are past it).
//   node tools/bench/scripts/instr-count.mjs [--side server|client] [--sizes N1,N2] [--sockchan] tls-pingpong|tls-handshakes|pingpong
// Needs valgrind (Debian package `valgrind`) and a built tools/bench (dist/rows); the tls-*
// workloads need SOCKCHAN_BENCH_TLS_DIR (cert.pem and key.pem for localhost and 127.0.0.1).
import process from 'node:process';
import { spawn, spawnSync } from 'node:child_process';
import { setImmediate } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeFlag, takeOption } from './script-args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rows = join(here, '..', 'dist', 'rows');
const argv = process.argv.slice(2);
const side = takeOption(argv, '--side', 'server');
const sizesOption = takeOption(argv, '--sizes', undefined);
const withSockchan = takeFlag(argv, '--sockchan');
const workload = argv[0] ?? 'tls-pingpong';

const workloads = {
  'tls-pingpong': { tls: true, param: 'count', sizes: [10_000, 20_000], extra: ['warmup=0'], unit: 'rt' },
  'tls-handshakes': { tls: true, param: 'handshakes', sizes: [200, 600], extra: [], unit: 'handshake' },
  pingpong: { tls: false, param: 'count', sizes: [10_000, 20_000], extra: ['warmup=0'], unit: 'rt' },
};
const w = workloads[workload];
if (w === undefined || (side !== 'server' && side !== 'client')) {
  process.stderr.write('usage: instr-count.mjs [--side server|client] [--sizes N1,N2] [--sockchan] tls-pingpong|tls-handshakes|pingpong\n');
  process.exit(2);
}
const sizes = sizesOption?.split(',').map(Number) ?? w.sizes;
if (sizes.length !== 2 || !sizes.every((n) => Number.isSafeInteger(n) && n > 0) || sizes[1] <= sizes[0]) {
  process.stderr.write('--sizes takes two counts, the second larger: --sizes 10000,20000\n');
  process.exit(2);
}
if (w.tls && !process.env.SOCKCHAN_BENCH_TLS_DIR) {
  process.stderr.write('the tls-* workloads need SOCKCHAN_BENCH_TLS_DIR (a directory with cert.pem and key.pem)\n');
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  process.stderr.write('valgrind is not installed (Debian: apt-get install valgrind)\n');
  process.exit(2);
}

const script = (impl) =>
  w.tls
    ? join(rows, { node: 'tls-node.js', core: 'tls-core.js', sockchan: 'tls-sockchan.js' }[impl])
    : join(rows, { node: 'net-pingpong.js', core: 'core-pingpong.js', sockchan: 'sockchan-pingpong.js' }[impl]);
const impls = ['node', 'core', ...(withSockchan ? ['sockchan'] : [])];

// A server under callgrind must exit (not die) for its counts to be written.
const exitOnSigint = "data:text/javascript,process.on('SIGINT',()=>process.exit(0))";
const valgrindArgs = ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--no-concurrent-recompilation'];

/** Starts a child; resolves `lines(prefix)` with the first stdout or stderr line starting so. */
function start(cmd, args) {
  // stdin stays open: a row's server ends when its control input (stdin) ends.
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = [];
  const feed = (d) => {
    out += d;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = out.match(waiters[i].re);
      if (m) waiters.splice(i, 1)[0].resolve(m[1]);
    }
  };
  p.stdout.setEncoding('utf8').on('data', feed);
  p.stderr.setEncoding('utf8').on('data', feed);
  const exited = new Promise((resolve) => p.on('exit', resolve));
  const line = (re) =>
    new Promise((resolve, reject) => {
      const m = out.match(re);
      if (m) return resolve(m[1]);
      waiters.push({ re, resolve });
      exited.then(() => setImmediate(() => reject(new Error(`${cmd} exited before ${re}:\n${out.slice(-2000)}`))));
    });
  return { p, line, exited };
}

const REFS = /I\s+refs:\s+([\d,]+)/;

/** Instructions of the measured side for `n` operations. */
async function countOnce(impl, n) {
  const work = [`${w.param}=${n}`, ...w.extra];
  const measuredServer = side === 'server';
  const serverScript = measuredServer ? script(impl) : script('node');
  const clientScript = measuredServer ? script('node') : script(impl);
  const server = measuredServer
    ? start('valgrind', [...valgrindArgs, '--import', exitOnSigint, serverScript, 'server', 'count=1'])
    : start(process.execPath, ['--import', exitOnSigint, serverScript, 'server', 'count=1']);
  const port = await server.line(/READY (\S+)/);
  const client = measuredServer
    ? start(process.execPath, [clientScript, 'client', 'host=127.0.0.1', `port=${port}`, ...work])
    : start('valgrind', [...valgrindArgs, clientScript, 'client', 'host=127.0.0.1', `port=${port}`, ...work]);
  await client.line(/RESULT (\{.*\})/);
  const clientRefs = measuredServer ? undefined : client.line(REFS);
  await client.exited;
  server.p.kill('SIGINT');
  server.p.stdin.end();
  client.p.stdin.end();
  const refs = measuredServer ? await server.line(REFS) : await clientRefs;
  await server.exited;
  return Number(refs.replaceAll(',', ''));
}

const results = {};
for (const impl of impls) {
  const a = await countOnce(impl, sizes[0]);
  const b = await countOnce(impl, sizes[1]);
  results[impl] = (b - a) / (sizes[1] - sizes[0]);
  process.stderr.write(`${workload} ${side} ${impl}: ${Math.round(results[impl]).toLocaleString('en-US')} instructions/${w.unit}\n`);
}
for (const impl of impls) {
  const per = Math.round(results[impl]);
  process.stdout.write(`${JSON.stringify({ workload, side, impl, [`instructions/${w.unit}`]: per, ratioToNode: Number((results[impl] / results.node).toFixed(3)) })}\n`);
}
