import { join } from 'node:path';
import { distRows, repoRoot, tclRows } from './paths.js';
import type { ChildSpec, CustomWorkload, RowSpec } from './types.js';

/** A node row script: `src/rows/<name>.ts`, run from its build `dist/rows/<name>.js`. */
export function nodeRow(name: string): ChildSpec {
  return { runtime: 'node', script: join(distRows, `${name}.js`) };
}

/** The idle cluster server (`src/rows/cluster-idle.ts`) running `impl`'s idle server in every worker. */
function clusterRow(impl: 'net' | 'sockchan'): ChildSpec {
  return { ...nodeRow('cluster-idle'), env: { SOCKCHAN_BENCH_CLUSTER_IMPL: impl } };
}

/** A tclsh row script: `src/rows/<name>.tcl`, run from src. */
export function tclRow(name: string): ChildSpec {
  return { runtime: 'tclsh', script: join(tclRows, `${name}.tcl`) };
}

/** A row whose implementation plays both ends (one script with `server` and `client` roles). */
function bothEnds(workload: 'pingpong' | 'lines' | 'bulk' | 'unix-pingpong' | 'unix-bulk' | 'tls-pingpong' | 'tls-bulk' | 'tls-handshakes', impl: string, script: ChildSpec): RowSpec {
  return { workload, impl, server: script, client: script };
}

/** A node row script run over a Unix-domain socket instead of TCP (see `overUnix` in rows/common.ts). */
export function unixRow(name: string): ChildSpec {
  return { ...nodeRow(name), env: { SOCKCHAN_BENCH_UNIX: '1' } };
}

/**
 * Every row of the built-in workloads, in table order. `node:net` comes first in each
 * workload: it is the baseline the ratios refer to. To add an implementation, add one entry per
 * workload pointing at its script (see README.md, "Adding a row").
 */
