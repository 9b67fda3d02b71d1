/**
 * Black-hole scenario, run inside a network namespace by the fault test. A sockchan server and
 * two sockchan writers in this process stream 24 MiB each over 127.0.0.1: one blocking (awaited
 * `puts`), one nonblocking (writes from `onWritable` while `pending('output')` is below 64 KiB).
 * The test drops every packet of the server's port with nft, then lets them through again.
 * Protocol: JSON lines on stdout (`ready`, `streaming`, `stalled`, `done`), commands on stdin
 * (`blackholed`, `restored`).
 */
import { createInterface } from 'node:readline';
import { socket } from 'sockchan';
import type { SocketChannel } from 'sockchan';
import { ByteStream, ByteVerifier } from '../payload.js';
import type { VerifyResult } from '../payload.js';
import { leakedHandles, networkResources } from '../leaks.js';

const TOTAL = 24 * 1024 * 1024;
const PIECE = 64 * 1024;
const HIGH_WATER = 64 * 1024;
/** Stream seeds by the first byte a writer sends: B(locking) and N(onblocking). */
const SEEDS: Record<string, number> = { B: 5, N: 6 };

const out = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};
// Commands are remembered as they come: a command sent before the script waits for it counts.
const commands = createInterface({ input: process.stdin });
const received = new Set<string>();
const waiters = new Map<string, () => void>();
commands.on('line', (l) => {
  received.add(l.trim());
  waiters.get(l.trim())?.();
});
const command = (word: string): Promise<void> =>
  received.has(word) ? Promise.resolve() : new Promise((resolve) => waiters.set(word, resolve));

const baseline = networkResources();
const results = new Map<string, VerifyResult>();
let readersDone: () => void = () => undefined;
const verified = new Promise<void>((resolve) => (readersDone = resolve));
const srv = await socket.server(
  async (ch) => {
    ch.configure({ translation: 'binary' });
    const id = Buffer.from(await ch.readBytes(1)).toString('latin1');
    const check = new ByteVerifier(SEEDS[id] ?? 0, TOTAL);
    for (;;) {
      const b = await ch.readBytes(PIECE);
      if (b.length === 0) break;
      check.bytes(b);
    }
    await ch.close();
    results.set(id, check.end());
    if (results.size === 2) readersDone();
  },
  0,
  { myaddr: '127.0.0.1', reverseLookup: false },
);
out({ phase: 'ready', port: srv.port });

async function open(id: 'B' | 'N'): Promise<SocketChannel> {
  const ch = await socket('127.0.0.1', srv.port, { reverseLookup: false });
  ch.configure({ translation: 'binary' });
  await ch.puts(id, { nonewline: true });
  return ch;
}

// Both connections exist before any writer starts (and so before the test drops packets).
const blockingCh = await open('B');
const nonblockingCh = await open('N');

// The blocking writer.
const blockingSrc = new ByteStream(SEEDS.B ?? 0, TOTAL);
let blockingSent = 0;
let announced = false;
const blockingDone = (async () => {
  while (blockingSrc.remaining > 0) {
    const piece = blockingSrc.next(PIECE);
    await blockingCh.puts(piece, { nonewline: true });
    blockingSent += piece.length;
    if (!announced && blockingSent >= 2 * 1024 * 1024) {
      announced = true;
      out({ phase: 'streaming', sent: blockingSent });
    }
  }
  // Blocking close: flushes everything (waits out the black hole), then closes.
  await blockingCh.close();
})();

// The nonblocking writer: writes only while the channel can take output without queueing more.
nonblockingCh.configure({ blocking: false });
const nonblockingSrc = new ByteStream(SEEDS.N ?? 0, TOTAL);
let nonblockingSent = 0;
const nonblockingDone = new Promise<void>((resolve, reject) => {
  nonblockingCh.onWritable(() => {
    while (nonblockingCh.pending('output') < HIGH_WATER) {
      if (nonblockingSrc.remaining === 0) {
        nonblockingCh.onWritable(null);
        // Nonblocking close: resolves at once; the queued bytes still go out.
        nonblockingCh.close().then(resolve, reject);
        return;
      }
      const piece = nonblockingSrc.next(PIECE);
      nonblockingCh.puts(piece, { nonewline: true }).catch(reject);
      nonblockingSent += piece.length;
    }
  });
});

await command('blackholed');
// Sample for 2 s while every packet is dropped: both writers must stall with bounded memory.
const samples: { b: number; n: number; pendingB: number; pendingN: number; heapUsed: number }[] = [];
const heapBefore = process.memoryUsage().heapUsed;
for (let i = 0; i < 20; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  samples.push({
    b: blockingSent,
    n: nonblockingSent,
    pendingB: blockingCh.pending('output'),
    pendingN: nonblockingCh.pending('output'),
    heapUsed: process.memoryUsage().heapUsed,
  });
}
const first = samples[0];
const last = samples.at(-1);
out({
  phase: 'stalled',
  progressBlocking: (last?.b ?? 0) - (first?.b ?? 0),
  progressNonblocking: (last?.n ?? 0) - (first?.n ?? 0),
  remainingBlocking: blockingSrc.remaining,
  remainingNonblocking: nonblockingSrc.remaining,
  maxPendingBlocking: Math.max(...samples.map((s) => s.pendingB)),
  maxPendingNonblocking: Math.max(...samples.map((s) => s.pendingN)),
  heapGrowth: Math.max(...samples.map((s) => s.heapUsed)) - heapBefore,
});

await command('restored');
const started = performance.now();
let writeError: string | undefined;
await Promise.all([blockingDone, nonblockingDone]).catch((e: unknown) => (writeError = String(e)));
await verified;
await srv.close();
commands.close();
process.stdin.destroy();
const leaked = await leakedHandles(baseline);
out({
  phase: 'done',
  verified: [...results.values()].reduce((n, r) => n + r.verifiedBytes, 0),
  expected: [...results.values()].reduce((n, r) => n + r.expectedBytes, 0),
  error: [...results.values()].find((r) => r.error !== undefined)?.error ?? writeError,
  recoveryMs: Math.round(performance.now() - started),
  leaked,
});
