// listen({ proxyProtocol }) with real sockets on loopback: clients bound to 127.0.0.x and ::1
// play the proxy. The bugs other implementations shipped are cases here: a header split across
// packets, a silent client holding up other accepts, a header timer never cleared, bytes after
// the header eaten, an IPv4 proxy seen as an IPv4-mapped IPv6 peer.
import net from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { CleanupList, assertTestNames } from '@sockchan/test-support';
import { addressMatcher, encodeProxyHeader, listen, readProxyHeader } from '../src/index.js';
import type { Listener, ListenOptions, ProxyHeader } from '../src/index.js';
import { readLine, readToEnd } from './helpers.js';

beforeAll(() => assertTestNames());
const cleanup = new CleanupList();
afterEach(async () => {
  vi.useRealTimers();
  await cleanup.closeAll();
});

interface Accepted {
  socket: net.Socket;
  address: string;
  port: number;
  proxy: ProxyHeader | undefined;
}

/** A listener on loopback whose accepted connections and errors are queued for the test to await. */
async function proxiedServer(options: Partial<ListenOptions> & Pick<ListenOptions, 'proxyProtocol'>): Promise<{
  listener: Listener;
  accepted: AsyncQueue<Accepted>;
  errors: AsyncQueue<{ err: unknown; socket: net.Socket | undefined }>;
}> {
  const accepted = new AsyncQueue<Accepted>();
  const errors = new AsyncQueue<{ err: unknown; socket: net.Socket | undefined }>();
  const listener = await listen(0, {
    myaddr: 'localhost',
    reverseLookup: false,
    onConnection: (socket, address, port, proxy) => {
      cleanup.add(socket);
      accepted.push({ socket, address, port, proxy });
    },
    onError: (err, socket) => errors.push({ err, socket }),
    ...options,
  });
  cleanup.add(listener);
  return { listener, accepted, errors };
}

/** Values pushed by callbacks, awaited in order by the test (no polling, no sleeps). */
class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((v: T) => void)[] = [];
  get length(): number {
    return this.#items.length;
  }
  push(v: T): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w(v);
    else this.#items.push(v);
  }
  next(): Promise<T> {
    const v = this.#items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** A client bound to `localAddress`, connected. */
function connectFrom(localAddress: string, port: number, host = net.isIPv6(localAddress) ? '::1' : '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = cleanup.add(net.connect({ host, port, localAddress }));
    s.setNoDelay(true);
    s.once('connect', () => {
      s.removeListener('error', reject);
      // A server that closes a proxy connection with unread bytes resets it; 'close' tells the test.
      s.on('error', () => undefined);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Waits event-loop turns (real setImmediate, bounded) until `cond` holds. */
async function turnsUntil(cond: () => boolean, maxTurns = 100_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`condition not met after ${maxTurns} turns`);
}

function write(s: net.Socket, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve())));
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed && s.closed) resolve();
    else s.once('close', () => resolve());
    s.resume();
  });
}

const v1 = (src: string, sport: number, dst = '127.0.0.1', dport = 80): string =>
  `PROXY ${net.isIPv6(src) ? 'TCP6' : 'TCP4'} ${src} ${dst} ${sport} ${dport}\r\n`;

