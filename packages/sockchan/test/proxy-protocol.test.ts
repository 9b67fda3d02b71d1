// socket.server({ proxyProtocol }) behind a real haproxy 2.6 on loopback (send-proxy, send-proxy-v2,
// and forwarding to a Unix socket), with sockchan, node:net and tclsh clients bound to distinct
// loopback sources: the callback's address and port and `peername` are the original client's.
// These tests fail loudly when haproxy cannot run; they never skip.
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runCommand, runTclClient, startProcess } from '@sockchan/test-support';
import type { ManagedProcess } from '@sockchan/test-support';
import { SocketChannel, encodeProxyHeader, readProxyHeader, socket } from '../src/index.js';
import type { ProxyHeader, ServerChannel } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';
import { deferred, within } from './helpers/wait.js';

const { cleanup, track } = useChannelCleanup();

/** What the server's callback saw for one connection. */
interface Seen {
  address: string;
  port: number;
  peername: unknown;
  proxy: ProxyHeader | undefined;
  line: string | null;
}

/**
 * A sockchan server expecting PROXY headers from 127.0.0.1 (haproxy's side of each connection).
 * Each connection: read a line, answer `address port`, close; what the callback saw is queued.
 */
async function proxiedServer(): Promise<{ server: ServerChannel; seen: Seen[]; next: () => Promise<Seen>; errors: unknown[] }> {
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  let waiting: ((s: Seen) => void) | undefined;
  const server = track(
    await socket.server(
      async (chan, address, port) => {
        track(chan);
        chan.configure({ translation: 'lf', buffering: 'line' });
        const line = await chan.gets();
        const s: Seen = { address, port, peername: chan.configure('peername'), proxy: chan.proxy, line };
        await chan.puts(`${address} ${port}`);
        await chan.close();
        if (waiting !== undefined) {
          const w = waiting;
          waiting = undefined;
          w(s);
        } else seen.push(s);
      },
      0,
      { myaddr: '127.0.0.1', reverseLookup: false, proxyProtocol: { from: ['127.0.0.1'] }, onError: (err) => errors.push(err) },
    ),
  );
  const next = (): Promise<Seen> => {
    const s = seen.shift();
    if (s !== undefined) return Promise.resolve(s);
    const d = deferred<Seen>();
    waiting = d.resolve;
    return within(d.promise, 10_000, 'the server callback');
  };
  return { server, seen, next, errors };
}

