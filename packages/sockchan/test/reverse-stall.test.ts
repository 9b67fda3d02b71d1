// No reverse-DNS query per accepted connection, and a DNS that never answers does not starve
// libuv's thread pool (issue 19). In a private network and mount namespace whose resolver points
// at a socket that takes queries and never answers (a broken reverse zone), 200 clients from
// distinct source addresses connect to a sockchan server and every channel's peername is queried;
// dns.lookup('localhost') in the same process still settles before any reverse lookup has come
// back. Phase 1 of the fixture shows the stall that eager, unbounded lookups caused. Orders and
// counts are asserted, never durations.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startProcess } from '@sockchan/test-support';
import type { ManagedProcess } from '@sockchan/test-support';

const FIXTURE = fileURLToPath(new URL('./fixtures/dns-stall.mjs', import.meta.url));
const CLIENTS = 200;
const RAW_LOOKUPS = 8;

interface Stats {
  inFlight: number;
  maxInFlightSeen: number;
  queued: number;
  started: number;
  timedOut: number;
}

interface Report {
  phase1: string[];
  afterAccept: Stats & { dnsQueries: number };
  peernamesAreAddresses: boolean;
  afterQueries: Stats;
  localhost: string;
  whenLocalhostSettled: Stats;
  stillAddress: boolean;
}

const dirs: string[] = [];
const processes: ManagedProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The command that runs `node FIXTURE ...` in a fresh network and mount namespace (a user namespace too when not root). */
function inDeadDnsNamespace(dir: string, args: readonly string[]): [string, string[]] {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const script = [
    'set -e',
    'ip link set lo up',
    'mount --bind "$1/hosts" /etc/hosts',
    'mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf',
    'mount --bind "$1/resolv.conf" /etc/resolv.conf',
    'shift',
    'exec "$@"',
  ].join('\n');
  const unshare = [...(asRoot ? [] : ['--user', '--map-root-user']), '--mount', '--net'];
  return ['unshare', [...unshare, 'sh', '-c', script, 'sh', dir, process.execPath, FIXTURE, ...args]];
}

describe('reverse lookups against a DNS that never answers', () => {
  it(`a server with ${CLIENTS} clients from distinct addresses starts no lookup by itself, bounds the ones its queries start, and dns.lookup still answers`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-dead-dns-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
    writeFileSync(join(dir, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\nservices: files\n');
    // One try of 1 s per query, so that phase 1 (the old stall) ends in about two seconds.
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\noptions timeout:1 attempts:1\n');
    const [command, args] = inDeadDnsNamespace(dir, [String(CLIENTS), String(RAW_LOOKUPS)]);
    const fixture = await startProcess(command, args, { lifetimeMs: 60_000 });
    processes.push(fixture);
    const report = JSON.parse(await fixture.nextLine(/^\{/, { timeoutMs: 50_000 })) as Report;

    // Phase 1, eager and unbounded (what every accepted channel did before): lookup('localhost')
    // settled only after reverse lookups had come back from the dead DNS's timeout.
    const localhostAt = report.phase1.indexOf('localhost 127.0.0.1');
    expect(localhostAt).toBeGreaterThanOrEqual(1);
    expect(report.phase1.slice(0, localhostAt).every((e) => e === 'reverse')).toBe(true);

    // Phase 2: accepting 200 connections started no lookup and sent no DNS query.
    expect(report.afterAccept).toMatchObject({ started: 0, inFlight: 0, queued: 0, dnsQueries: 0 });
    // Querying every peername answered at once with the address and started one lookup (libuv
    // runs DNS work on 2 of its 4 threads; the pool leaves one to dns.lookup); the rest wait.
    expect(report.peernamesAreAddresses).toBe(true);
    expect(report.afterQueries).toMatchObject({ started: 1, inFlight: 1, queued: CLIENTS - 1 });
    // dns.lookup('localhost') settled while that lookup was still waiting on the dead DNS: none
    // had come back or timed out.
    expect(report.localhost).toBe('127.0.0.1');
    expect(report.whenLocalhostSettled).toMatchObject({ started: 1, inFlight: 1, timedOut: 0, maxInFlightSeen: 1 });
    expect(report.stillAddress).toBe(true);
  });
});