describe('listen({ proxyProtocol })', () => {
  it('v1 and v2 from a listed proxy: the handler gets the original client, and the bytes after the header', async () => {
    const { listener, accepted } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1', '::1'] } });
    const a = await connectFrom('127.0.0.1', listener.port);
    await write(a, `${v1('203.0.113.9', 41000, '198.51.100.1', 443)}hello\n`);
    const got = await accepted.next();
    expect([got.address, got.port]).toEqual(['203.0.113.9', 41000]);
    expect(got.proxy).toMatchObject({ version: 1, family: 'inet', destination: { address: '198.51.100.1', port: 443 } });
    expect(await readLine(got.socket)).toBe('hello');

    const b = await connectFrom('::1', listener.port);
    const header = encodeProxyHeader({
      source: { address: '2001:db8::7', port: 5555 },
      destination: { address: '2001:db8::1', port: 443 },
      tlvs: [
        { type: 0x01, value: Buffer.from('h2') },
        { type: 0x02, value: Buffer.from('api.example.test') },
      ],
      checksum: true,
    });
    await write(b, Buffer.concat([header, Buffer.from('world\n')]));
    const got2 = await accepted.next();
    expect([got2.address, got2.port]).toEqual(['2001:db8::7', 5555]);
    expect(got2.proxy?.alpn).toBe('h2');
    expect(got2.proxy?.authority).toBe('api.example.test');
    expect(await readLine(got2.socket)).toBe('world');
  });

  it('a header split across packets is read whole', async () => {
    const { listener, accepted } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const header = encodeProxyHeader({ source: { address: '192.0.2.44', port: 1234 }, destination: { address: '127.0.0.1', port: 80 } });
    const c = await connectFrom('127.0.0.1', listener.port);
    // One write per byte (TCP_NODELAY): the server sees the header in several reads.
    for (const byte of header) await write(c, Uint8Array.of(byte));
    await write(c, 'after\n');
    const got = await accepted.next();
    expect([got.address, got.port]).toEqual(['192.0.2.44', 1234]);
    expect(await readLine(got.socket)).toBe('after');
  });

  it('a silent proxy connection holds up no other accept; it never reaches the handler', async () => {
    const { listener, accepted, errors } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.0/8'] } });
    const silent = await connectFrom('127.0.0.2', listener.port);
    const partial = await connectFrom('127.0.0.3', listener.port);
    await write(partial, 'PROXY TCP4 192.0.2.1 ');
    // Others are accepted and served while those two wait.
    for (let i = 0; i < 5; i++) {
      const c = await connectFrom('127.0.0.1', listener.port);
      await write(c, `${v1('192.0.2.100', 3000 + i)}n${i}\n`);
      const got = await accepted.next();
      expect(got.port).toBe(3000 + i);
      expect(await readLine(got.socket)).toBe(`n${i}`);
    }
    expect(accepted.length).toBe(0);
    silent.end();
    partial.end();
    const reasons = [await errors.next(), await errors.next()].map((e) => (e.err as SockchanError).message).sort();
    expect(reasons[0]).toMatch(/^incomplete PROXY protocol header from 127\.0\.0\.3 port \d+: the connection was closed after 21 bytes$/);
    expect(reasons[1]).toMatch(/^no PROXY protocol header from 127\.0\.0\.2 port \d+: the connection was closed before sending one$/);
    expect(accepted.length).toBe(0);
    await Promise.all([closed(silent), closed(partial)]);
  });

  it('a slow header times out (virtual clock): closed, reported, never handed over', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { listener, accepted, errors } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'], timeout: 5000 } });
    const c = await connectFrom('127.0.0.1', listener.port);
    await write(c, '\r\n\r\n\0');
    // The server has accepted it once its header timer exists (vi.waitFor would move the clock).
    await turnsUntil(() => vi.getTimerCount() === 1);
    vi.advanceTimersByTime(4999);
    expect(errors.length).toBe(0);
    vi.advanceTimersByTime(1);
    const { err, socket } = await errors.next();
    expect(err).toBeInstanceOf(SockchanError);
    expect((err as SockchanError).code).toBe('ERR_SOCKCHAN_TIMEOUT');
    expect((err as SockchanError).message).toMatch(/^no complete PROXY protocol header from 127\.0\.0\.1 port \d+ within 5000 ms \([05] bytes received\)$/);
    expect(socket?.destroyed).toBe(true);
    await closed(c);
    expect(accepted.length).toBe(0);
  });

  it('the header timer is cleared once the header is read (virtual clock)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { listener, accepted, errors } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const c = await connectFrom('127.0.0.1', listener.port);
    await write(c, `${v1('192.0.2.8', 999)}one\n`);
    const got = await accepted.next();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    // Still open and working both ways long after the header timeout.
    expect(await readLine(got.socket)).toBe('one');
    got.socket.write('reply\n');
    expect(await readLine(c)).toBe('reply');
    await write(c, 'two\n');
    got.socket.resume();
    expect(await readLine(got.socket)).toBe('two');
    expect(errors.length).toBe(0);
  });

  it('bytes after the header are never eaten: 1 MiB and the FIN, sent in the same write as the header', async () => {
    const { listener, accepted } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 11)) & 0xff;
    const c = await connectFrom('127.0.0.1', listener.port);
    c.end(Buffer.concat([encodeProxyHeader({ source: { address: '192.0.2.9', port: 7 }, destination: { address: '127.0.0.1', port: 1 } }), body]));
    const got = await accepted.next();
    const hash = createHash('sha256');
    got.socket.on('data', (d: Buffer) => hash.update(d));
    await new Promise((resolve) => got.socket.once('end', resolve));
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    got.socket.end();
  });

  it('header and FIN with nothing between: the handler still sees the end', async () => {
    const { listener, accepted } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const c = await connectFrom('127.0.0.1', listener.port);
    c.end(encodeProxyHeader({ command: 'local' }));
    const got = await accepted.next();
    expect(await readToEnd(got.socket)).toBe('');
    got.socket.end();
  });

  it('LOCAL (health check) keeps the connection own addresses', async () => {
    const { listener, accepted } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const c = await connectFrom('127.0.0.1', listener.port);
    await write(c, encodeProxyHeader({ command: 'local' }));
    const got = await accepted.next();
    expect([got.address, got.port]).toEqual(['127.0.0.1', c.localPort]);
    expect(got.proxy?.command).toBe('local');
    const d = await connectFrom('127.0.0.1', listener.port);
    await write(d, 'PROXY UNKNOWN\r\n');
    const got2 = await accepted.next();
    expect([got2.address, got2.port]).toEqual(['127.0.0.1', d.localPort]);
  });

  it('sources not listed are plain connections: a header they send is data', async () => {
    const { listener, accepted } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const c = await connectFrom('127.0.0.2', listener.port);
    const got = await accepted.next();
    expect([got.address, got.port, got.proxy]).toEqual(['127.0.0.2', c.localPort, undefined]);
    await write(c, v1('192.0.2.1', 1));
    expect(await readLine(got.socket)).toBe('PROXY TCP4 192.0.2.1 127.0.0.1 1 80\r');
  });

  it('a bad header closes that connection, goes to onError, and the listener goes on', async () => {
    const { listener, accepted, errors } = await proxiedServer({ proxyProtocol: { from: ['127.0.0.1'] } });
    const c = await connectFrom('127.0.0.1', listener.port);
    await write(c, 'GET / HTTP/1.0\r\n\r\n');
    const { err } = await errors.next();
    expect((err as SockchanError).code).toBe('ERR_SOCKCHAN_PROXY');
    expect((err as SockchanError).message).toMatch(/^bad PROXY protocol header from 127\.0\.0\.1 port \d+: not a PROXY protocol header$/);
    await closed(c);
    const d = await connectFrom('127.0.0.1', listener.port);
    await write(d, v1('192.0.2.2', 2));
    expect((await accepted.next()).address).toBe('192.0.2.2');
    expect(accepted.length).toBe(0);
  });

  it('an IPv4 proxy seen as an IPv4-mapped IPv6 peer (dual-stack socket) matches its IPv4 entry', async () => {
    // A dual-stack socket of Node's own (listen()'s IPv6 sockets are v6-only) shows the IPv4
    // client as ::ffff:127.0.0.1; readProxyHeader works on any accepted socket.
    const expects = addressMatcher(['127.0.0.1']);
    const results = new AsyncQueue<{ peer: string | undefined; header: ProxyHeader | undefined }>();
    const server = cleanup.add(
      net.createServer((s) => {
        cleanup.add(s);
        const peer = s.remoteAddress;
        if (peer === undefined || !expects(peer)) {
          results.push({ peer, header: undefined });
          return;
        }
        readProxyHeader(s, 1000, (err, header) => results.push({ peer, header: err === undefined ? header : undefined }));
      }),
    );
    await new Promise<void>((resolve) => server.listen({ host: '::', port: 0, ipv6Only: false }, resolve));
    const c = await connectFrom('127.0.0.1', (server.address() as net.AddressInfo).port);
    await write(c, v1('192.0.2.77', 8080));
    const r = await results.next();
    expect(r.peer).toBe('::ffff:127.0.0.1');
    expect(r.header?.source).toEqual({ address: '192.0.2.77', port: 8080 });
  });

  it('a handler that throws on a proxied connection: onError, socket destroyed', async () => {
    const errors = new AsyncQueue<{ err: unknown; socket: net.Socket | undefined }>();
    const listener = cleanup.add(
      await listen(0, {
        myaddr: '127.0.0.1',
        proxyProtocol: { from: ['127.0.0.1'] },
        onConnection: (_s, address) => {
          throw new Error(`refused ${address}`);
        },
        onError: (err, socket) => errors.push({ err, socket }),
      }),
    );
    const c = await connectFrom('127.0.0.1', listener.port);
    await write(c, v1('192.0.2.3', 3));
    const { err, socket } = await errors.next();
    expect((err as Error).message).toBe('refused 192.0.2.3');
    expect(socket?.destroyed).toBe(true);
    await closed(c);
  });

  it.each([
    [{ from: '127.0.0.1' }, 'bad value for proxyProtocol.from: expected a list of addresses or CIDR blocks but got 127.0.0.1'],
    [{ from: ['localhost'] }, 'bad address "localhost" in proxyProtocol.from'],
    [{ from: ['127.0.0.1'], timeout: 0 }, 'bad value for proxyProtocol.timeout: expected milliseconds from 1 to 2147483647 but got 0'],
    [{ from: ['127.0.0.1'], timeout: '5s' }, 'but got 5s'],
    [{ from: ['127.0.0.1'], tiemout: 5 }, 'bad option "tiemout" in proxyProtocol: must be from or timeout'],
    [true, 'bad value for proxyProtocol: expected { from: [addresses], timeout? } but got true'],
  ])('rejects proxyProtocol %j', async (proxyProtocol, message) => {
    const err = await listen(0, { onConnection: () => undefined, proxyProtocol: proxyProtocol as never }).then(
      (l) => {
        cleanup.add(l);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SockchanError);
    expect((err as SockchanError).message).toContain(message);
  });
});

