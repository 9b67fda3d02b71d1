import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createNetns } from '@sockchan/test-support';
import type { Netns } from '@sockchan/test-support';

// The run docs/happy-eyeballs.md shows, reproduced: the example inside a private network
// namespace where SYNs to ::1 are dropped (a black-holed IPv6 path).

const example = fileURLToPath(new URL('../dist/happy-eyeballs.js', import.meta.url));
// Inside a fresh namespace nothing else listens: a fixed port is free.
const PORT = 9900;

let netns: Netns | undefined;
afterEach(async () => {
  await netns?.dispose();
  netns = undefined;
});

interface Row {
  id: number;
  address: string;
  started: number;
  ended: number;
  outcome: string;
}

function rows(block: string): Row[] {
  return [...block.matchAll(/#(\d+) +(\S+) +started +([\d.]+) ms +ended +([\d.]+) ms +(\w+)/g)].map((m) => ({
    id: Number(m[1]),
    address: m[2] ?? '',
    started: Number(m[3]),
    ended: Number(m[4]),
    outcome: m[5] ?? '',
  }));
}

describe('happy-eyeballs.js in a network namespace', () => {
  it('::1 black-holed: 127.0.0.1 starts while ::1 is unanswered (the Connection Attempt Delay) and wins; the second connect goes straight to it', async () => {
    netns = await createNetns();
    await netns.dropSyn({ address: '::1', port: PORT });
    const r = await netns.runNode(example, ['dual.test', String(PORT)], { timeoutMs: 15_000 });
    const [, first = '', second = ''] = r.stdout.split(/^(?:first|second) connect/m);
    expect(r.stdout).toMatch(/^first connect .*: connected to 127\.0\.0\.1 in [\d.]+ ms$/m);
    const a = rows(first);
    expect(a.map((x) => [x.id, x.address, x.outcome])).toEqual([
      [1, '::1', 'cancelled'],
      [2, '127.0.0.1', 'connected'],
    ]);
    // Order, not durations: 127.0.0.1 started after ::1, while ::1 was still unanswered (RFC
    // 8305's Connection Attempt Delay ran out), and ::1 was cancelled when 127.0.0.1 connected.
    expect(a[1]!.started).toBeGreaterThan(a[0]!.started);
    expect(a[1]!.started).toBeLessThan(a[0]!.ended);
    expect(a[0]!.ended).toBe(a[1]!.ended);
    // History: one attempt, to the address that won.
    expect(rows(second).map((x) => [x.address, x.outcome])).toEqual([['127.0.0.1', 'connected']]);
  });
});
