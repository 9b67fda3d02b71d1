import { readFileSync } from 'node:fs';
import { BenchChild, describeExit, withDeadline } from './child.js';
import { nodeRow } from './registry.js';
import { ensureBenchCertificate } from './tls-certs.js';
import type { Better, BuiltinWorkload, ChildSpec, Pairing, RowSpec } from './types.js';

/** Workload parameters, passed to the row scripts as `key=value` words. */
export type Params = Readonly<Record<string, number>>;

/** A metric a workload reports, declared up front so failed runs still name their rows. */
export interface MetricDecl {
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  /** Reported only by some implementations (JS heap): a failed run does not invent the row. */
  readonly optional?: boolean;
}

/** What one run of one row produced for one metric: a value or the reason there is none. */
export type Outcome = (MetricDecl & { readonly value: number }) | (MetricDecl & { readonly error: string });

/** A built-in workload: its sizes, its metrics and how one run of one row goes. */
export interface WorkloadDef {
  readonly name: BuiltinWorkload;
  readonly description: string;
  readonly pairing: Pairing;
  /**
   * The implementation the ratio column compares against: `node:net` unless set (the TLS
   * workloads set `node:tls`). It always runs, whatever `--impl` selects.
   */
  readonly baseline?: string;
  /** The common client of `server-under-test` workloads. */
  readonly loadGenerator?: ChildSpec;
  readonly params: (quick: boolean) => Params;
  readonly metrics: (params: Params) => readonly MetricDecl[];
  readonly run: (row: RowSpec, params: Params, timeoutSeconds: number) => Promise<Outcome[]>;
}

/**
 * Starts a row's server and waits for `READY <port>` (or `READY <path>` from a server on a
 * Unix-domain socket, handed to the client as `port=<path>`).
 */