describe('readProxyHeader: a header that is there at accept is read at once', () => {
  // A Unix-domain connection: a write(2) puts the bytes in the peer's receive queue before it
  // returns, so once the client's write callback ran they are there for the server to read.
  // The server side is accepted paused (pauseOnConnect), as a listener's socket is before libuv
  // polls it: nothing has read it when readProxyHeader starts.
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sockchan-proxy-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  async function pair(name: string): Promise<{ client: net.Socket; server: net.Socket }> {
    const path = join(dir, name);
    const srv = net.createServer({ pauseOnConnect: true });
    const accepted = new Promise<net.Socket>((resolve) => srv.once('connection', resolve));
    await new Promise<void>((resolve) => srv.listen(path, resolve));
    cleanup.add(srv);
    const client = cleanup.add(net.connect(path));
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    const server = cleanup.add(await accepted);
    return { client, server };
  }

  /** Calls readProxyHeader and says whether `done` ran before it returned, then waits for it. */
  async function readHeader(server: net.Socket): Promise<{ atOnce: boolean; err: SockchanError | undefined; header: ProxyHeader | undefined }> {
    let settled: { err: SockchanError | undefined; header: ProxyHeader | undefined } | undefined;
    let calls = 0;
    const result = new Promise<{ err: SockchanError | undefined; header: ProxyHeader | undefined }>((resolve) => {
      readProxyHeader(server, 5000, (err, header) => {
        calls += 1;
        settled = { err, header };
        resolve(settled);
      });
    });
    const atOnce = settled !== undefined;
    const r = await result;
    expect(calls).toBe(1);
    return { atOnce, ...r };
  }

  const tlvHeader = (valueLength: number): Buffer =>
    Buffer.from(
      encodeProxyHeader({
        source: { address: '2001:db8::7', port: 5555 },
        destination: { address: '2001:db8::1', port: 443 },
        tlvs: [
          { type: 0x01, value: Buffer.from('h2') },
          { type: 0xe0, value: Buffer.alloc(valueLength, 0x5a) },
        ],
      }),
    );

  it('header, TLVs and the bytes after it, all there: done before readProxyHeader returns, nothing lost or shared', async () => {
    const { client, server } = await pair('a.sock');
    await write(client, Buffer.concat([tlvHeader(40), Buffer.from('first\n')]));
    const got = await readHeader(server);
    expect(got.atOnce).toBe(true);
    expect(got.err).toBeUndefined();
    expect(got.header?.source).toEqual({ address: '2001:db8::7', port: 5555 });
    const tlv = got.header?.tlvs.find((t) => t.type === 0xe0);
    // 2 MiB more through the same socket: the header's TLV value must not be a view of a reused buffer.
    const body = Buffer.alloc(2 * 1024 * 1024, 0x31);
    const received = readToEnd(server);
    server.resume(); // accepted paused
    client.end(body);
    const all = await received;
    expect(all.slice(0, 6)).toBe('first\n');
    expect(all.length).toBe(6 + body.length);
    expect(/^1*$/.test(all.slice(6))).toBe(true);
    expect(Buffer.from(tlv?.value ?? []).equals(Buffer.alloc(40, 0x5a))).toBe(true);
  });

  it('a header longer than the first read: read on as it arrives, the TLV whole', async () => {
    const { client, server } = await pair('b.sock');
    const header = tlvHeader(3000);
    await write(client, Buffer.concat([header, Buffer.from('after\n')]));
    const got = await readHeader(server);
    expect(got.atOnce).toBe(false);
    expect(got.err).toBeUndefined();
    expect(Buffer.from(got.header?.tlvs.find((t) => t.type === 0xe0)?.value ?? []).equals(Buffer.alloc(3000, 0x5a))).toBe(true);
    expect(await readLine(server)).toBe('after');
  });

  it('part of the header at accept, the rest later: the parser keeps the first part', async () => {
    const { client, server } = await pair('c.sock');
    const header = tlvHeader(10);
    await write(client, header.subarray(0, 20));
    const pending = readHeader(server);
    await write(client, Buffer.concat([header.subarray(20), Buffer.from('tail\n')]));
    const got = await pending;
    expect(got.atOnce).toBe(false);
    expect(got.header?.alpn).toBe('h2');
    expect(await readLine(server)).toBe('tail');
  });

  it('nothing yet at accept: the header is read when it comes', async () => {
    const { client, server } = await pair('d.sock');
    const pending = readHeader(server);
    await write(client, `${v1('192.0.2.8', 4000)}x\n`);
    const got = await pending;
    expect(got.atOnce).toBe(false);
    expect(got.header?.source).toEqual({ address: '192.0.2.8', port: 4000 });
    expect(await readLine(server)).toBe('x');
  });

  it('a bad header that is there at accept: refused at once, the socket destroyed', async () => {
    const { client, server } = await pair('e.sock');
    await write(client, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const got = await readHeader(server);
    expect(got.atOnce).toBe(true);
    expect(got.err?.code).toBe('ERR_SOCKCHAN_PROXY');
    expect(got.err?.message).toMatch(/^bad PROXY protocol header: /);
    expect(server.destroyed).toBe(true);
    await closed(client);
  });

  it('the peer closed before sending a header that was there: reported once, as on the event path', async () => {
    const { client, server } = await pair('f.sock');
    await new Promise<void>((resolve) => client.end(resolve));
    const got = await readHeader(server);
    expect(got.atOnce).toBe(false);
    expect(got.err?.message).toMatch(/^no PROXY protocol header.*: the connection was closed before sending one$/);
  });
});
