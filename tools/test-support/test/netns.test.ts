import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  NETNS_PREFIX,
  TestSupportError,
  assertTestNames,
  cleanupStaleNetns,
  createNetns,
  listNetns,
  listenEphemeral,
  closeAll,
  runCommand,
  runTclClient,
  startProcess,
  startTclEchoServer,
  type Netns,
} from '../src/index.js';

/** True while `pid` runs (a killed zombie not yet reaped by PID 1 counts as dead). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** One connect attempt's outcome, as the probe inside the namespace reports it. */
interface Attempt {
  host: string;
  outcome: string; // 'connected', 'pending' (no answer within the limit) or an error code
}

/**
 * Runs inside the namespace. Arguments: port, hosts to listen on (comma list, may be empty),
 * hosts to connect to in turn (comma list), the limit per attempt in ms. Outcomes only, never
 * durations: an attempt still connecting when the limit timer fires is reported as pending.
 */
const PROBE = String.raw`
import net from 'node:net';
const [portText, listenText, connectText, limitText] = process.argv.slice(1);
const port = Number(portText), limit = Number(limitText);
const split = (t) => t.split(',').filter((h) => h !== '');
const servers = [];
for (const host of split(listenText)) {
  servers.push(await new Promise((resolve, reject) => {
    const server = net.createServer((c) => c.destroy());
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  }));
}
const attempt = (host) => new Promise((resolve) => {
  const socket = net.connect(port, host);
  const done = (outcome) => { clearTimeout(timer); socket.destroy(); resolve({ host, outcome }); };
  const timer = setTimeout(() => done('pending'), limit);
  socket.once('connect', () => done('connected'));
  socket.once('error', (e) => done(e.code));
});
const results = [];
for (const host of split(connectText)) results.push(await attempt(host));
for (const s of servers) s.close();
console.log(JSON.stringify(results));
`;

function probe(ns: Netns, port: number, listen: string[], connect: string[], limitMs: number): Promise<Attempt[]> {
  return ns.runNodeJson<Attempt[]>({ code: PROBE }, [String(port), listen.join(','), connect.join(','), String(limitMs)], { timeoutMs: 20_000 });
}

