/**
 * Benchmarks of `@sockchan/server` next to a raw `net.Server` and `tclsh` 8.6, in one run.
 *
 * Every server runs in a child process of its own (so all three are measured alike, and the
 * client load generator here never shares a thread with the server it measures):
 * - accept: connect, the server accepts and closes at once, the client sees EOF and closes;
 *   serially and with 50 connections in flight. Rounds alternate between the servers and the
 *   median rate of each is reported.
 * - idle: N connections are opened and held; the server's resident memory (VmRSS, after a GC
 *   in Node) grows by this much per connection.
 *
 * Used by `tools/bench` and by `node bench/dist/bench/cli.js` in this package.
 */
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Which server a row measures. */
export type ServerKind = 'net' | 'net-peer' | 'listener' | 'tclsh';

/** All kinds, in table order. */
export const SERVER_KINDS: readonly ServerKind[] = ['net', 'net-peer', 'listener', 'tclsh'];

/** What each kind is, for table captions. */
export const SERVER_LABELS: Readonly<Record<ServerKind, string>> = {
  net: 'raw net.Server (0.0.0.0)',
  'net-peer': 'raw net.Server reading remoteAddress/remotePort',
  listener: '@sockchan/server listen() (0.0.0.0 + ::)',
  tclsh: 'tclsh 8.6 socket -server',
};

/** One result line. */
export interface BenchRow {
  /** `accept-serial`, `accept-50`, `idle-N`. */
  readonly bench: string;
  readonly kind: ServerKind;
  /**
   * Connections per second (accept), server CPU time per connection (accept, `us/conn`), or
   * bytes of RSS per connection (idle); NaN when it failed.
   */
  readonly value: number;
  readonly unit: 'conn/s' | 'us/conn' | 'B/conn';
  /** Every round's value (accept), or extra facts (idle). */
  readonly detail: string;
  /**
   * Accept rows: the median over rounds of this server's rate divided by raw net.Server's rate
   * in the same round (paired, so load drifting between rounds cancels out).
   */
  readonly pairedRatio?: number;
}

