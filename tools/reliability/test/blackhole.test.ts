import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { assertTestNames, createNetns } from '@sockchan/test-support';
import type { Netns } from '@sockchan/test-support';

let ns: Netns;
beforeAll(async () => {
  assertTestNames();
  ns = await createNetns();
});
afterAll(() => ns?.dispose());

const scenario = fileURLToPath(new URL('../dist/scenarios/blackhole.js', import.meta.url));

describe('faults: an address black-holed during a transfer (network namespace)', () => {
  it('blocking and nonblocking writers stall with bounded memory, no crash; once the path is back every byte arrives and the closes are clean', async () => {
    const p = await ns.spawnNode(scenario, [], { lifetimeMs: 60_000, label: 'blackhole scenario' });
    const ready = await p.nextJson<{ phase: string; port: number }>({ timeoutMs: 10_000 });
    expect(ready.phase).toBe('ready');
    const streaming = await p.nextJson<{ phase: string }>({ timeoutMs: 10_000 });
    expect(streaming.phase).toBe('streaming');
    // Every packet of the connection, both ways, dropped silently (no RST, no ICMP).
    await ns.nft(
      `add table inet relbh\n` +
        `add chain inet relbh in { type filter hook input priority -20; policy accept; }\n` +
        `add rule inet relbh in tcp dport ${ready.port} counter drop\n` +
        `add rule inet relbh in tcp sport ${ready.port} counter drop\n`,
    );
    p.writeLine('blackholed');
    const stalled = await p.nextJson<{
      phase: string;
      progressBlocking: number;
      progressNonblocking: number;
      remainingBlocking: number;
      remainingNonblocking: number;
      maxPendingBlocking: number;
      maxPendingNonblocking: number;
      heapGrowth: number;
    }>({ timeoutMs: 10_000 });
    expect(stalled.phase).toBe('stalled');
    console.log(`figures: black hole: ${JSON.stringify(stalled)}`);
    // Backpressure: both writers are held (no progress once the kernel and Node buffers filled),
    // and what sockchan holds for them stays small although megabytes are still to be sent.
    expect(stalled.progressBlocking).toBe(0);
    expect(stalled.progressNonblocking).toBe(0);
    expect(stalled.remainingBlocking).toBeGreaterThan(4 * 1024 * 1024);
    expect(stalled.remainingNonblocking).toBeGreaterThan(4 * 1024 * 1024);
    expect(stalled.maxPendingBlocking).toBeLessThan(1024 * 1024);
    expect(stalled.maxPendingNonblocking).toBeLessThan(1024 * 1024);
    expect(stalled.heapGrowth).toBeLessThan(8 * 1024 * 1024);
    const dropped = await ns.exec('nft', ['list', 'table', 'inet', 'relbh']);
    expect(dropped.stdout).toMatch(/counter packets [1-9]/);
    await ns.nft('delete table inet relbh\n');
    p.writeLine('restored');
    const done = await p.nextJson<{ phase: string; verified: number; expected: number; error?: string; leaked: string[]; recoveryMs: number }>({ timeoutMs: 40_000 });
    expect(done).toMatchObject({ phase: 'done', verified: 48 * 1024 * 1024, expected: 48 * 1024 * 1024, leaked: [] });
    expect(done.error).toBeUndefined();
    console.log(`figures: black hole: after restore all ${done.verified} bytes verified, ${done.recoveryMs} ms to finish, handles left: ${done.leaked.length}`);
    const exit = await p.exited;
    expect(exit.code).toBe(0);
  }, 60_000);
});
