import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { DEFAULT_MAX_LINE, SockchanError, socket } from 'sockchan';
import type { SocketChannel } from 'sockchan';
import { ByteStream, ByteVerifier } from '../src/index.js';
import { deferred, server, withLeakCheck } from './helpers.js';

const { track } = withLeakCheck();
const MiB = 1024 * 1024;

/**
 * Writes `total` bytes of `fill` to a raw socket as fast as the kernel takes them (waiting for
 * `drain`); `accepted()` says how many it took so far, `done` settles when all went or it closed.
 */
function pour(sock: net.Socket, total: number, fill = 0x41): { done: Promise<void>; accepted: () => number } {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let queued = 0;
  const done = new Promise<void>((resolve) => {
    const go = (): void => {
      while (queued < total) {
        queued += chunk.length;
        if (!sock.write(chunk)) {
          sock.once('drain', go);
          return;
        }
      }
      resolve();
    };
    sock.once('close', () => resolve());
    sock.on('error', () => undefined);
    go();
  });
  return { done, accepted: () => queued - sock.writableLength };
}

/** The largest value `sample()` gives over `turns` 10 ms steps: an observation window, bounded. */
async function maxOver(turns: number, sample: () => number): Promise<number> {
  let max = sample();
  for (let i = 0; i < turns; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    max = Math.max(max, sample());
  }
  return max;
}

/** Waits (bounded) for a condition checked once per event-loop turn. */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('hostile input', () => {
  it('an endless line without a newline: gets fails with a clear ERR_SOCKCHAN_LIMIT, memory stays bounded, the peer is held back', async () => {
    const result = deferred<{ err: unknown; pending: number; bytesRead: number; paused: boolean }>();
    let accepted: SocketChannel | undefined;
    const { port } = await server(
      '127.0.0.1',
      async (ch) => {
        accepted = ch;
        const err = await ch.gets().catch((e: unknown) => e);
        // Watch for 200 ms: reading must stay stopped at the bound while the peer keeps pushing.
        const bytesRead = await maxOver(20, () => ch.socket?.bytesRead ?? -1);
        result.resolve({ err, pending: ch.pending('input'), bytesRead, paused: ch.socket?.isPaused() ?? false });
      },
      track,
    );
    const attacker = track(net.connect(port, '127.0.0.1'));
    const poured = pour(attacker, 64 * MiB);
    let pouredAll = false;
    void poured.done.then(() => (pouredAll = true));
    const r = await result.promise;
    expect(DEFAULT_MAX_LINE).toBe(MiB);
    const e = r.err as SockchanError;
    expect(e).toBeInstanceOf(SockchanError);
    expect(e.message).toBe(`error reading "${accepted?.name ?? ''}": line longer than ${DEFAULT_MAX_LINE} characters`);
    expect(e.code).toBe('ERR_SOCKCHAN_LIMIT');
    // Bounded by the limit plus one read (64 KiB), not by the 64 MiB the peer tries to send;
    // the socket itself may take a few more reads before its pause takes effect.
    expect(r.pending).toBeGreaterThan(DEFAULT_MAX_LINE);
    expect(r.pending).toBeLessThanOrEqual(DEFAULT_MAX_LINE + 64 * 1024);
    expect(r.bytesRead).toBeLessThanOrEqual(DEFAULT_MAX_LINE + 256 * 1024);
    expect(r.paused).toBe(true);
    // TCP backpressure: the attacker could hand the kernels only a few MiB of its 64 MiB.
    expect(pouredAll).toBe(false);
    expect(poured.accepted()).toBeLessThan(24 * MiB);
    console.log(`figures: endless line held at ${r.pending} characters, server read ${r.bytesRead} bytes, attacker got ${poured.accepted()} bytes into the kernel`);
    attacker.destroy();
    await poured.done;
  });

  it('backpressure: a flood that nobody reads stops being read at the bound; when read later every byte is intact', async () => {
    const reader = deferred<SocketChannel>();
    const { port } = await server('::1', (ch) => reader.resolve(ch), track);
    const flooder = track(net.connect(port, '::1'));
    const src = new ByteStream(99, 48 * MiB);
    flooder.write(src.next(48 * MiB));
    flooder.end();
    const ch = await reader.promise;
    ch.configure({ translation: 'binary' });
    await until(() => ch.socket?.isPaused() === true && (ch.socket?.bytesRead ?? 0) > 0, 'the channel to pause its socket');
    // Watch for 200 ms: the read bound (256 KiB) plus the few reads the socket makes before its
    // pause takes effect, however long the peer pushes.
    const maxRead = await maxOver(20, () => ch.socket?.bytesRead ?? 0);
    expect(maxRead).toBeLessThanOrEqual(512 * 1024);
    expect(ch.pending('input')).toBeLessThanOrEqual(512 * 1024);
    expect(flooder.writableLength).toBeGreaterThan(24 * MiB);
    // Now read it all: nothing was lost while the peer was held back.
    const check = new ByteVerifier(99, 48 * MiB);
    for (let b = await ch.readBytes(MiB); b.length > 0; b = await ch.readBytes(MiB)) check.bytes(b);
    expect(check.end()).toEqual({ verifiedBytes: 48 * MiB, verifiedLines: 0, expectedBytes: 48 * MiB, error: undefined });
    await ch.close();
  });

  it('slowloris: 100 peers trickling a partial line cost little, never busy-loop the server, and do not delay a normal client', async () => {
    const SLOW = 100;
    let handlerCalls = 0;
    let slowBytes = 0;
    const { port } = await server(
      '127.0.0.1',
      (ch) => {
        ch.configure({ blocking: false });
        ch.onReadable(async () => {
          handlerCalls += 1;
          for (;;) {
            const line = await ch.gets();
            if (line === null) {
              if (ch.eof()) await ch.close();
              return;
            }
            await ch.puts(`echo ${line}`);
            await ch.flush();
          }
        });
      },
      track,
    );
    const slow = Array.from({ length: SLOW }, () => track(net.connect(port, '127.0.0.1')));
    await Promise.all(slow.map((s) => new Promise((resolve) => s.once('connect', resolve))));
    // Every peer sends one byte per tick for 100 ticks: a line that never ends.
    const trickle = setInterval(() => {
      for (const s of slow) {
        s.write('a');
        slowBytes += 1;
      }
    }, 10);
    try {
      // Meanwhile a normal client does 50 request/response round trips.
      const ch = track(await socket('127.0.0.1', port, { reverseLookup: false }));
      const started = performance.now();
      for (let i = 0; i < 50; i++) {
        await ch.puts(`ping ${i}`);
        await ch.flush();
        expect(await ch.gets()).toBe(`echo ping ${i}`);
      }
      const ms = performance.now() - started;
      await until(() => slowBytes >= SLOW * 100, 'the slow peers to send 100 bytes each');
      clearInterval(trickle);
      // The slow peers' handlers ran at most once per chunk they sent (need-more-data rule).
      expect(handlerCalls).toBeLessThanOrEqual(slowBytes + 60);
      // A figure only: that the 50 round trips completed at all (within the test's bound) is the check.
      console.log(`figures: slowloris ${SLOW} peers x ${slowBytes / SLOW} bytes; normal client 50 round trips in ${ms.toFixed(0)} ms; handler calls ${handlerCalls}`);
      await ch.close();
    } finally {
      clearInterval(trickle);
      for (const s of slow) s.destroy();
    }
  });
});