export const rows: readonly RowSpec[] = [
  bothEnds('pingpong', 'node:net', nodeRow('net-pingpong')),
  // A reference next to the baseline: raw node:net with one promise per line at each end.
  bothEnds('pingpong', 'node:net await', nodeRow('net-pingpong-await')),
  bothEnds('pingpong', 'tclsh', tclRow('tcl-pingpong')),
  bothEnds('pingpong', '@sockchan/core', nodeRow('core-pingpong')),
  bothEnds('pingpong', 'sockchan', nodeRow('sockchan-pingpong')),
  bothEnds('lines', 'node:net', nodeRow('net-lines')),
  // A reference next to the baseline: raw node:net with no per-line string or write.
  bothEnds('lines', 'node:net batched', nodeRow('net-lines-batched')),
  bothEnds('lines', 'tclsh', tclRow('tcl-lines')),
  bothEnds('lines', '@sockchan/core', nodeRow('core-lines')),
  bothEnds('lines', 'sockchan', nodeRow('sockchan-lines')),
  bothEnds('bulk', 'node:net', nodeRow('net-bulk')),
  bothEnds('bulk', 'tclsh', tclRow('tcl-bulk')),
  bothEnds('bulk', '@sockchan/core', nodeRow('core-bulk')),
  bothEnds('bulk', 'sockchan', nodeRow('sockchan-bulk')),
  { workload: 'accept', impl: 'node:net', server: nodeRow('net-accept') },
  { workload: 'accept', impl: 'tclsh', server: tclRow('tcl-accept') },
  { workload: 'accept', impl: '@sockchan/server', server: nodeRow('listener-accept') },
  { workload: 'accept', impl: 'sockchan', server: nodeRow('sockchan-accept') },
  // Behind a load balancer: every connection sends a PROXY v2 header first (target: >= 0.9x sockchan).
  // `node:net PROXY v2` is the floor: raw node:net that waits for that first chunk and closes.
  {
    workload: 'accept',
    impl: 'node:net PROXY v2',
    server: nodeRow('net-accept-proxy'),
    client: { ...nodeRow('load-accept'), env: { SOCKCHAN_BENCH_PROXY: 'v2' } },
  },
  {
    workload: 'accept',
    impl: 'sockchan PROXY v2',
    server: nodeRow('sockchan-accept-proxy'),
    client: { ...nodeRow('load-accept'), env: { SOCKCHAN_BENCH_PROXY: 'v2' } },
  },
  { workload: 'idle', impl: 'node:net', server: nodeRow('net-idle'), clusterServer: clusterRow('net') },
  { workload: 'idle', impl: 'tclsh', server: tclRow('tcl-idle') },
  { workload: 'idle', impl: '@sockchan/server', server: nodeRow('listener-idle') },
  { workload: 'idle', impl: '@sockchan/core', server: nodeRow('core-idle') },
  { workload: 'idle', impl: 'sockchan', server: nodeRow('sockchan-idle'), clusterServer: clusterRow('sockchan') },
  // Idle connections over a Unix-domain socket (the load generator connects to the path).
  { workload: 'idle', impl: 'node:net unix', server: unixRow('net-idle'), client: unixRow('load-idle') },
  { workload: 'idle', impl: 'sockchan unix', server: unixRow('sockchan-idle'), client: unixRow('load-idle') },
  // pingpong and bulk over a Unix-domain socket; node:net over the same kind of socket is the baseline.
  bothEnds('unix-pingpong', 'node:net', unixRow('net-pingpong')),
  bothEnds('unix-pingpong', '@sockchan/core', unixRow('core-pingpong')),
  bothEnds('unix-pingpong', 'sockchan', unixRow('sockchan-pingpong')),
  bothEnds('unix-bulk', 'node:net', unixRow('net-bulk')),
  bothEnds('unix-bulk', '@sockchan/core', unixRow('core-bulk')),
  bothEnds('unix-bulk', 'sockchan', unixRow('sockchan-bulk')),
  // TLS: one script per implementation serves every TLS workload (tls-common.ts).
  ...(['tls-pingpong', 'tls-bulk', 'tls-handshakes'] as const).flatMap((w) => [
    bothEnds(w, 'node:tls', nodeRow('tls-node')),
    bothEnds(w, 'tclsh+TclTLS', tclRow('tls-tcl')),
    bothEnds(w, '@sockchan/tls', nodeRow('tls-core')),
    bothEnds(w, 'sockchan', nodeRow('tls-sockchan')),
  ]),
  { workload: 'tls-idle', impl: 'node:tls', server: nodeRow('tls-node') },
  { workload: 'tls-idle', impl: 'tclsh+TclTLS', server: tclRow('tls-tcl') },
  { workload: 'tls-idle', impl: '@sockchan/tls', server: nodeRow('tls-core') },
  { workload: 'tls-idle', impl: 'sockchan', server: nodeRow('tls-sockchan') },
];

/**
 * Workloads that packages provide as a module exporting `run(options)` (see
 * {@link CustomWorkloadModule}), e.g. `{ name: 'encodings', description: '...', module:
 * '@sockchan/encodings/bench' }` once that package exports one and is a dependency of this one.
 */
export const customWorkloads: readonly CustomWorkload[] = [
  {
    name: 'encodings',
    description: 'decode/encode MB/s of utf-8, iso8859-1, cp1252, shiftjis, euc-jp (64 KiB and 100 B chunks) vs Buffer and iconv-lite',
    module: join(repoRoot, 'packages', 'encodings', 'bench', 'encodings.bench.mjs'),
    // Each 64 KiB encode allocates a fresh Buffer (ours and Buffer.from alike); glibc's trimming
    // of freed memory then makes the next allocations fault pages in, which moved the Buffer row
    // itself between 300 and 9,000 MB/s from one repetition to the next and hit whichever row ran
    // next. Without trimming every row allocates alike and the ratios hold still.
    env: { MALLOC_TRIM_THRESHOLD_: '536870912', MALLOC_MMAP_THRESHOLD_: '536870912' },
  },
  {
    name: 'connect',
    description: 'happy-eyeballs connect time in a network namespace (::1 black-holed, slow ::1) and to a healthy localhost, vs node autoSelectFamily and tclsh',
    module: join(distRows, '..', 'custom', 'connect.js'),
    timeoutSeconds: 600,
  },
];
