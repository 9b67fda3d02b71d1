import { beforeAll, describe, expect, it } from 'vitest';
import { assertTestNames } from '@sockchan/test-support';
import { runSoak } from '../src/index.js';

beforeAll(() => assertTestNames());

describe('soak (short in-suite version of `pnpm soak`)', () => {
  it('50 connections x up to 256 KiB each way, mixed families and modes: nothing lost, memory bounded', async () => {
    // Sampled every 50 ms: the run takes well under a second, so the default 250 ms gives too few points.
    const r = await runSoak({ connections: 50, minBytes: 128 * 1024, maxBytes: 256 * 1024, timeoutMs: 25_000, seed: 9, sampleMs: 50 });
    const { samples: _samples, ...figures } = r;
    console.log(`figures: soak ${JSON.stringify(figures)}`);
    expect(r.errors).toEqual([]);
    expect(r.completed).toBe(true);
    expect(r.clean).toBe(50);
    expect(r.bytesLost).toBe(0);
    expect(r.bytesVerified).toBe(r.bytesSent);
    expect(r.bytesSent).toBeGreaterThan(2 * 50 * 128 * 1024 * 0.99);
    // Both families and every mode combination took part.
    expect(r.ipv4).toBeGreaterThan(0);
    expect(r.ipv6).toBeGreaterThan(0);
    expect(Object.keys(r.modes).sort()).toEqual(
      ['binary', 'text'].flatMap((f) => ['blocking-blocking', 'blocking-nonblocking', 'nonblocking-blocking', 'nonblocking-nonblocking'].map((m) => `${f}/${m}`)).sort(),
    );
    // The server's memory was sampled and stayed bounded (a leak of the payload would be > 25 MiB).
    expect(r.samples.length).toBeGreaterThan(2);
    expect(r.heapUsed.max).toBeLessThan(r.heapUsed.min + 64 * 1024 * 1024);
    expect(r.finalHeapUsed).toBeLessThan(r.heapUsed.min + 8 * 1024 * 1024);
  });
});
