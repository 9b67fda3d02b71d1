// The reverse-lookup pool without I/O: an injected lookup whose answers the test controls, a
// hosts file in a temporary directory, and vitest's virtual clock for the timeouts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReverseNames } from '../src/index.js';
import { parseHostsFile } from '../src/reverse.js';

/** A lookup that answers only when the test says so. */
function controlled(): { lookup: (a: string) => Promise<string>; asked: string[]; answer: (a: string, name: string | Error) => void } {
  const asked: string[] = [];
  const pending = new Map<string, { resolve: (n: string) => void; reject: (e: Error) => void }[]>();
  return {
    asked,
    lookup: (address) =>
      new Promise<string>((resolve, reject) => {
        asked.push(address);
        pending.set(address, [...(pending.get(address) ?? []), { resolve, reject }]);
      }),
    answer: (address, name) => {
      const list = pending.get(address) ?? [];
      pending.delete(address);
      for (const p of list) {
        if (name instanceof Error) p.reject(name);
        else p.resolve(name);
      }
    },
  };
}

/** Lets settled promises run their callbacks. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sockchan-reverse-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('hosts file', () => {
  it('gives the first name of the first line with the address; comments and blank lines are skipped; IPv6 compared canonically', () => {
    const names = parseHostsFile(
      '# comment\n\n127.0.0.1\tlocalhost loopback\n127.0.0.1 second\n0:0:0:0:0:0:0:1 six six-alias # trailing\n10.0.0.1\nnot-an-address name\n',
    );
    expect([...names]).toEqual([
      ['127.0.0.1', 'localhost'],
      ['::1', 'six'],
    ]);
  });

  it('answers at once from the hosts file, without a lookup; re-reads it when it changes', () => {
    const file = join(dir, 'hosts');
    writeFileSync(file, '127.0.0.5 five.test\n');
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: file });
    expect(pool.lookup('127.0.0.5', 1000)).toBe('five.test');
    expect(pool.lookup('::1', 1000)).toBeInstanceOf(Promise);
    expect(c.asked).toEqual(['::1']);
    writeFileSync(file, '127.0.0.5 renamed.test longer-line-so-the-size-changes\n');
    // Checked at most once a second.
    expect(pool.lookup('127.0.0.5', 1500)).toBe('five.test');
    expect(pool.lookup('127.0.0.5', 2000)).toBe('renamed.test');
    expect(pool.stats().fromHostsFile).toBe(3);
    expect(pool.stats().started).toBe(1);
  });

  it('a missing hosts file means no names from it', () => {
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: join(dir, 'missing') });
    expect(pool.query('127.0.0.1')).toBeUndefined();
    expect(c.asked).toEqual(['127.0.0.1']);
  });
});

describe('lookups', () => {
  it('are started by a query, shared by every waiter of an address, and cached', async () => {
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null });
    expect(pool.query('10.0.0.1')).toBeUndefined();
    const waiting = pool.lookup('10.0.0.1');
    expect(c.asked).toEqual(['10.0.0.1']);
    c.answer('10.0.0.1', 'ten.test');
    expect(await waiting).toBe('ten.test');
    expect(pool.query('10.0.0.1')).toBe('ten.test');
    expect(c.asked).toEqual(['10.0.0.1']);
  });

  it('a failed or empty answer is the address itself', async () => {
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null });
    const a = pool.lookup('10.0.0.1');
    const b = pool.lookup('10.0.0.2');
    c.answer('10.0.0.1', new Error('EAI_NONAME'));
    c.answer('10.0.0.2', '');
    expect([await a, await b]).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('a lookup function that throws is a failed lookup, not a throw', async () => {
    const pool = new ReverseNames({
      lookup: () => {
        throw new Error('broken');
      },
      hostsFile: null,
    });
    expect(await pool.lookup('10.0.0.1')).toBe('10.0.0.1');
    expect(pool.stats().inFlight).toBe(0);
  });

  it('run at most maxInFlight at once; the others wait in order', async () => {
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null, maxInFlight: 2 });
    const answers = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => pool.lookup(a));
    expect(c.asked).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(pool.stats()).toMatchObject({ inFlight: 2, queued: 2 });
    c.answer('10.0.0.2', 'two');
    await settle();
    expect(c.asked).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    c.answer('10.0.0.1', 'one');
    c.answer('10.0.0.3', 'three');
    await settle();
    c.answer('10.0.0.4', 'four');
    expect(await Promise.all(answers.map((a) => Promise.resolve(a)))).toEqual(['one', 'two', 'three', 'four']);
    expect(pool.stats()).toMatchObject({ inFlight: 0, queued: 0, maxInFlightSeen: 2, started: 4 });
  });

  it('beyond the queue the address is the answer at once', () => {
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null, maxInFlight: 1, maxQueued: 1 });
    expect(pool.lookup('10.0.0.1')).toBeInstanceOf(Promise);
    expect(pool.lookup('10.0.0.2')).toBeInstanceOf(Promise);
    expect(pool.lookup('10.0.0.3')).toBe('10.0.0.3');
    expect(pool.stats()).toMatchObject({ inFlight: 1, queued: 1, overflowed: 1 });
  });

  it('time out: waiters get the address, the running lookup keeps its slot until it returns, and its late answer is kept', async () => {
    vi.useFakeTimers();
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null, maxInFlight: 1, timeoutMs: 5000 });
    const running = pool.lookup('10.0.0.1');
    const queued = pool.lookup('10.0.0.2');
    await vi.advanceTimersByTimeAsync(4999);
    expect(pool.stats().timedOut).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect([await running, await queued]).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(pool.stats()).toMatchObject({ timedOut: 2, inFlight: 1 });
    // The slot is still taken: the queued address was never started.
    expect(c.asked).toEqual(['10.0.0.1']);
    c.answer('10.0.0.1', 'late.test');
    await settle();
    expect(pool.query('10.0.0.1')).toBe('late.test');
    expect(pool.stats().inFlight).toBe(0);
    // The timed-out queued address is looked up again when asked again.
    expect(pool.query('10.0.0.2')).toBeUndefined();
    expect(c.asked).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('a stale name answers while it is looked up again', async () => {
    vi.useFakeTimers();
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null, cacheTtlMs: 1000 });
    const first = pool.lookup('10.0.0.1');
    c.answer('10.0.0.1', 'old.test');
    expect(await first).toBe('old.test');
    await vi.advanceTimersByTimeAsync(1000);
    expect(pool.query('10.0.0.1')).toBe('old.test');
    expect(c.asked).toEqual(['10.0.0.1', '10.0.0.1']);
    c.answer('10.0.0.1', 'new.test');
    await settle();
    expect(pool.query('10.0.0.1')).toBe('new.test');
  });

  it('resolve() waits for several addresses, bounded by its timeout', async () => {
    vi.useFakeTimers();
    const c = controlled();
    const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null });
    let done = false;
    const waiting = pool.resolve(['10.0.0.1', '10.0.0.2'], 100).then(() => (done = true));
    c.answer('10.0.0.1', 'one');
    await settle();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    await waiting;
    expect(done).toBe(true);
    expect(pool.query('10.0.0.1')).toBe('one');
    expect(pool.query('10.0.0.2')).toBeUndefined();
  });

  it('the cache is bounded', async () => {
    const pool = new ReverseNames({ lookup: (a) => Promise.resolve(`n-${a}`), hostsFile: null, cacheMax: 2 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) await pool.lookup(a);
    expect(pool.query('10.0.0.3')).toBe('n-10.0.0.3');
    expect(pool.query('10.0.0.1')).toBeUndefined();
    expect(pool.stats().started).toBe(4);
  });

  it('rejects bad bounds', () => {
    expect(() => new ReverseNames({ maxInFlight: 0 })).toThrow(RangeError);
    expect(() => new ReverseNames({ timeoutMs: Number.NaN })).toThrow(RangeError);
  });

  it('never has more than maxInFlight lookups running, whatever the order of queries and answers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.oneof(fc.record({ ask: fc.integer({ min: 0, max: 9 }) }), fc.record({ answer: fc.integer({ min: 0, max: 9 }) })), { maxLength: 60 }),
        async (maxInFlight, steps) => {
          const c = controlled();
          const pool = new ReverseNames({ lookup: c.lookup, hostsFile: null, maxInFlight, maxQueued: 1000 });
          const waiters: Promise<string>[] = [];
          for (const step of steps) {
            if ('ask' in step) {
              const answer = pool.lookup(`10.0.0.${step.ask}`);
              if (typeof answer !== 'string') waiters.push(answer);
            } else {
              c.answer(`10.0.0.${step.answer}`, `h${step.answer}`);
              await settle();
            }
            expect(pool.stats().inFlight).toBeLessThanOrEqual(maxInFlight);
          }
          // Answer everything still asked for: every waiter settles with the name.
          for (let round = 0; round < 20 && pool.stats().inFlight + pool.stats().queued > 0; round += 1) {
            for (let i = 0; i < 10; i += 1) c.answer(`10.0.0.${i}`, `h${i}`);
            await settle();
          }
          const names = await Promise.all(waiters);
          for (const n of names) expect(n).toMatch(/^h\d$/);
          expect(pool.stats().maxInFlightSeen).toBeLessThanOrEqual(maxInFlight);
        },
      ),
      { numRuns: 200 },
    );
  });
});