interface RunningServer {
  readonly port: number;
  readonly pid: number;
  /** How the process ended (`''` while it runs): exit code or signal and its first stderr line. */
  exitInfo(): string;
  /** CPU time the server process has used so far, all threads, in nanoseconds. */
  cpuNs(): number;
  /** Runs the GC (Node) and reports how many connections were accepted. */
  stats(): Promise<{ accepted: number }>;
  stop(): Promise<void>;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CHILD = `${HERE}server-child.js`;
/** The Tcl script sits next to the sources (compiled files are in bench/dist/bench/). */
const TCL_SCRIPT = fileURLToPath(new URL('../../tcl-server.tcl', import.meta.url));

function startServer(kind: ServerKind, mode: 'accept' | 'idle'): Promise<RunningServer> {
  const child: ChildProcessWithoutNullStreams =
    kind === 'tclsh'
      ? spawn('tclsh', [TCL_SCRIPT, mode])
      : spawn(process.execPath, ['--expose-gc', CHILD, kind, mode]);
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no ${what} within 20 s; stderr: ${stderr}`)), 20_000);
      const onExit = (): void => reject(new Error(`${kind} exited; stderr: ${stderr}`));
      child.once('exit', onExit);
      waiting.push((line) => {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        resolve(line);
      });
    });
  return nextLine('READY').then((ready) => {
    const m = /^READY (\d+)$/.exec(ready);
    if (m === null) throw new Error(`${kind}: unexpected first line ${ready}`);
    return {
      port: Number(m[1]),
      pid: child.pid ?? 0,
      cpuNs: () => cpuNsOf(child.pid ?? 0),
      exitInfo: () =>
        child.exitCode === null && child.signalCode === null
          ? ''
          : `server ${child.signalCode ?? `exit ${child.exitCode}`}: ${stderr.trim().split('\n')[0] ?? ''}`,
      async stats() {
        const reply = nextLine('stats');
        child.stdin.write('stats\n');
        const line = await reply;
        return JSON.parse(line.replace(/^ok /, '')) as { accepted: number };
      },
      stop() {
        return new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.stdin.end();
        });
      },
    };
  });
}

/**
 * CPU time of a process in nanoseconds: the sum of `sum_exec_runtime` over its threads
 * (`/proc/PID/task/TID/schedstat`), exact where utime/stime count 10 ms ticks.
 */
function cpuNsOf(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read: its time is gone with it.
    }
  }
  return total;
}

/** One connect, wait for the server to close, close. */
function cycle(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

async function acceptRate(port: number, total: number, inFlight: number): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < total) {
      started += 1;
      await cycle(port);
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, () => worker()));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return total / seconds;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Options of {@link runAcceptBench}. */
export interface AcceptBenchOptions {
  /** Servers to measure (default all three). */
  kinds?: readonly ServerKind[];
  /** Rounds per server and mode; the median is reported (default 31; short rounds pair better under drifting load). */
  rounds?: number;
  /** Connections per serial round (default 500). */
  serialCount?: number;
  /** Connections per round with 50 in flight (default 1500). */
  parallelCount?: number;
  /** Connections in flight for the parallel mode (default 50). */
  inFlight?: number;
}

/**
 * Accept rate, serial and with 50 connections in flight. Each server runs in its own process
 * for the whole run; rounds rotate over the servers so that drifting load hits all alike.
 */
export async function runAcceptBench(options: AcceptBenchOptions = {}): Promise<BenchRow[]> {
  const kinds = options.kinds ?? SERVER_KINDS;
  const rounds = options.rounds ?? 31;
  const inFlight = options.inFlight ?? 50;
  const modes = [
    { bench: 'accept-serial', count: options.serialCount ?? 500, inFlight: 1 },
    { bench: `accept-${inFlight}`, count: options.parallelCount ?? 1500, inFlight },
  ];
  const servers = new Map<ServerKind, RunningServer>();
  try {
    for (const kind of kinds) servers.set(kind, await startServer(kind, 'accept'));
    // Warm-up: JIT, accept paths, and the client's own code.
    for (const s of servers.values()) await acceptRate(s.port, 500, 10);
    const rows: BenchRow[] = [];
    for (const mode of modes) {
      const results = new Map<ServerKind, number[]>(kinds.map((k) => [k, []]));
      const cpu = new Map<ServerKind, number>(kinds.map((k) => [k, 0]));
      for (let round = 0; round < rounds; round += 1) {
        // Rotate the order every round.
        const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]!);
        for (const kind of order) {
          const server = servers.get(kind)!;
          const cpu0 = server.cpuNs();
          results.get(kind)!.push(await acceptRate(server.port, mode.count, mode.inFlight));
          cpu.set(kind, cpu.get(kind)! + server.cpuNs() - cpu0);
        }
      }
      const raw = results.get('net');
      for (const kind of kinds) {
        const rates = results.get(kind)!;
        const paired = raw === undefined || kind === 'net' ? undefined : median(rates.map((r, i) => r / raw[i]!));
        rows.push({
          bench: mode.bench,
          kind,
          value: median(rates),
          unit: 'conn/s',
          detail: `${rates.length} rounds, min ${Math.round(Math.min(...rates))} max ${Math.round(Math.max(...rates))}`,
          ...(paired === undefined ? {} : { pairedRatio: paired }),
        });
      }
      // Server CPU per connection: what the accept path costs, nearly immune to other load.
      for (const kind of kinds) {
        rows.push({
          bench: `${mode.bench} cpu`,
          kind,
          value: cpu.get(kind)! / 1000 / (rounds * mode.count),
          unit: 'us/conn',
          detail: `server CPU over ${rounds * mode.count} connections`,
        });
      }
    }
    return rows;
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
}

/** Resident memory of a process, in bytes (VmRSS). */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) * 1024;
}

/** The soft limit on open files of this process. */
function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m === null || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/**
 * Makes sure this process (and the servers it spawns, which inherit it) may open `needed`
 * files: raises the soft limit with `prlimit` when it is lower (needs the hard limit, or
 * root, to allow it). Returns the limit in force.
 */
export function ensureOpenFileLimit(needed: number): number {
  const current = openFileLimit();
  if (current >= needed) return current;
  spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${needed}`], { stdio: 'ignore' });
  return openFileLimit();
}