async function startServer(row: RowSpec, params: Params, track: (c: BenchChild) => BenchChild): Promise<{ server: BenchChild; port: number | string }> {
  const server = track(new BenchChild(row.server, 'server', params, `${row.impl} server`));
  const announced = await server.expect('READY ');
  if (announced.startsWith('/')) return { server, port: announced };
  const port = Number(announced);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${row.impl} server announced no port`);
  return { server, port };
}

/** Runs the client to completion and parses its `RESULT {...}` line. */
async function runClient(spec: ChildSpec, label: string, params: Params, port: number | string, track: (c: BenchChild) => BenchChild): Promise<Record<string, number>> {
  const client = track(new BenchChild(spec, 'client', { ...params, port }, label));
  const result = JSON.parse(await client.expect('RESULT ')) as Record<string, number>;
  const exit = await client.exited;
  if (exit.code !== 0) throw new Error(`${label} exited with ${String(exit.code ?? exit.signal)}${client.stderrNote()}`);
  return result;
}

function positive(value: number | undefined, what: string): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) throw new Error(`client reported no valid ${what}`);
  return value;
}

/** A same-impl workload whose client reports `{ seconds, <field> }`; metric = field / seconds / scale. */
function throughput(
  name: 'pingpong' | 'lines' | 'bulk' | 'unix-pingpong' | 'unix-bulk' | 'tls-pingpong' | 'tls-bulk' | 'tls-handshakes',
  description: string,
  params: (quick: boolean) => Params,
  decl: MetricDecl,
  field: string,
  scale: number,
): WorkloadDef {
  return {
    name,
    description,
    pairing: 'same-impl',
    params,
    metrics: () => [decl],
    run: (row, p, timeout) =>
      withDeadline(timeout, async (track) => {
        if (!row.client) throw new Error(`row ${row.impl} has no client script`);
        const { port } = await startServer(row, p, track);
        const result = await runClient(row.client, `${row.impl} client`, p, port, track);
        const value = positive(result[field], field) / positive(result.seconds, 'seconds') / scale;
        return [{ ...decl, value }];
      }),
  };
}

const MiB = 1024 * 1024;

/**
 * Untimed round trips before the pingpong rows' clock starts (every row, tclsh's included): the
 * timed 50,000 then measure each implementation at steady state, not V8 compiling its hot path
 * (0.1-0.2 s of a 2.5 s run, longer for more code). `--param warmup=0` measures the cold start.
 */
const WARMUP_ROUND_TRIPS = 20_000;

/**
 * Untimed handshakes before the tls-handshakes clock starts, for the same reason: V8 compiles
 * per-connection code for the first thousand or so (a node:tls server compiled 16 functions with
 * TurboFan by its 300th handshake and 56 by its 1,200th; @sockchan/tls's 21 and 71).
 */
const WARMUP_HANDSHAKES = 1_000;

/**
 * Untimed bytes before the bulk rows' clock starts (every row, tclsh's included), for the same
 * reason: the sink's and the writer's hot paths compile during the first 100-300 MiB, which
 * weighed most on the channel rows (unix-bulk, 1 GiB, @sockchan/core against node:net: 0.79x
 * cold, 0.92x with 4 GiB; steady-state segments of 64 MiB ran at the same rate).
 */
const WARMUP_BYTES = 256 * 1024 * 1024;

const pingpong = throughput(
  'pingpong',
  'round trips of a short line: the client sends "ping\\n", waits for the echo, N times (after `warmup` untimed ones)',
  (quick) => ({ count: quick ? 500 : 50_000, warmup: quick ? 0 : WARMUP_ROUND_TRIPS }),
  { metric: 'round trips/s', unit: 'rt/s', better: 'higher' },
  'ops',
  1,
);

const lines = throughput(
  'lines',
  'pipelined echo of 40-byte lines: the client writes all lines while reading the echoes',
  (quick) => ({ count: quick ? 5_000 : 500_000 }),
  { metric: 'lines/s', unit: 'lines/s', better: 'higher' },
  'ops',
  1,
);

const bulk = throughput(
  'bulk',
  'bulk transfer in 64 KiB writes to a sink that counts bytes (MB = 10^6 bytes), timed after `warmup` untimed bytes',
  (quick) => ({ bytes: (quick ? 8 : 1024) * MiB, chunk: 64 * 1024, warmup: quick ? 0 : WARMUP_BYTES }),
  { metric: 'MB/s', unit: 'MB/s', better: 'higher' },
  'bytes',
  1e6,
);

// The same two workloads over a Unix-domain socket: every row (node:net, the baseline,
// included) runs with SOCKCHAN_BENCH_UNIX=1, so the ratios compare like with like.
const unixPingpong = throughput(
  'unix-pingpong',
  `${pingpong.description}, over a Unix-domain socket`,
  pingpong.params,
  { metric: 'round trips/s', unit: 'rt/s', better: 'higher' },
  'ops',
  1,
);

const unixBulk = throughput(
  'unix-bulk',
  `${bulk.description}, over a Unix-domain socket`,
  bulk.params,
  { metric: 'MB/s', unit: 'MB/s', better: 'higher' },
  'bytes',
  1e6,
);

const accept: WorkloadDef = {
  name: 'accept',
  description: 'accept rate: connect, server accepts and closes, client sees the close; serial and 50 in flight',
  pairing: 'server-under-test',
  loadGenerator: nodeRow('load-accept'),
  params: (quick) => ({ count: quick ? 200 : 5_000, concurrency: 50 }),
  metrics: (p) => [
    { metric: 'conn/s serial', unit: 'conn/s', better: 'higher' },
    { metric: `conn/s ${p.concurrency ?? 50} at once`, unit: 'conn/s', better: 'higher' },
  ],
  run: (row, p, timeout) =>
    withDeadline(timeout, async (track) => {
      const { server, port } = await startServer(row, p, track);
      const result = await runClient(row.client ?? accept.loadGenerator!, 'accept load generator', p, port, track);
      const accepted = Number(await server.ask('COUNT'));
      const expected = 2 * positive(result.ops, 'ops');
      if (accepted !== expected) throw new Error(`server accepted ${accepted} connections, ${expected} were made`);
      const [serial, concurrent] = accept.metrics(p);
      return [
        { ...serial!, value: result.ops! / positive(result.serialSeconds, 'serialSeconds') },
        { ...concurrent!, value: result.ops! / positive(result.concurrentSeconds, 'concurrentSeconds') },
      ];
    }),
};

/** Resident set size of a process in bytes, from /proc (Linux). */
function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Server memory after a GC: RSS from /proc (or the server's own report), heap if it has one. */
async function serverMemory(server: BenchChild): Promise<{ rss: number; heap?: number }> {
  await server.ask('GC');
  const reported = JSON.parse(await server.ask('MEM')) as { rss?: number; heapUsed?: number };
  const rss = residentBytes(server.pid) ?? reported.rss;
  if (rss === undefined) throw new Error('cannot read the server RSS (/proc missing and no MEM rss)');
  return reported.heapUsed === undefined ? { rss } : { rss, heap: reported.heapUsed };
}

/** Asks COUNT until the server has accepted `target` connections (bounded by the row deadline). */
async function waitAccepted(server: BenchChild, target: number, seen: { count: number }): Promise<void> {
  for (;;) {
    seen.count = Number(await server.ask('COUNT'));
    if (seen.count >= target) return;
    // The connections are queued in the kernel; the server takes them at its own pace.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const idleMetrics = (level: number): MetricDecl[] => [
  { metric: `rss/conn @${level}`, unit: 'B', better: 'lower' },
  { metric: `heap/conn @${level}`, unit: 'B', better: 'lower', optional: true },
];

/** The single-process levels of the idle workload (`level3` 0: none). */
const idleLevels = (p: Params): number[] => [p.level1!, p.level2!, p.level3 ?? 0].filter((l) => l > 0);

/** Metrics of the cluster rows: only the rows with a cluster server report them. */
const clusterMetrics = (p: Params): MetricDecl[] => {
  const what = `@${p.cluster} (${p.workers}-worker cluster)`;
  return [
    { metric: `rss/conn ${what}`, unit: 'B', better: 'lower', optional: true },
    { metric: `heap/conn ${what}`, unit: 'B', better: 'lower', optional: true },
    { metric: `tcp handles left after close ${what}`, unit: 'handles', better: 'lower', optional: true },
  ];
};

/**
 * The most connections the cluster rows open before waiting until the workers have accepted
 * them all: half the primary's 20,000-descriptor limit (see runCluster).
 */
const CLUSTER_ROUND = 10_000;

/** The harness waits at least this long (s) for one cluster run (100,000 connections take a while). */
const CLUSTER_MIN_TIMEOUT_S = 600;

/** Passes a load generator's progress lines (`... open (N s)`) on to stderr. */
function forwardProgress(chunk: string): void {
  for (const line of chunk.split('\n')) if (line.includes(' open (')) process.stderr.write(`  ${line}\n`);
}

/** Memory of the whole cluster after a GC in every process: `rss` and `heapUsed` summed by its primary. */
async function clusterMemory(server: BenchChild): Promise<{ rss: number; heap: number }> {
  await server.ask('GC');
  const m = JSON.parse(await server.ask('MEM')) as { rss?: number; heapUsed?: number };
  if (m.rss === undefined || m.heapUsed === undefined) throw new Error('the cluster reported no rss/heapUsed');
  return { rss: m.rss, heap: m.heapUsed };
}

/**
 * The cluster rows: a node:cluster server (`row.clusterServer`, `workers` workers on one port)
 * and `generators` load generators, each from its own 127.0.0.x source address (so that no
 * source runs out of ephemeral ports, and each process stays under the 20,000-descriptor
 * limit), together holding `cluster` idle connections. Memory is summed over the primary and the
 * workers; then the generators close everything and the workers must be left with no TCP
 * connection handle.
 */
async function runCluster(row: RowSpec, p: Params, track: (c: BenchChild) => BenchChild): Promise<Outcome[]> {
  const [rssDecl, heapDecl, handlesDecl] = clusterMetrics(p);
  const total = p.cluster!;
  const count = p.generators!;
  const maxSeconds = CLUSTER_MIN_TIMEOUT_S + 60;
  const server = track(new BenchChild(row.clusterServer!, 'server', { workers: p.workers!, maxSeconds }, `${row.impl} cluster server`));
  const port = Number(await server.expect('READY '));
  const before = await clusterMemory(server);
  const generators: BenchChild[] = [];
  for (let i = 0; i < count; i += 1) {
    const params = { port, source: `127.0.0.${11 + i}`, maxSeconds };
    // Their progress lines go on to the harness's stderr: 100,000 connects take a while.
    generators.push(track(new BenchChild(idle.loadGenerator!, 'client', params, `idle load generator ${i + 1}`, forwardProgress)));
  }
  const shares = generators.map((_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
  // In rounds of at most CLUSTER_ROUND connections, each accepted by the workers before the next
  // round: on Linux the primary accepts every connection and holds it until a worker has taken
  // it, so a burst of 100,000 filled the primary's 20,000 descriptors, and libuv then accepted
  // and closed the excess (the clients saw a connect, then a FIN: the run stalled at ~46,000).
  const rounds = Math.ceil(total / CLUSTER_ROUND);
  for (let r = 1; r <= rounds; r += 1) {
    const targets = shares.map((share) => Math.round((share * r) / rounds));
    await Promise.all(
      generators.map((g, i) => {
        const reply = g.expect('OPEN ');
        g.send(`OPEN ${targets[i]!}`);
        return reply;
      }),
    );
    await waitAccepted(server, targets.reduce((a, t) => a + t, 0), { count: 0 });
  }
  const after = await clusterMemory(server);
  const outcomes: Outcome[] = [
    { ...rssDecl!, value: (after.rss - before.rss) / total },
    { ...heapDecl!, value: (after.heap - before.heap) / total },
  ];
  // Close every connection (the generators end), then wait until the workers hold none.
  await Promise.all(generators.map((g) => g.stop(30_000)));
  let left = Number(await server.ask('TCP'));
  for (let i = 0; i < 600 && left > 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = Number(await server.ask('TCP'));
  }
  outcomes.push({ ...handlesDecl!, value: left });
  return outcomes;
}

const idle: WorkloadDef = {
  name: 'idle',
  description: 'memory per idle connection of the server process (RSS from /proc; JS heap for node servers)',
  pairing: 'server-under-test',
  loadGenerator: nodeRow('load-idle'),
  params: (quick) =>
    quick
      ? { level1: 200, level2: 1_100, level3: 0, cluster: 3_000, workers: 2, generators: 2 }
      : { level1: 900, level2: 10_000, level3: 19_000, cluster: 100_000, workers: 6, generators: 6 },
  metrics: (p) => [...idleLevels(p).flatMap(idleMetrics), ...(p.cluster! > 0 ? clusterMetrics(p) : [])],
  run: async (row, p, timeout) => {
    const outcomes = await idleSingle(row, p, timeout);
    if (row.clusterServer === undefined || p.cluster! <= 0) return outcomes;
    try {
      outcomes.push(...(await withDeadline(Math.max(timeout, CLUSTER_MIN_TIMEOUT_S), (track) => runCluster(row, p, track))));
    } catch (error) {
      for (const decl of clusterMetrics(p)) outcomes.push({ ...decl, error: (error as Error).message });
    }
    return outcomes;
  },
};

/** The single-process levels of the idle workload: one server, one load generator. */
function idleSingle(row: RowSpec, p: Params, timeout: number, loadGenerator: ChildSpec = idle.loadGenerator!, label = 'idle'): Promise<Outcome[]> {
  return withDeadline(timeout, async (track) => {
      const { server, port } = await startServer(row, p, track);
      const client = track(new BenchChild(row.client ?? loadGenerator, 'client', { port }, `${label} load generator`));
      const before = await serverMemory(server);
      const outcomes: Outcome[] = [];
      const seen = { count: 0 };
      for (const level of idleLevels(p)) {
        const [rssDecl, heapDecl] = idleMetrics(level);
        try {
          client.send(`OPEN ${level}`);
          await client.expect('OPEN ');
          await waitAccepted(server, level, seen);
          const after = await serverMemory(server);
          outcomes.push({ ...rssDecl!, value: (after.rss - before.rss) / level });
          if (after.heap !== undefined && before.heap !== undefined) {
            outcomes.push({ ...heapDecl!, value: (after.heap - before.heap) / level });
          }
        } catch (error) {
          // A dying server makes the load generator fail too; the server's end is the news.
          const serverEnd = await Promise.race([server.exited, new Promise<undefined>((r) => setTimeout(r, 500, undefined))]);
          const why = serverEnd
            ? `${row.impl} server ended (${describeExit(serverEnd)}) after accepting ${seen.count}+ connections${server.stderrNote()}`
            : (error as Error).message;
          outcomes.push({ ...rssDecl!, error: why });
          if (before.heap !== undefined) outcomes.push({ ...heapDecl!, error: why });
          break;
        }
      }
      return outcomes;
  });
}

/** A TLS workload: compared with raw node:tls; the bench certificate is made (once) before its first row starts. */
function withCertificate(def: WorkloadDef): WorkloadDef {
  return {
    ...def,
    baseline: 'node:tls',
    run: (row, p, timeout) => {
      ensureBenchCertificate();
      return def.run(row, p, timeout);
    },
  };
}

const tlsPingpong = withCertificate(
  throughput(
    'tls-pingpong',
    'TLS round trips of a short line (verified TLS 1.3 connection): "ping\\n" and its echo, N times (after `warmup` untimed ones)',
    pingpong.params,
    { metric: 'round trips/s', unit: 'rt/s', better: 'higher' },
    'ops',
    1,
  ),
);

const tlsBulk = withCertificate(
  throughput(
    'tls-bulk',
    'TLS bulk transfer in 64 KiB writes to a sink that counts bytes (MB = 10^6 bytes), timed after `warmup` untimed bytes',
    (quick) => ({ bytes: (quick ? 8 : 512) * MiB, chunk: 64 * 1024, warmup: quick ? 0 : WARMUP_BYTES }),
    { metric: 'MB/s', unit: 'MB/s', better: 'higher' },
    'bytes',
    1e6,
  ),
);

const tlsHandshakes = withCertificate(
  throughput(
    'tls-handshakes',
    'full TLS handshakes per second, one after the other: connect, handshake and verify, close',
    (quick) => ({ handshakes: quick ? 50 : 2_000, warmup: quick ? 0 : WARMUP_HANDSHAKES }),
    { metric: 'handshakes/s', unit: 'hs/s', better: 'higher' },
    'ops',
    1,
  ),
);

const tlsLoadGenerator = nodeRow('tls-load-idle');
const tlsIdle = withCertificate({
  name: 'tls-idle',
  description: 'memory per idle TLS connection of the server process, handshake done (RSS from /proc; JS heap for node servers)',
  pairing: 'server-under-test',
  loadGenerator: tlsLoadGenerator,
  params: (quick) => (quick ? { level1: 100, level2: 300 } : { level1: 500, level2: 2_000 }),
  metrics: (p) => idleLevels(p).flatMap(idleMetrics),
  run: (row, p, timeout) => idleSingle(row, p, timeout, tlsLoadGenerator, 'tls-idle'),
});

/** The built-in workloads, in the order `pnpm bench` runs them. */
export const workloads: readonly WorkloadDef[] = [pingpong, lines, bulk, accept, idle, unixPingpong, unixBulk, tlsPingpong, tlsBulk, tlsHandshakes, tlsIdle];
