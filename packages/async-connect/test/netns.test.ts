// Black holes and slow paths that loopback alone cannot show, in a network namespace of our own
// (@sockchan/test-support's createNetns: root, ip and nft needed; without them the tests fail,
// never skip). Each test runs fixtures/ns-child.mjs inside the namespace (it imports the built
// dist) and reads its JSON; the namespace is deleted in afterEach whatever happens.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createNetns } from '@sockchan/test-support';
import type { Netns } from '@sockchan/test-support';

interface Result {
  ok: boolean;
  elapsed: number;
  remoteAddress?: string;
  message?: string;
  code?: string;
  attempts: { id: number; address: string; outcome: string; startedAt: number; endedAt?: number; code?: string }[];
}

const CHILD = fileURLToPath(new URL('./fixtures/ns-child.mjs', import.meta.url));
const PORT = 8080; // the namespace is new and empty: any port is free
let ns: Netns | undefined;
afterEach(async () => {
  await ns?.dispose();
  ns = undefined;
});

async function runChild(spec: object): Promise<Result[]> {
  if (ns === undefined) throw new Error('no namespace');
  return ns.runNodeJson<Result[]>(CHILD, [JSON.stringify({ host: 'dual.test', port: PORT, ...spec })], { timeoutMs: 20_000 });
}

describe('happy eyeballs in a network namespace', () => {
  it('SYNs to ::1 dropped: connects through 127.0.0.1 after the Connection Attempt Delay', async () => {
    ns = await createNetns();
    const rule = await ns.dropSyn({ address: '::1', port: PORT });
    const [r] = await runChild({ listen: ['::1', '127.0.0.1'] });
    expect(r).toMatchObject({ ok: true, remoteAddress: '127.0.0.1' });
    expect(r!.attempts.map((a) => [a.address, a.outcome])).toEqual([
      ['::1', 'cancelled'],
      ['127.0.0.1', 'connected'],
    ]);
    expect(r!.attempts[1]!.startedAt - r!.attempts[0]!.startedAt).toBeGreaterThanOrEqual(249);
    expect(await rule.droppedPackets()).toBeGreaterThan(0);
  });

  it('the second connect to that host takes one round trip: history tries 127.0.0.1 first', async () => {
    ns = await createNetns();
    await ns.dropSyn({ address: '::1', port: PORT });
    const results = await runChild({ listen: ['::1', '127.0.0.1'], repeat: 2 });
    expect(results.map((r) => r.attempts.map((a) => `${a.address} ${a.outcome}`))).toEqual([
      ['::1 cancelled', '127.0.0.1 connected'],
      ['127.0.0.1 connected'],
    ]);
  });

  it('both black-holed: fails at the overall timeout with both attempts in the error', async () => {
    ns = await createNetns();
    await ns.dropSyn({ address: '::1', port: PORT });
    await ns.dropSyn({ address: '127.0.0.1', port: PORT });
    const [r] = await runChild({ listen: ['::1', '127.0.0.1'], options: { connectTimeout: 800 } });
    expect(r).toMatchObject({ ok: false, message: "couldn't open socket: connection timed out", code: 'ETIMEDOUT' });
    expect(r!.attempts.map((a) => [a.address, a.outcome, a.code])).toEqual([
      ['::1', 'timeout', 'ETIMEDOUT'],
      ['127.0.0.1', 'timeout', 'ETIMEDOUT'],
    ]);
    for (const a of r!.attempts) expect(a.endedAt).toBeGreaterThanOrEqual(800);
    expect(r!.elapsed).toBeGreaterThanOrEqual(799);
  });

  it('a refused ::1 falls back at once', async () => {
    ns = await createNetns();
    const [r] = await runChild({ listen: ['127.0.0.1'], options: { useHistory: false } });
    expect(r).toMatchObject({ ok: true, remoteAddress: '127.0.0.1' });
    expect(r!.attempts.map((a) => [a.address, a.code ?? a.outcome])).toEqual([
      ['::1', 'ECONNREFUSED'],
      ['127.0.0.1', 'connected'],
    ]);
    expect(r!.attempts[1]!.startedAt).toBeLessThan(r!.attempts[0]!.startedAt + 250);
  });

  it('slow ::1 (first SYN lost) with 127.0.0.1 black-holed: ::1 keeps running and connects after the retransmit', async () => {
    ns = await createNetns();
    const slow = await ns.dropFirstSyn({ address: '::1', port: PORT });
    await ns.dropSyn({ address: '127.0.0.1', port: PORT });
    const [r] = await runChild({ listen: ['::1', '127.0.0.1'] });
    expect(r).toMatchObject({ ok: true, remoteAddress: '::1' });
    expect(r!.attempts.map((a) => [a.address, a.outcome])).toEqual([
      ['::1', 'connected'],
      ['127.0.0.1', 'cancelled'],
    ]);
    // The first SYN really was lost (Linux retransmits after 1 s) and 127.0.0.1 started meanwhile.
    expect(await slow.droppedPackets()).toBe(1);
    expect(r!.attempts[0]!.endedAt).toBeGreaterThanOrEqual(900);
    expect(r!.attempts[1]!.startedAt).toBeLessThan(r!.attempts[0]!.endedAt!);
  });
});
