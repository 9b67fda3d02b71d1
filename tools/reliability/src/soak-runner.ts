import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isIPv6 } from 'node:net';
import type { SessionPlan, SessionResult } from './session.js';

/**
 * The soak driver: a server process and a client process (so the server's memory is its own),
 * N connections, each side sending and checking its own stream; then one report.
 */

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Connections in all (default 500). */
  connections?: number;
  /** Connections open at once (default: all of them). */
  concurrency?: number;
  /** Bytes each side sends per connection: a random amount in `[minBytes, maxBytes]` (default 2-4 MiB). */
  minBytes?: number;
  maxBytes?: number;
  /** Master seed: the same seed gives the same plans and payloads (default 1). */
  seed?: number;
  /** Hosts the clients connect to, round robin (default `127.0.0.1`, `::1`, `localhost`, `dual.test`). */
  hosts?: readonly string[];
  /** The whole run is stopped after this long (default 10 min); a stopped run reports its losses. */
  timeoutMs?: number;
  /** Server memory sampling interval (default 250 ms). */
  sampleMs?: number;
  /** Progress lines (default none). */
  onProgress?: (text: string) => void;
}

/** One memory sample of the server process. */
export interface MemorySample {
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly open: number;
}

/** Min, max and end of one memory series (bytes). */
export interface SeriesStats {
  readonly min: number;
  readonly max: number;
  readonly end: number;
}

/** What a soak run found. */
export interface SoakReport {
  readonly connections: number;
  /** Connections whose both sides verified the whole peer stream with no error. */
  readonly clean: number;
  /** Payload bytes sent, both directions. */
  readonly bytesSent: number;
  /** Payload bytes received and verified in order, both directions. */
  readonly bytesVerified: number;
  /** Payload bytes that should have arrived and did not arrive intact (must be 0). */
  readonly bytesLost: number;
  /** Lines verified (text connections), both directions. */
  readonly linesVerified: number;
  /** `puts` calls, both sides. */
  readonly writes: number;
  readonly durationMs: number;
  /** Connections by the family of the server's address. */
  readonly ipv4: number;
  readonly ipv6: number;
  /**
   * Extra connections the server saw closed before any data: attempts that lost a
   * happy-eyeballs race (names with both families) and were closed by the client.
   */
  readonly emptyConnections: number;
  /** Connections by mode of (client, server). */
  readonly modes: Readonly<Record<string, number>>;
  /** Server process memory over the run (`mem` samples) and after the last close and a GC. */
  readonly rss: SeriesStats;
  readonly heapUsed: SeriesStats;
  readonly finalRss: number;
  readonly finalHeapUsed: number;
  /**
   * Flatness: the highest heapUsed sample in the first and in the second half of the transfer
   * (while connections were open). A leak shows as a second half well above the first.
   */
  readonly heapMaxFirstHalf: number;
  readonly heapMaxSecondHalf: number;
  /** The server's event-loop delay over the run (99th percentile and maximum, ms). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly samples: readonly MemorySample[];
  /** Whether the run ended by itself (false: timed out). */
  readonly completed: boolean;
  /** The first problems seen (at most 20). */
  readonly errors: readonly string[];
}

interface ConnLine extends Partial<SessionResult> {
  type: 'conn';
  id: number;
  host?: string;
  peer?: string;
  plan?: SessionPlan;
  error?: string;
}

const here = (file: string): string => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

interface Child {
  readonly proc: ChildProcess;
  readonly lines: AsyncIterable<string>;
  readonly exited: Promise<void>;
  stderr: string;
}