describe('network namespace fixture', () => {
  let ns: Netns;
  beforeAll(async () => {
    assertTestNames();
    ns = await createNetns();
  });
  afterEach(() => ns.clearRules());
  afterAll(() => ns?.dispose());

  it('has lo up with 127.0.0.1 and ::1, its own port space, and the test names', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1' });
    try {
      const inside = await ns.runNodeJson<{ lo: string[]; dual: string[]; outsidePort: string }>(
        {
          code: String.raw`
            import os from 'node:os'; import dns from 'node:dns/promises'; import net from 'node:net';
            const lo = (os.networkInterfaces().lo ?? []).map((a) => a.address);
            const dual = (await dns.lookup('dual.test', { all: true })).map((a) => a.address);
            const outsidePort = await new Promise((resolve) => {
              const s = net.connect(Number(process.argv[1]), '127.0.0.1');
              s.once('connect', () => { s.destroy(); resolve('connected'); });
              s.once('error', (e) => resolve(e.code));
            });
            console.log(JSON.stringify({ lo, dual, outsidePort }));`,
        },
        [String(port)],
      );
      expect(inside.lo.sort()).toEqual(['127.0.0.1', '::1']);
      expect(inside.dual.sort()).toEqual(['127.0.0.1', '::1']);
      // A port listening outside is not there inside: a separate network stack.
      expect(inside.outsidePort).toBe('ECONNREFUSED');
    } finally {
      await closeAll(server);
    }
  });

  it('dropSyn: a connect to the dropped ::1 port hangs while 127.0.0.1 on the same port connects at once', async () => {
    const port = 5001;
    const rule = await ns.dropSyn({ address: '::1', port });
    const [v6, v4] = await probe(ns, port, ['::1', '127.0.0.1'], ['::1', '127.0.0.1'], 1500);
    expect(v6).toMatchObject({ host: '::1', outcome: 'pending' });
    expect(v4).toMatchObject({ host: '127.0.0.1', outcome: 'connected' });
    // The first SYN and the kernel's retransmission at about 1 s, both dropped by the rule.
    expect(await rule.droppedPackets()).toBeGreaterThanOrEqual(2);
    await rule.remove();
    const [after] = await probe(ns, port, ['::1'], ['::1'], 1500);
    expect(after).toMatchObject({ outcome: 'connected' });
  });

  it('dropSyn: with nothing listening, ::1 hangs while 127.0.0.1 is refused at once', async () => {
    const port = 5002;
    await ns.dropSyn({ address: '::1', port });
    const [v6, v4] = await probe(ns, port, [], ['::1', '127.0.0.1'], 1500);
    expect(v6).toMatchObject({ outcome: 'pending' });
    expect(v4).toMatchObject({ outcome: 'ECONNREFUSED' });
  });

  it('dropFirstSyn: each connect succeeds after the kernel retransmits its SYN (about 1 s)', async () => {
    const port = 5003;
    const rule = await ns.dropFirstSyn({ address: '::1', port });
    const [first, second, v4] = await probe(ns, port, ['::1', '127.0.0.1'], ['::1', '::1', '127.0.0.1'], 5000);
    for (const attempt of [first!, second!]) expect(attempt.outcome).toBe('connected');
    expect(v4).toMatchObject({ outcome: 'connected' });
    // Exactly one SYN dropped per connection attempt, and each connected all the same: through
    // its retransmitted SYN (the kernel's, about 1 s later).
    expect(await rule.droppedPackets()).toBe(2);
  });

  it('dropFirstSyn works for IPv4 too', async () => {
    const port = 5004;
    const rule = await ns.dropFirstSyn({ address: '127.0.0.1', port });
    const [v4] = await probe(ns, port, ['127.0.0.1'], ['127.0.0.1'], 5000);
    expect(v4).toMatchObject({ outcome: 'connected' });
    expect(await rule.droppedPackets()).toBe(1);
  });

  it('removed rules leave the ruleset; clearRules removes the rest', async () => {
    const a = await ns.dropSyn({ address: '::1', port: 5005 });
    await ns.dropFirstSyn({ address: '127.0.0.1', port: 5006 });
    expect(await ns.listRuleset()).toContain('dport 5005');
    await a.remove();
    await a.remove();
    const ruleset = await ns.listRuleset();
    expect(ruleset).not.toContain('dport 5005');
    expect(ruleset).toContain('dport 5006');
    await ns.clearRules();
    expect(await ns.listRuleset()).not.toMatch(/dport/);
  });

  it('rejects bad rule arguments before touching nft', async () => {
    await expect(ns.dropSyn({ address: 'localhost', port: 1 })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_BAD_ARGUMENT' });
    await expect(ns.dropSyn({ address: '::1; flush ruleset', port: 1 })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_BAD_ARGUMENT' });
    await expect(ns.dropFirstSyn({ address: '::1', port: 0 })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_BAD_ARGUMENT' });
    await expect(ns.dropSyn({ address: '::1', port: 65536 })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_BAD_ARGUMENT' });
  });

  it('runs a tclsh server and client inside the namespace', async () => {
    const server = await startTclEchoServer({ host: '::1', within: ns });
    try {
      const client = await runTclClient(
        'set s [socket ::1 [lindex $argv 0]]; fconfigure $s -buffering line; puts $s inside; puts [gets $s]; close $s',
        [String(server.port)],
        { within: ns },
      );
      expect(client).toMatchObject({ code: 0, stdout: 'inside\n' });
    } finally {
      await server.stop();
    }
  });

  it('spawnNode runs a long-lived Node script inside that reports JSON lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-netns-test-'));
    try {
      const script = join(dir, 'reporter.mjs');
      writeFileSync(
        script,
        String.raw`
          import net from 'node:net';
          const server = net.createServer((c) => c.end('hello')).listen(0, '::1', () => {
            console.log(JSON.stringify({ port: server.address().port, argv: process.argv.slice(2) }));
          });
          process.stdin.on('end', () => server.close()).resume();
        `,
      );
      const child = await ns.spawnNode(script, ['x y']);
      const report = await child.nextJson<{ port: number; argv: string[] }>();
      expect(report.argv).toEqual(['x y']);
      const reply = await ns.runNodeCode(
        "import net from 'node:net'; const s = net.connect(Number(process.argv[1]), '::1'); s.setEncoding('utf8'); s.on('data', (d) => process.stdout.write(d));",
        [String(report.port)],
      );
      expect(reply.stdout).toBe('hello');
      expect(ns.liveProcesses).toContain(child);
      child.endInput();
      expect(await child.exited).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exec runs commands inside and rejects on failure', async () => {
    const links = await ns.exec('ip', ['-o', 'link', 'show']);
    // Only lo exists in a fresh namespace.
    expect(links.stdout.trim().split('\n')).toHaveLength(1);
    expect(links.stdout).toContain('lo:');
    await expect(ns.exec('sh', ['-c', 'exit 3'])).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_COMMAND_FAILED' });
    await expect(ns.runNodeJson({ code: 'console.log("not json")' })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_COMMAND_FAILED' });
  });
});

describe('network namespace lifecycle', () => {
  it('dispose stops processes inside, deletes the namespace, and is idempotent', async () => {
    const ns = await createNetns();
    try {
      expect(await listNetns()).toContain(ns.name);
      const child = await ns.spawn('sh', ['-c', 'echo ready; exec sleep 30']);
      await child.nextLine('ready');
      expect((await runCommand('ip', ['netns', 'pids', ns.name])).stdout.trim()).not.toBe('');
      await ns.dispose();
      expect(child.exitStatus).toEqual({ code: null, signal: 'SIGTERM' });
      expect(await listNetns()).not.toContain(ns.name);
      await ns.dispose();
      await expect(ns.exec('true')).rejects.toThrow(TestSupportError);
      await expect(ns.spawn('true')).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_DISPOSED' });
      await expect(ns.dropSyn({ address: '::1', port: 1 })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_DISPOSED' });
    } finally {
      await ns.dispose();
    }
  });

  it('dispose kills processes it did not start', async () => {
    const ns = await createNetns();
    try {
      // Started behind the fixture's back (not through ns.spawn): only dispose's sweep of
      // `ip netns pids` can find it, and it kills with SIGKILL.
      const stray = await startProcess('ip', ['netns', 'exec', ns.name, 'sh', '-c', 'echo ready; exec sleep 30']);
      try {
        await stray.nextLine('ready');
        expect((await runCommand('ip', ['netns', 'pids', ns.name])).stdout.split('\n')).toContain(String(stray.pid));
        await ns.dispose();
        expect(await listNetns()).not.toContain(ns.name);
        expect(await stray.exited).toEqual({ code: null, signal: 'SIGKILL' });
        expect(isAlive(stray.pid)).toBe(false);
      } finally {
        await stray.stop();
      }
    } finally {
      await ns.dispose();
    }
  });

  it('takes a given name and rejects bad names', async () => {
    const name = `${NETNS_PREFIX}${process.pid}-named-${Date.now()}`;
    const ns = await createNetns({ name });
    try {
      expect(ns.name).toBe(name);
      expect(await listNetns()).toContain(name);
    } finally {
      await ns.dispose();
    }
    await expect(createNetns({ name: 'bad/name' })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_BAD_ARGUMENT' });
    await expect(createNetns({ name: '..' })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_BAD_ARGUMENT' });
  });

  it('cleanupStaleNetns deletes leftovers of dead owners only', async () => {
    const prefix = 'sockchan-tsstale-';
    // A pid that surely belonged to a process that has ended: a shell that printed it and exited.
    const deadPid = Number((await runCommand('sh', ['-c', 'echo $$'])).stdout.trim());
    const stale = `${prefix}${deadPid}-1-abcdef`;
    await runCommand('ip', ['netns', 'add', stale]);
    const live = await createNetns({ prefix });
    try {
      expect(await cleanupStaleNetns(prefix)).toEqual([stale]);
      const names = await listNetns();
      expect(names).not.toContain(stale);
      expect(names).toContain(live.name);
    } finally {
      await live.dispose();
      await runCommand('ip', ['netns', 'delete', stale], { allowFailure: true });
    }
    expect((await listNetns()).filter((n) => n.startsWith(prefix))).toEqual([]);
  });
});
