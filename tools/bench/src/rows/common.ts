// Shared plumbing of the node row scripts: arguments, the stdin control protocol, results.
// The protocol is documented in tools/bench/README.md; the Tcl scripts speak it too.
import net from 'node:net';
import { unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The role word and the `key=value` parameters a row script is started with. */
export interface RowArgs {
  readonly role: string;
  readonly params: ReadonlyMap<string, string>;
}

/** Parses `process.argv`: `<role> key=value ...`. */
export function parseRowArgs(argv: readonly string[] = process.argv.slice(2)): RowArgs {
  const [role = '', ...rest] = argv;
  const params = new Map<string, string>();
  for (const word of rest) {
    const eq = word.indexOf('=');
    if (eq > 0) params.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return { role, params };
}

/** A numeric parameter; a missing or malformed one ends the script with a clear message. */
export function intParam(args: RowArgs, name: string): number {
  const value = Number(args.params.get(name));
  if (!Number.isSafeInteger(value) || value < 0) fail(`parameter ${name}=<non-negative integer> missing or invalid`);
  return value;
}

/**
 * `warmup=N`: round trips (pingpong), bytes (bulk) or handshakes (tls-handshakes) made before the clock starts (default 0),
 * the same for every row of a workload, so that the rows are timed at steady state: a node row's
 * first round trips run unoptimised until V8 has compiled its hot functions, which took 0.1-0.2 s
 * of a 2.5 s run (the more code on the path, the longer), and tclsh's bytecode compiles on first
 * use; a bulk row's writer and sink compile during the first 100-300 MiB. A loop that starts
 * the clock itself reads it on every warm-up step, the last time as the warm-up ends, never in a
 * branch first taken then: code first run inside a compiled loop has no type feedback, and V8
 * discards the loop's compiled code there (a deopt), just as the timed part begins.
 */
export function warmupParam(args: RowArgs): number {
  return args.params.has('warmup') ? intParam(args, 'warmup') : 0;
}

/**
 * Runs `step` one call after the other: `warmup` times untimed (see warmupParam), then `n` times
 * timed; resolves the seconds of the timed calls.
 */
export async function timedSteps(warmup: number, n: number, step: () => Promise<void>): Promise<number> {
  for (let i = 0; i < warmup; i++) await step();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await step();
  return secondsSince(start);
}

/**
 * A bulk client's traffic: `warmup` untimed bytes (see warmupParam), then `bytes` timed ones, in
 * `chunk`-byte pieces; the sink counts both parts (`total`).
 */
export interface BulkPlan {
  /** The bytes the result reports (those sent after the clock starts). */
  readonly timed: number;
  /** The untimed bytes sent first. */
  readonly warmup: number;
  /** Everything sent: what the sink must count. */
  readonly total: number;
  /** The piece to send after `sent` bytes: a whole chunk, or what is left of the current part. */
  readonly piece: (sent: number) => Buffer;
}

/** The {@link BulkPlan} of a bulk client's parameters (`bytes`, `chunk`, `warmup`). */
export function bulkPlan(args: RowArgs): BulkPlan {
  const timed = intParam(args, 'bytes');
  const warmup = warmupParam(args);
  const total = warmup + timed;
  const chunk = Buffer.alloc(intParam(args, 'chunk'), 0x78);
  return {
    timed,
    warmup,
    total,
    piece: (sent) => {
      // A piece never crosses from the warm-up into the timed part.
      const end = sent < warmup ? warmup : total;
      return end - sent >= chunk.length ? chunk : chunk.subarray(0, end - sent);
    },
  };
}

/** A string parameter with a default. */
export function strParam(args: RowArgs, name: string, fallback: string): string {
  return args.params.get(name) ?? fallback;
}

/** Ends the script with a message on stderr (the harness shows it) and exit status 2. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** Prints the client's result line. */
export function printResult(result: Readonly<Record<string, number>>): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/**
 * The lines workload's traffic (every lines row sends it): 10 texts of `perBatch` numbered
 * 40-byte lines (39 characters and '\n', so lines differ), which a client sends in turn.
 */
export function lineBatches(perBatch: number): string[] {
  const batches: string[] = [];
  for (let b = 0; b < 10; b += 1) {
    let text = '';
    for (let i = 0; i < perBatch; i += 1) text += `line ${String(b * perBatch + i).padStart(6, '0')} abcdefghijklmnopqrstuvwxyz0\n`;
    batches.push(text);
  }
  return batches;
}

/** Seconds since `start` (a `process.hrtime.bigint()` value). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** `global.gc` (node runs the row scripts with `--expose-gc`). */
export const gc = (globalThis as { gc?: () => void }).gc;

/** This process's memory, as the `MEM` reply carries it. */
export function memoryReport(): { rss: number; heapUsed: number; external: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

/**
 * Answers commands on stdin, one per line: each handler's reply is printed as `<COMMAND> <reply>`
 * (in the order the commands came, even when a handler is asynchronous); `QUIT` or stdin EOF
 * calls `onEnd` (default: exit 0).
 */
export function serveCommands(handlers: Readonly<Record<string, () => string | Promise<string>>>, onEnd: () => void = () => process.exit(0)): void {
  const rl = createInterface({ input: process.stdin });
  let queue: Promise<unknown> = Promise.resolve();
  rl.on('line', (line) => {
    const command = line.trim();
    if (command === 'QUIT') onEnd();
    const handler = handlers[command];
    if (handler === undefined) return;
    queue = queue.then(async () => process.stdout.write(`${command} ${await handler()}\n`)).catch((error: Error) => fail(`server: ${command}: ${error.message}`));
  });
  rl.on('close', onEnd);
}

/**
 * Serves the control protocol on stdin for a server script: `COUNT` (connections accepted),
 * `GC` (collect garbage, so memory readings compare like with like), `MEM` (process memory);
 * stdin EOF or `QUIT` ends the process.
 */
export function serveControl(server: net.Server | null, accepted: () => number): void {
  server?.on('error', (error) => fail(`server: ${error.message}`));
  serveCommands({
    COUNT: () => String(accepted()),
    GC: () => {
      gc?.();
      return 'ok';
    },
    MEM: () => JSON.stringify(memoryReport()),
  });
}

/**
 * True when the row runs over a Unix-domain socket (the harness sets `SOCKCHAN_BENCH_UNIX=1` in
 * both children): servers listen on {@link unixBenchPath} and announce it as `READY <path>`;
 * clients get it as `port=<path>`.
 */
export const overUnix = process.env['SOCKCHAN_BENCH_UNIX'] === '1';

/** Removes a file if it is there. */
function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there.
  }
}

/** The Unix-domain socket a server of this process listens on (a stale one is removed first). */
export function unixBenchPath(): string {
  const path = join(tmpdir(), `sockchan-bench-${process.pid}.sock`);
  removeIfThere(path);
  return path;
}

/**
 * Listens on 127.0.0.1, an ephemeral port, and prints `READY <port>`; over a Unix socket
 * ({@link overUnix}) on {@link unixBenchPath}, printing `READY <path>`.
 */
export function listenAndAnnounce(server: net.Server, backlog = 511): void {
  if (overUnix) {
    const path = unixBenchPath();
    server.listen({ path, backlog }, () => process.stdout.write(`READY ${path}\n`));
    // The control protocol ends the process with process.exit(), which closes no handle.
    process.on('exit', () => removeIfThere(path));
    return;
  }
  server.listen({ host: '127.0.0.1', port: 0, backlog }, () => {
    const address = server.address();
    if (address === null || typeof address === 'string') fail('server: no TCP address');
    process.stdout.write(`READY ${address.port}\n`);
  });
}

/**
 * Where a client connects: the row's `host=` (default 127.0.0.1) and `port=`, or the Unix socket
 * path the harness passes as `port=` ({@link overUnix}).
 */
export function connectTarget(args: RowArgs): { readonly host: string; readonly port: number } | { readonly path: string } {
  if (overUnix) {
    const path = args.params.get('port');
    if (path === undefined || !path.startsWith('/')) fail('parameter port=<socket path> missing (a Unix-socket row)');
    return { path };
  }
  return { host: strParam(args, 'host', '127.0.0.1'), port: intParam(args, 'port') };
}

/**
 * A `net.Server` on 127.0.0.1 whose connections go to `onSocket` (a row wraps each in a Channel,
 * or serves it raw); prints `READY <port>` and serves the control protocol, counting connections.
 */
export function countingServer(onSocket: (socket: net.Socket) => unknown, options: net.ServerOpts = {}, backlog = 511): net.Server {
  let accepted = 0;
  const server = net.createServer(options, (socket) => {
    accepted += 1;
    void onSocket(socket);
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server, backlog);
  return server;
}

/** Connects to the row's `host=` (default 127.0.0.1) and `port=` (or Unix socket) with node:net. */
export function connectSocket(args: RowArgs, options: Omit<net.TcpNetConnectOpts, 'host' | 'port'> = {}): Promise<net.Socket> {
  const target = connectTarget(args);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...target, ...options } as net.NetConnectOpts);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}