function startChild(script: string, arg: unknown, nodeFlags: readonly string[]): Child {
  const proc = spawn(process.execPath, [...nodeFlags, here(script), JSON.stringify(arg)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const child: Child = {
    proc,
    lines: createInterface({ input: proc.stdout as NodeJS.ReadableStream }),
    exited: new Promise<void>((resolve) => proc.once('close', () => resolve())),
    stderr: '',
  };
  proc.stderr?.on('data', (d: Buffer) => {
    if (child.stderr.length < 20_000) child.stderr += d.toString();
  });
  return child;
}

function stats(values: readonly number[]): SeriesStats {
  if (values.length === 0) return { min: 0, max: 0, end: 0 };
  return { min: Math.min(...values), max: Math.max(...values), end: values[values.length - 1] as number };
}

/**
 * Runs a soak: starts the server and client processes, waits for every connection (bounded by
 * `timeoutMs`), stops the server and returns the figures. Every byte of both directions is
 * checked against the sender's deterministic stream.
 */
export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const connections = options.connections ?? 500;
  const opts = {
    connections,
    concurrency: options.concurrency ?? connections,
    minBytes: options.minBytes ?? 2 * 1024 * 1024,
    maxBytes: options.maxBytes ?? 4 * 1024 * 1024,
    seed: options.seed ?? 1,
    hosts: [...(options.hosts ?? ['127.0.0.1', '::1', 'localhost', 'dual.test'])],
  };
  const progress = options.onProgress ?? (() => undefined);
  const started = performance.now();
  const samples: MemorySample[] = [];
  const errors: string[] = [];
  const note = (e: string): void => {
    if (errors.length < 20) errors.push(e);
  };
  let final: (MemorySample & { loopDelayP99Ms?: number; loopDelayMaxMs?: number }) | undefined;
  const serverConns = new Map<number, ConnLine>();
  let empty = 0;
  const clientConns = new Map<number, ConnLine>();

  // SOCKCHAN_SOAK_SERVER_FLAGS: extra node flags for the server process (e.g. `--cpu-prof`).
  const extraFlags = (process.env.SOCKCHAN_SOAK_SERVER_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const server = startChild('soak-server.js', { sampleMs: options.sampleMs ?? 250 }, ['--expose-gc', ...extraFlags]);
  let client: Child | undefined;
  let timer: NodeJS.Timeout | undefined;
  let completed: boolean;
  try {
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs ?? 600_000);
    });
    let port = 0;
    let serverDone: () => void = () => undefined;
    const allServerConns = new Promise<void>((resolve) => (serverDone = resolve));
    let sawListening: (p: number) => void = () => undefined;
    const listening = new Promise<number>((resolve) => (sawListening = resolve));
    const finalSeen = (async () => {
      for await (const line of server.lines) {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.type === 'listening') sawListening(msg.port as number);
        else if (msg.type === 'mem') samples.push(msg as unknown as MemorySample);
        else if (msg.type === 'final') {
          final = msg as unknown as MemorySample;
          const left = (msg.leaked as string[] | undefined) ?? [];
          if (left.length > 0) note(`server: handles left after close: ${left.join(' ')}`);
        }
        else if (msg.type === 'conn') {
          const c = msg as unknown as ConnLine;
          if (c.id < 0) note(`server: ${c.error ?? 'bad connection'}`);
          else serverConns.set(c.id, c);
          if (serverConns.size >= connections) serverDone();
        } else if (msg.type === 'empty') empty += 1;
        else if (msg.type === 'error') note(`server onError: ${String(msg.error)}`);
      }
    })();
    const first = await Promise.race([listening, timedOut, server.exited.then(() => 'exited' as const)]);
    if (typeof first !== 'number') throw new Error(`soak server did not start (${first}): ${server.stderr}`);
    port = first;
    progress(`server listening on port ${port}`);

    client = startChild('soak-client.js', { ...opts, port }, []);
    const c = client;
    const clientRead = (async () => {
      for await (const line of c.lines) {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.type === 'conn') {
          const conn = msg as unknown as ConnLine;
          clientConns.set(conn.id, conn);
          if (clientConns.size % 50 === 0) progress(`${clientConns.size}/${connections} connections done`);
        }
      }
    })();
    const outcome = await Promise.race([Promise.all([clientRead, c.exited, allServerConns]).then(() => 'done' as const), timedOut]);
    completed = outcome === 'done';
    if (!completed) note(`timed out after ${options.timeoutMs ?? 600_000} ms`);
    server.proc.stdin?.end('stop\n');
    const stopped = await Promise.race([finalSeen.then(() => 'ok' as const), timedOut]);
    if (stopped !== 'ok') note('server did not stop');
    if (c.stderr !== '') note(`client stderr: ${c.stderr.slice(0, 2000)}`);
    if (server.stderr !== '') note(`server stderr: ${server.stderr.slice(0, 2000)}`);
  } finally {
    clearTimeout(timer);
    for (const ch of [client, server]) {
      if (ch !== undefined && ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGKILL');
    }
    await Promise.all([server.exited, client?.exited]);
  }

  let bytesSent = 0;
  let bytesVerified = 0;
  let bytesLost = 0;
  let linesVerified = 0;
  let writes = 0;
  let clean = 0;
  let ipv4 = 0;
  let ipv6 = 0;
  const modes: Record<string, number> = {};
  for (let id = 0; id < connections; id++) {
    const cl = clientConns.get(id);
    const sv = serverConns.get(id);
    let ok = cl !== undefined && sv !== undefined;
    for (const [side, r] of [
      ['client', cl],
      ['server', sv],
    ] as const) {
      if (r === undefined) {
        note(`connection ${id}: no ${side} result`);
        continue;
      }
      bytesSent += r.sentBytes ?? 0;
      writes += r.writes ?? 0;
      const rec = r.received;
      if (rec !== undefined) {
        bytesVerified += rec.verifiedBytes;
        bytesLost += rec.expectedBytes - rec.verifiedBytes;
        linesVerified += rec.verifiedLines;
        if (rec.error !== undefined) note(`connection ${id} ${side} received: ${rec.error}`);
      }
      if (r.error !== undefined) note(`connection ${id} ${side}: ${r.error}`);
      if (r.error !== undefined || rec === undefined || rec.error !== undefined) ok = false;
    }
    // A side that never reported lost everything the other side sent it.
    if (cl !== undefined && sv === undefined) bytesLost += cl.sentBytes ?? cl.plan?.sendBytes ?? 0;
    if (sv !== undefined && cl === undefined) bytesLost += sv.sentBytes ?? sv.plan?.sendBytes ?? 0;
    if (cl === undefined && sv === undefined) bytesLost += 1; // nothing at all: at least a loss
    if (ok) clean += 1;
    if (cl?.peer !== undefined && cl.peer !== '') {
      if (isIPv6(cl.peer)) ipv6 += 1;
      else ipv4 += 1;
    }
    if (cl?.plan !== undefined && sv?.plan !== undefined) {
      const key = `${cl.plan.format}/${cl.plan.mode}-${sv.plan.mode}`;
      modes[key] = (modes[key] ?? 0) + 1;
    }
  }
  const active = samples.filter((s) => s.open > 0);
  const half = Math.floor(active.length / 2);
  const maxHeap = (list: readonly MemorySample[]): number => list.reduce((m, s) => Math.max(m, s.heapUsed), 0);
  return {
    connections,
    clean,
    bytesSent,
    bytesVerified,
    bytesLost,
    linesVerified,
    writes,
    durationMs: Math.round(performance.now() - started),
    ipv4,
    ipv6,
    emptyConnections: empty,
    modes,
    rss: stats(samples.map((s) => s.rss)),
    heapUsed: stats(samples.map((s) => s.heapUsed)),
    finalRss: final?.rss ?? 0,
    finalHeapUsed: final?.heapUsed ?? 0,
    heapMaxFirstHalf: maxHeap(active.slice(0, half)),
    heapMaxSecondHalf: maxHeap(active.slice(half)),
    loopDelayP99Ms: final?.loopDelayP99Ms ?? 0,
    loopDelayMaxMs: final?.loopDelayMaxMs ?? 0,
    samples,
    completed,
    errors,
  };
}