/** haproxy 2.6 in the foreground with `frontends`; resolves once it listens. Fails loudly if it cannot run. */
async function startHaproxy(frontends: string): Promise<ManagedProcess> {
  const version = await runCommand('haproxy', ['-v'], { allowFailure: true, timeoutMs: 10_000 }).catch((err: unknown) => {
    throw new Error(`haproxy is required for these tests (Debian package haproxy; scripts/ensure-system-deps.sh): ${String(err)}`);
  });
  if (version.code !== 0) throw new Error(`haproxy is required for these tests but \`haproxy -v\` failed: ${version.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'sockchan-haproxy-'));
  cleanup.add({ close: () => rmSync(dir, { recursive: true, force: true }) });
  const ready = await freePort('127.0.0.1');
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 200',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      // Binds happen together at start-up: once this one accepts, every frontend listens.
      'frontend ready',
      `  bind 127.0.0.1:${ready}`,
      '  tcp-request connection reject',
      frontends,
      '',
    ].join('\n'),
  );
  const check = await runCommand('haproxy', ['-c', '-q', '-f', cfg], { allowFailure: true, timeoutMs: 10_000 });
  if (check.code !== 0) throw new Error(`haproxy rejected its configuration: ${check.stdout}${check.stderr}`);
  const proc = await startProcess('haproxy', ['-f', cfg, '-db'], { label: 'haproxy', lifetimeMs: 60_000 });
  cleanup.add(proc);
  // Bounded: 500 tries, 10 ms apart; each try is a connect that is refused until haproxy listens.
  for (let i = 0; ; i++) {
    if (await canConnect(ready)) return proc;
    const exited = await Promise.race([proc.exited.then((e) => e), new Promise<undefined>((r) => setTimeout(r, 10, undefined))]);
    if (exited !== undefined) throw new Error(`haproxy exited at start-up (${JSON.stringify(exited)})`);
    if (i >= 500) throw new Error('haproxy did not listen within 500 tries');
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

function frontend(name: string, port: number, server: string, sendProxy: 'send-proxy' | 'send-proxy-v2'): string {
  return [`frontend ${name}`, `  bind 127.0.0.1:${port}`, `  bind ::1:${port}`, `  default_backend ${name}_b`, `backend ${name}_b`, `  server s1 ${server} ${sendProxy}`].join('\n');
}

/** A sockchan client bound to `myaddr`: sends a line, returns the answer and its own local port. */
async function clientFrom(myaddr: string, port: number): Promise<{ answer: string | null; localPort: number }> {
  const host = net.isIPv6(myaddr) ? '::1' : '127.0.0.1';
  const ch = track(await socket(host, port, { myaddr, reverseLookup: false }));
  ch.configure({ translation: 'lf' });
  const sockname = ch.configure('sockname');
  await ch.puts('hello');
  await ch.flush();
  const answer = await ch.gets();
  await ch.close();
  return { answer, localPort: sockname === '' ? -1 : sockname[2] };
}


describe('socket.server({ proxyProtocol }) behind haproxy', () => {
  it.each(['send-proxy', 'send-proxy-v2'] as const)('%s: clients from 127.0.0.2, 127.0.0.3 and ::1 show up with their own addresses', async (mode) => {
    const { server, next, errors } = await proxiedServer();
    const front = await freePort('127.0.0.1');
    await startHaproxy(frontend('f', front, `127.0.0.1:${server.port}`, mode));
    for (const source of ['127.0.0.2', '127.0.0.3', '::1']) {
      const { answer, localPort } = await clientFrom(source, front);
      const seen = await next();
      expect([seen.address, seen.port]).toEqual([source, localPort]);
      expect(seen.peername).toEqual([source, source, localPort]);
      expect(seen.line).toBe('hello');
      expect(answer).toBe(`${source} ${localPort}`);
      expect(seen.proxy?.version).toBe(mode === 'send-proxy' ? 1 : 2);
      expect(seen.proxy?.destination).toEqual({ address: source === '::1' ? '::1' : '127.0.0.1', port: front });
    }
    expect(errors).toEqual([]);
  });

  it('tclsh through haproxy (send-proxy-v2): the callback sees the Tcl client address', async () => {
    const { server, next, errors } = await proxiedServer();
    const front = await freePort('127.0.0.1');
    await startHaproxy(frontend('f', front, `127.0.0.1:${server.port}`, 'send-proxy-v2'));
    const result = await runTclClient(
      [
        'set s [socket -myaddr 127.0.0.3 127.0.0.1 [lindex $argv 0]]',
        'fconfigure $s -translation lf -buffering line',
        'puts $s hello',
        'puts [lindex [fconfigure $s -sockname] 2]',
        'puts [gets $s]',
        'close $s',
      ].join('\n'),
      [String(front)],
      { rejectOnFailure: true },
    );
    const [tclPort, answer] = result.stdout.trim().split('\n');
    const seen = await next();
    expect([seen.address, String(seen.port)]).toEqual(['127.0.0.3', tclPort]);
    expect(seen.peername).toEqual(['127.0.0.3', '127.0.0.3', Number(tclPort)]);
    expect(answer).toBe(`127.0.0.3 ${tclPort}`);
    expect(errors).toEqual([]);
  });

  it('socket.unixServer({ proxyProtocol }) behind haproxy (send-proxy-v2 to the Unix socket): the callback and peername see the original client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-pp-unixserver-'));
    cleanup.add({ close: () => rmSync(dir, { recursive: true, force: true }) });
    const path = join(dir, 'app.sock');
    const seen: { address: string; port: number; peername: unknown; sockname: unknown; proxy: ProxyHeader | undefined; line: string | null }[] = [];
    const got = deferred();
    const errors: unknown[] = [];
    track(
      await socket.unixServer(
        async (chan, address, port) => {
          track(chan);
          chan.configure({ translation: 'lf', buffering: 'line' });
          const line = await chan.gets();
          seen.push({ address, port, peername: chan.configure('peername'), sockname: chan.configure('sockname'), proxy: chan.proxy, line });
          await chan.puts(`${address} ${port}`);
          await chan.close();
          got.resolve();
        },
        path,
        { proxyProtocol: { timeout: 5000 }, onError: (err) => errors.push(err) },
      ),
    );
    const front = await freePort('127.0.0.1');
    await startHaproxy(frontend('f', front, path, 'send-proxy-v2'));
    const { answer, localPort } = await clientFrom('127.0.0.3', front);
    await within(got.promise, 10_000, 'the Unix-socket server');
    expect(answer).toBe(`127.0.0.3 ${localPort}`);
    expect(seen).toHaveLength(1);
    expect([seen[0]?.address, seen[0]?.port]).toEqual(['127.0.0.3', localPort]);
    expect(seen[0]?.peername).toEqual(['127.0.0.3', '127.0.0.3', localPort]);
    // The local end is still the socket's own path.
    expect(seen[0]?.sockname).toEqual([path, path, 0]);
    expect(seen[0]?.proxy).toMatchObject({ version: 2, command: 'proxy', family: 'inet', source: { address: '127.0.0.3', port: localPort } });
    expect(seen[0]?.line).toBe('hello');
    expect(errors).toEqual([]);
  });

  it('haproxy forwarding to a Unix socket: readProxyHeader + SocketChannel give the original client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-pp-unix-'));
    cleanup.add({ close: () => rmSync(dir, { recursive: true, force: true }) });
    const path = join(dir, 'app.sock');
    const seen: { peername: unknown; proxy: ProxyHeader | undefined; line: string | null }[] = [];
    const got = deferred();
    const errors: unknown[] = [];
    // What socket.unixServer({ proxyProtocol }) does per connection: read the header, then the channel.
    const unixServer = cleanup.add(
      net.createServer((s) => {
        cleanup.add(s);
        readProxyHeader(s, 5000, (err, header) => {
          if (err !== undefined || header === undefined) {
            errors.push(err);
            return;
          }
          const ch = track(new SocketChannel(s, { proxy: header, reverseLookup: false, translation: 'lf', buffering: 'line' }));
          void (async () => {
            const line = await ch.gets();
            seen.push({ peername: ch.configure('peername'), proxy: ch.proxy, line });
            await ch.puts('ok');
            await ch.close();
            got.resolve();
          })();
        });
      }),
    );
    await new Promise<void>((resolve) => unixServer.listen(path, resolve));
    const front = await freePort('127.0.0.1');
    await startHaproxy(frontend('f', front, path, 'send-proxy-v2'));
    const { answer, localPort } = await clientFrom('127.0.0.2', front);
    await within(got.promise, 10_000, 'the Unix-socket server');
    expect(answer).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.peername).toEqual(['127.0.0.2', '127.0.0.2', localPort]);
    expect(seen[0]?.proxy).toMatchObject({ version: 2, command: 'proxy', family: 'inet', source: { address: '127.0.0.2', port: localPort } });
    expect(seen[0]?.line).toBe('hello');
    expect(errors).toEqual([]);
  });
});

describe('socket.unixServer({ proxyProtocol }) with hand-made headers', () => {
  /** A unixServer expecting headers; each channel answers its peername and the bytes after the header. */
  async function unixProxied(options: { from?: string[]; timeout?: number }): Promise<{ path: string; errors: unknown[]; calls: number[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-pp-unixhdr-'));
    cleanup.add({ close: () => rmSync(dir, { recursive: true, force: true }) });
    const path = join(dir, 'app.sock');
    const errors: unknown[] = [];
    const calls: number[] = [];
    track(
      await socket.unixServer(
        async (chan, address, port) => {
          track(chan);
          calls.push(port);
          chan.configure({ translation: 'lf' });
          const line = await chan.gets();
          await chan.puts(JSON.stringify({ address, port, peername: chan.configure('peername'), command: chan.proxy?.command, line }));
          await chan.close();
        },
        path,
        { proxyProtocol: options, onError: (err) => errors.push(err) },
      ),
    );
    return { path, errors, calls };
  }

  /** Connects to `path`, sends `bytes`, returns everything the server sent until it closed. */
  function exchange(path: string, bytes: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ path });
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks).toString()));
      s.end(bytes);
    });
  }

  it('a v1 header, then data: the bytes after it stay for the channel', async () => {
    const { path, errors } = await unixProxied({});
    const out = await exchange(path, Buffer.from('PROXY TCP4 192.0.2.7 198.51.100.1 40001 443\r\nline after\n'));
    expect(JSON.parse(out)).toEqual({ address: '192.0.2.7', port: 40001, peername: ['192.0.2.7', '192.0.2.7', 40001], command: 'proxy', line: 'line after' });
    expect(errors).toEqual([]);
  });

  it('a LOCAL header (health check) keeps the socket path as the peer', async () => {
    const { path, errors } = await unixProxied({ from: ['127.0.0.1'] });
    const out = await exchange(path, Buffer.concat([Buffer.from(encodeProxyHeader({ command: 'local' })), Buffer.from('ping\n')]));
    expect(JSON.parse(out)).toEqual({ address: path, port: 0, peername: [path, path, 0], command: 'local', line: 'ping' });
    expect(errors).toEqual([]);
  });

  it('no header: the connection is closed, the callback never runs, onError says why', async () => {
    const { path, errors, calls } = await unixProxied({});
    const out = await exchange(path, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    expect(out).toBe('');
    expect(calls).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toMatch(/^bad PROXY protocol header/);
  });

  it('rejects a bad proxyProtocol with a message that names the value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-pp-unixbad-'));
    cleanup.add({ close: () => rmSync(dir, { recursive: true, force: true }) });
    await expect(socket.unixServer(() => undefined, join(dir, 'a.sock'), { proxyProtocol: { timeout: 0 } })).rejects.toThrow('bad value for proxyProtocol.timeout');
    await expect(socket.unixServer(() => undefined, join(dir, 'a.sock'), { proxyProtocol: { from: ['10.0.0.0/40'] } })).rejects.toThrow('bad address "10.0.0.0/40" in proxyProtocol.from');
  });
});

describe('socket.server({ proxyProtocol }) with hand-made headers', () => {
  it('peername is the header source, sockname the socket own end, chan.proxy has the TLVs', async () => {
    const { server, next } = await proxiedServer();
    const c = cleanup.add(net.connect({ host: '127.0.0.1', port: server.port }));
    c.write(
      Buffer.concat([
        encodeProxyHeader({
          source: { address: '::ffff:127.0.0.9', port: 4321 },
          destination: { address: '::1', port: 443 },
          tlvs: [
            { type: 0x01, value: Buffer.from('http/1.1') },
            { type: 0x02, value: Buffer.from('www.example.test') },
          ],
        }),
        Buffer.from('line\n'),
      ]),
    );
    const seen = await next();
    // An IPv4-mapped source is shown as IPv4, as Tcl shows such peers.
    expect([seen.address, seen.port]).toEqual(['127.0.0.9', 4321]);
    expect(seen.peername).toEqual(['127.0.0.9', '127.0.0.9', 4321]);
    expect(seen.proxy?.alpn).toBe('http/1.1');
    expect(seen.proxy?.authority).toBe('www.example.test');
    expect(seen.line).toBe('line');
  });

  it('a bad header goes to onError and never reaches the callback', async () => {
    const { server, seen, errors } = await proxiedServer();
    const c = cleanup.add(net.connect({ host: '127.0.0.1', port: server.port }));
    c.on('error', () => undefined);
    const closed = new Promise((resolve) => c.once('close', resolve));
    c.write('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n');
    c.resume();
    await within(closed, 10_000, 'the server closing the connection');
    expect(seen).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toMatch(/^bad PROXY protocol header from 127\.0\.0\.1 port \d+: PROXY v1 source port "99999" is not 0 to 65535/);
  });

  it('rejects a bad proxyProtocol with a message that names the value', async () => {
    await expect(socket.server(() => undefined, 0, { proxyProtocol: { from: ['10.0.0.0/40'] } })).rejects.toThrow('bad address "10.0.0.0/40" in proxyProtocol.from');
    await expect(socket.server(() => undefined, 0, { proxyPrtocol: {} } as never)).rejects.toThrow(/^bad option "proxyPrtocol": must be .*proxyProtocol/);
  });
});