async function openIdle(port: number, count: number, sockets: net.Socket[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port });
        sockets.push(s);
        s.once('connect', () => {
          s.removeListener('error', reject);
          // A server that dies (tclsh past FD_SETSIZE) resets these; that is reported, not thrown.
          s.on('error', () => undefined);
          resolve();
        });
        s.once('error', reject);
      });
    }
  };
  // 100 at a time: well inside every backlog, so no SYN is dropped and retried.
  await Promise.all(Array.from({ length: 100 }, () => worker()));
}

/** Options of {@link runIdleBench}. */
export interface IdleBenchOptions {
  kinds?: readonly ServerKind[];
  /** How many idle connections (default 10,000). */
  count?: number;
}

/**
 * Memory per idle accepted connection: RSS of the server process after `count` connections
 * are held, minus its RSS before, over `count` (Node servers are GC'd before both readings).
 * A server that cannot hold them all (tclsh 8.6 aborts past FD_SETSIZE, 1024 descriptors)
 * gives a row with NaN and the reason.
 */
export async function runIdleBench(options: IdleBenchOptions = {}): Promise<BenchRow[]> {
  const kinds = options.kinds ?? SERVER_KINDS;
  const count = options.count ?? 10_000;
  const limit = ensureOpenFileLimit(count + 1000);
  if (limit < count + 100) {
    throw new Error(`idle bench: needs ${count + 100} open files, the limit is ${limit} (raise it: ulimit -n / prlimit)`);
  }
  const rows: BenchRow[] = [];
  for (const kind of kinds) {
    const server = await startServer(kind, 'idle');
    const sockets: net.Socket[] = [];
    try {
      // Warm-up connections, closed again, so lazily built code is in the baseline.
      await openIdle(server.port, 200, sockets);
      await waitAccepted(server, 200);
      for (const s of sockets.splice(0)) s.destroy();
      await server.stats();
      const before = rssOf(server.pid);
      const t0 = process.hrtime.bigint();
      let failure = '';
      try {
        await openIdle(server.port, count, sockets);
        await waitAccepted(server, 200 + count);
      } catch (err) {
        failure = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
        // Give a dying server a moment to be reaped, so its exit is reported, not the symptom.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const exit = server.exitInfo();
        if (exit !== '') failure = `${exit} (client saw: ${failure})`;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const after = failure === '' ? rssOf(server.pid) : NaN;
      rows.push({
        bench: `idle-${count}`,
        kind,
        value: (after - before) / count,
        unit: 'B/conn',
        detail:
          failure === ''
            ? `rss ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MiB; opened in ${seconds.toFixed(2)} s`
            : `failed: ${failure}`,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  }
  return rows;
}

/** Polls the server (bounded: 20 s) until it has accepted `total` connections. */
async function waitAccepted(server: RunningServer, total: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { accepted } = await server.stats();
    if (accepted >= total) return;
    if (Date.now() > deadline) throw new Error(`only ${accepted} of ${total} accepted after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The table (Markdown) of rows, with each row's ratio to raw net.Server: for accept rates the
 * paired median ratio, for CPU rows the ratio of CPU per connection, for idle rows the
 * difference in bytes per connection.
 */
export function formatTable(rows: readonly BenchRow[]): string {
  const out = ['| bench | server | value | vs raw net.Server | detail |', '|---|---|---:|---:|---|'];
  for (const row of rows) {
    const raw = rows.find((r) => r.bench === row.bench && r.kind === 'net');
    let ratio = '';
    if (raw !== undefined && row.kind !== 'net' && Number.isFinite(row.value)) {
      if (row.unit === 'conn/s') ratio = `${(row.pairedRatio ?? row.value / raw.value).toFixed(3)}x`;
      else if (row.unit === 'us/conn') ratio = `${(row.value / raw.value).toFixed(3)}x the CPU`;
      else ratio = `${row.value - raw.value >= 0 ? '+' : ''}${Math.round(row.value - raw.value)} B`;
    }
    const shown = row.unit === 'us/conn' ? row.value.toFixed(1) : String(Math.round(row.value));
    const value = Number.isFinite(row.value) ? `${shown} ${row.unit}` : 'n/a';
    out.push(`| ${row.bench} | ${SERVER_LABELS[row.kind]} | ${value} | ${ratio} | ${row.detail} |`);
  }
  return out.join('\n');
}
