import net from 'node:net';
import nodeTls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTestCertificates } from '@sockchan/test-support';
import type { TestCertificates } from '@sockchan/test-support';
import { SockchanError, socket, tls } from '../src/index.js';
import type { ServerChannel, SocketChannel, TlsServerOptions, VerifyInfo } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';
import { deferred, eventLoopTurns, within, writableOnce } from './helpers/wait.js';

/**
 * `tls.socket`, `tls.server`, `tls.import`, `tls.handshake`, `tls.status` with sockchan at both
 * ends, on loopback, with certificates made for this file (see makeTestCertificates).
 */

const { cleanup, track } = useChannelCleanup();
let certs: TestCertificates;

beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterAll(() => {
  certs.dispose();
});

/** A TLS echo server (`echo:` + line) with the test server certificate; errors collected. */
async function echoServer(extra: Partial<TlsServerOptions> = {}): Promise<{ srv: ServerChannel; port: number; errors: unknown[]; accepted: string[] }> {
  const errors: unknown[] = [];
  const accepted: string[] = [];
  const srv = track(
    await tls.server(
      async (ch, addr) => {
        accepted.push(addr);
        ch.configure({ buffering: 'line' });
        for await (const line of ch) await ch.puts(`echo:${line}`);
        await ch.close();
      },
      0,
      { certfile: certs.server.cert, keyfile: certs.server.key, onError: (err) => errors.push(err), ...extra },
    ),
  );
  const port = (srv.configure('sockname') as [string, string, number][])[0]?.[2] as number;
  return { srv, port, errors, accepted };
}

/** Waits (bounded) until `cond` holds, one event loop turn at a time. */
async function until(cond: () => boolean, what: string, turns = 5000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!cond()) throw new Error(`${what}: did not happen`);
}

async function echoOnce(ch: SocketChannel, text: string): Promise<string | null> {
  ch.configure({ buffering: 'line' });
  await ch.puts(text);
  return ch.gets();
}

function rejection(p: Promise<unknown>): Promise<SockchanError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(SockchanError);
      return err as SockchanError;
    },
  );
}

describe('tls.socket and tls.server', () => {
  it('connects by name, verifies, echoes lines; status and handshake as TclTLS', async () => {
    const { port } = await echoServer();
    const ch = track(await tls.socket('localhost', port, { cafile: certs.ca.cert }));
    expect(await echoOnce(ch, 'hello')).toBe('echo:hello');
    expect(await tls.handshake(ch)).toBe(true);
    const st = tls.status(ch);
    expect(st).not.toBeNull();
    expect(st?.subject).toBe('CN=localhost');
    expect(st?.issuer).toBe('CN=sockchan test CA');
    expect(st?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(st?.version).toBe(st?.protocol);
    expect(st?.serial).toBe(st?.serialNumber);
    expect(st?.sha1_hash).toMatch(/^[0-9A-F]{40}$/);
    expect(st?.sha256_hash).toMatch(/^[0-9A-F]{64}$/);
    expect(st?.notAfter).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/);
    expect(st?.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(st?.sbits).toBeGreaterThanOrEqual(128);
    expect(st?.alpn).toBe('');
    // No client certificate: the local status has the connection's keys only.
    expect(tls.status(ch, { local: true })?.subject).toBeUndefined();
    const peer = ch.configure('peername') as [string, string, number];
    expect(peer[2]).toBe(port);
    expect(ch.configure('connecting')).toBe(false);
  });

  it('through happy eyeballs by name: the name given is the one verified', async () => {
    const { port } = await echoServer();
    const seen: (string | undefined)[] = [];
    const verify = (info: VerifyInfo): undefined => {
      seen.push(info.host);
      return undefined;
    };
    const ch = track(await tls.socket('dual.test', port, { cafile: certs.ca.cert, verify }));
    expect(await echoOnce(ch, 'dual')).toBe('echo:dual');
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['dual.test']));
    expect(ch.attempts.some((a) => a.outcome === 'connected')).toBe(true);
    // A certificate without that name fails, naming the host.
    const wrong = await echoServer({ certfile: certs.wrongHost.cert, keyfile: certs.wrongHost.key });
    const err = await rejection(tls.socket('dual.test', wrong.port, { cafile: certs.ca.cert }));
    expect(err.message).toBe('couldn\'t open socket: certificate verify failed: hostname mismatch (host "dual.test")');
    expect(err.code).toBe('ERR_SOCKCHAN_TLS_VERIFY');
    expect(err.errorCode.slice(0, 3)).toEqual(['TLS', 'VERIFY', 'HOSTNAME_MISMATCH']);
  });

  it('one options object for many connects: what it holds at each call is what is checked', async () => {
    const { port } = await echoServer();
    const caBytes = Buffer.from(certs.read(certs.ca.cert));
    const options: Record<string, unknown> = { ca: caBytes, servername: 'localhost', nodelay: true, reverseLookup: false };
    const first = track(await tls.socket('127.0.0.1', port, options));
    expect(await echoOnce(first, 'one')).toBe('echo:one');
    expect(first.configure('nodelay')).toBe(true);
    await first.close();
    // Another name to verify: this call checks it, and the server's certificate does not have it.
    options['servername'] = 'wrong.test';
    const named = await rejection(tls.socket('127.0.0.1', port, options));
    expect(named.message).toBe('couldn\'t open socket: certificate verify failed: hostname mismatch (host "wrong.test")');
    options['servername'] = 'localhost';
    // The CA's bytes overwritten in place (the same Buffer, the same length): no CA any more.
    const saved = Buffer.from(caBytes);
    caBytes.fill(0x78);
    await rejection(tls.socket('127.0.0.1', port, options));
    saved.copy(caBytes);
    // A CA that signed nothing here, in place of the right one.
    options['ca'] = Buffer.from(certs.read(certs.otherCa.cert));
    const untrusted = await rejection(tls.socket('127.0.0.1', port, options));
    expect(untrusted.code).toBe('ERR_SOCKCHAN_TLS_VERIFY');
    options['ca'] = caBytes;
    // An option added to the same object is checked too.
    options['myport'] = 'no-such-service';
    await expect(tls.socket('127.0.0.1', port, options)).rejects.toThrow(/no-such-service/);
    delete options['myport'];
    const again = track(await tls.socket('127.0.0.1', port, options));
    expect(await echoOnce(again, 'two')).toBe('echo:two');
  });

  it('tls.server behind a load balancer: the PROXY header comes before the handshake; the callback, peername and proxy are the original client', async () => {
    const seen = deferred<{ addr: string; port: number; peer: unknown; proxy: unknown }>();
    const srv = track(
      await tls.server(
        async (ch, addr, clientPort) => {
          seen.resolve({ addr, port: clientPort, peer: ch.configure('peername'), proxy: ch.proxy?.source });
          ch.configure({ buffering: 'line' });
          const line = await ch.gets();
          await ch.puts(`got:${line}`);
          await ch.close();
        },
        0,
        { myaddr: '127.0.0.1', reverseLookup: false, proxyProtocol: { from: ['127.0.0.1'] }, certfile: certs.server.cert, keyfile: certs.server.key },
      ),
    );
    const port = srv.port;
    const raw = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject));
    raw.write('PROXY TCP4 192.0.2.7 198.51.100.1 40001 443\r\n');
    const client = nodeTls.connect({ socket: raw, servername: 'localhost', ca: certs.read(certs.ca.cert) });
    try {
      await within(new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject)), 5000, 'handshake');
      client.write('hello\n');
      const answer = await within(new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString()))), 5000, 'answer');
      // Tcl's socket default: lines go out with CRLF.
      expect(answer).toBe('got:hello\r\n');
      const s = await seen.promise;
      expect([s.addr, s.port]).toEqual(['192.0.2.7', 40001]);
      expect(s.peer).toEqual(['192.0.2.7', '192.0.2.7', 40001]);
      expect(s.proxy).toEqual({ address: '192.0.2.7', port: 40001 });
    } finally {
      client.destroy();
      raw.destroy();
    }
  });

  it('each happy-eyeballs attempt is a TLS client of its own: a refused ::1 falls back to 127.0.0.1, one TLSSocket that reads straight to the channel', async () => {
    const { port } = await echoServer({ myaddr: '127.0.0.1' });
    const ch = track(await tls.socket('dual.test', port, { cafile: certs.ca.cert, useHistory: false }));
    expect(ch.attempts.map((a) => [a.address, a.outcome])).toEqual([
      ['::1', 'failed'],
      ['127.0.0.1', 'connected'],
    ]);
    expect(ch.socket).toBeInstanceOf(nodeTls.TLSSocket);
    // tls.connect's own TCP handle: no net.Socket under the TLS socket.
    expect((ch.socket as unknown as { _parent: unknown })._parent).toBeNull();
    // Its decrypted bytes go straight to the channel (Channel.onread): no 'data' event.
    let dataEvents = 0;
    ch.socket?.on('data', () => (dataEvents += 1));
    expect(await echoOnce(ch, 'fallback')).toBe('echo:fallback');
    expect(tls.status(ch)?.subject).toBe('CN=localhost');
    // The async form goes the same way.
    const late = track(tls.socket('dual.test', port, { cafile: certs.ca.cert, useHistory: false, async: true }));
    await writableOnce(late, 'the async TLS connect');
    expect(late.configure('error')).toBe('');
    expect(late.attempts.map((a) => a.outcome)).toEqual(['failed', 'connected']);
    late.socket?.on('data', () => (dataEvents += 1));
    expect(await echoOnce(late, 'async fallback')).toBe('echo:async fallback');
    expect(dataEvents).toBe(0);
  });

  it('nodelay and keepalive hold from the handshake: set on the attempt before it connects', async () => {
    const { port } = await echoServer({ myaddr: '127.0.0.1' });
    // Which socket calls setNoDelay/setKeepAlive, and when; Node's own methods still run.
    const calls: Array<{ what: string; socket: net.Socket; connecting: boolean; secure: boolean }> = [];
    const seen = (what: string, s: net.Socket): void => {
      calls.push({ what, socket: s, connecting: s.connecting, secure: (s as unknown as { _secureEstablished?: boolean })._secureEstablished === true });
    };
    const realNoDelay = net.Socket.prototype.setNoDelay;
    const realKeepAlive = net.Socket.prototype.setKeepAlive;
    const spyNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay').mockImplementation(function (this: net.Socket, enable?: boolean) {
      seen('nodelay', this);
      return realNoDelay.call(this, enable);
    });
    const spyKeepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive').mockImplementation(function (this: net.Socket, enable?: boolean, delay?: number) {
      seen('keepalive', this);
      return realKeepAlive.call(this, enable, delay);
    });
    try {
      const ch = track(await tls.socket('127.0.0.1', port, { cafile: certs.ca.cert, servername: 'localhost', nodelay: true, keepalive: true }));
      expect(ch.configure('nodelay')).toBe(true);
      expect(ch.configure('keepalive')).toBe(true);
      expect(await echoOnce(ch, 'tcp options')).toBe('echo:tcp options');
      // First set while the attempt was still connecting, before any handshake byte (the
      // channel's own call afterwards finds them set: Node makes no system call for it).
      const first = (what: string) => calls.find((c) => c.socket === ch.socket && c.what === what);
      expect(first('nodelay')).toMatchObject({ connecting: true, secure: false });
      expect(first('keepalive')).toMatchObject({ connecting: true, secure: false });
    } finally {
      spyNoDelay.mockRestore();
      spyKeepAlive.mockRestore();
    }
  });

  it('is secure by default: an unknown CA, a self-signed, an expired, a wrong-host certificate all fail with the reason and the host', async () => {
    const cases: [Partial<TlsServerOptions>, object, string][] = [
      [{}, {}, 'unable to verify the first certificate'],
      [{}, { cafile: certs.otherCa.cert }, 'unable to verify the first certificate'],
      [{ certfile: certs.selfSigned.cert, keyfile: certs.selfSigned.key }, { cafile: certs.ca.cert }, 'self-signed certificate'],
      [{ certfile: certs.expired.cert, keyfile: certs.expired.key }, { cafile: certs.ca.cert }, 'certificate has expired'],
      [{ certfile: certs.wrongHost.cert, keyfile: certs.wrongHost.key }, { cafile: certs.ca.cert }, 'hostname mismatch'],
    ];
    for (const [serverOptions, clientOptions, reason] of cases) {
      const { port, srv } = await echoServer(serverOptions);
      const err = await rejection(tls.socket('localhost', port, clientOptions));
      expect(err.message).toBe(`couldn't open socket: certificate verify failed: ${reason} (host "localhost")`);
      await srv.close();
    }
    // An address is checked as an address.
    const { port } = await echoServer({ certfile: certs.wrongHost.cert, keyfile: certs.wrongHost.key });
    const err = await rejection(tls.socket('127.0.0.1', port, { cafile: certs.ca.cert }));
    expect(err.message).toBe('couldn\'t open socket: certificate verify failed: IP address mismatch (host "127.0.0.1")');
  });

  it('require: false is TclTLS 1.7 (accepts anything); verify may accept or reject each certificate', async () => {
    const { port } = await echoServer({ certfile: certs.selfSigned.cert, keyfile: certs.selfSigned.key });
    const loose = track(await tls.socket('localhost', port, { require: false }));
    expect(await echoOnce(loose, 'loose')).toBe('echo:loose');
    const infos: VerifyInfo[] = [];
    const accepting = track(
      await tls.socket('localhost', port, {
        verify: (info) => {
          infos.push(info);
          return true;
        },
      }),
    );
    expect(await echoOnce(accepting, 'ok')).toBe('echo:ok');
    expect(infos.map((i) => [i.depth, i.ok, i.error, i.certificate.subject])).toEqual([[0, false, 'self-signed certificate', 'CN=localhost']]);
    const good = await echoServer();
    const err = await rejection(tls.socket('localhost', good.port, { cafile: certs.ca.cert, verify: (info) => info.depth !== 0 && undefined }));
    expect(err.message).toBe('couldn\'t open socket: certificate verify failed: rejected by the verify callback (host "localhost")');
  });

  it('a server hands over only verified connections; plaintext and stalled clients go to onError with the address; it keeps accepting', async () => {
    const { port, errors, accepted } = await echoServer({ handshakeTimeout: 300 });
    // A plaintext client: dropped.
    const plain = track(await socket('127.0.0.1', port));
    await plain.puts('GET / HTTP/1.0\n');
    await plain.flush();
    expect(await plain.read()).toBe('');
    expect(plain.eof()).toBe(true);
    // A client that never starts its handshake: timed out.
    const stalled = cleanup.add(net.connect(port, '127.0.0.1'));
    stalled.on('error', () => undefined);
    await new Promise((r) => stalled.once('connect', r));
    await until(() => errors.length >= 2, 'two onError calls');
    const texts = errors.map((e) => (e as Error).message).sort();
    expect(texts[0]).toMatch(/^client 127\.0\.0\.1 port \d+: TLS handshake failed: http request$/);
    expect(texts[1]).toMatch(/^client 127\.0\.0\.1 port \d+: TLS handshake timed out after 300 ms$/);
    expect(errors.every((e) => e instanceof SockchanError)).toBe(true);
    expect(accepted).toEqual([]);
    // Still accepting.
    const ch = track(await tls.socket('localhost', port, { cafile: certs.ca.cert }));
    expect(await echoOnce(ch, 'after')).toBe('echo:after');
    expect(accepted.length).toBe(1);
  });

  it('a client that gets no handshake times out (handshakeTimeout) with a clear error, nothing left open', async () => {
    const silent = cleanup.add(net.createServer((s) => cleanup.add(s)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const err = await rejection(tls.socket('127.0.0.1', port, { cafile: certs.ca.cert, handshakeTimeout: 200 }));
    expect(err.message).toBe('couldn\'t open socket: TLS handshake timed out after 200 ms (host "127.0.0.1")');
    expect(err.code).toBe('ERR_SOCKCHAN_TIMEOUT');
  });

  it('client certificates: required, missing, wrong, right', async () => {
    const { port, errors, accepted } = await echoServer({ cafile: certs.ca.cert, require: true });
    const subjects: (string | undefined)[] = [];
    const srv2 = track(
      await tls.server(
        async (ch) => {
          subjects.push(tls.status(ch)?.subject);
          await ch.close();
        },
        0,
        { certfile: certs.server.cert, keyfile: certs.server.key, cafile: certs.ca.cert, require: true, onError: (e) => errors.push(e) },
      ),
    );
    const port2 = (srv2.configure('sockname') as [string, string, number][])[0]?.[2] as number;
    // No certificate: the connection never reaches the callback.
    const none = track(await tls.socket('localhost', port, { cafile: certs.ca.cert }));
    await none.puts('x');
    await none.flush().catch(() => undefined);
    expect(await none.read().catch(() => '')).toBe('');
    // A self-signed client certificate.
    const wrong = track(await tls.socket('localhost', port, { cafile: certs.ca.cert, certfile: certs.selfSigned.cert, keyfile: certs.selfSigned.key }));
    expect(await wrong.read().catch(() => '')).toBe('');
    await until(() => errors.length >= 2, 'two refused clients');
    const texts = errors.map((e) => (e as Error).message);
    expect(texts).toContainEqual(expect.stringMatching(/^client (::1|127\.0\.0\.1) port \d+: certificate verify failed: peer did not return a certificate$/));
    expect(texts).toContainEqual(expect.stringMatching(/^client (::1|127\.0\.0\.1) port \d+: certificate verify failed: self-signed certificate$/));
    expect(accepted).toEqual([]);
    // The right one, with its password-protected twin on the server.
    const right = track(await tls.socket('localhost', port2, { cafile: certs.ca.cert, certfile: certs.client.cert, keyfile: certs.client.key }));
    expect(await right.read()).toBe('');
    expect(subjects).toEqual(['CN=client']);
  });

  it('async: connecting stays true until the handshake is done; reads meanwhile are blocked, never EOF', async () => {
    const { port } = await echoServer();
    const ch = track(tls.socket('localhost', port, { async: true, cafile: certs.ca.cert }));
    ch.configure({ blocking: false, buffering: 'line' });
    expect(ch.configure('connecting')).toBe(true);
    expect(await ch.gets()).toBe(null);
    expect(ch.blocked()).toBe(true);
    expect(ch.eof()).toBe(false);
    expect(await tls.handshake(ch)).toBe(false);
    expect(tls.status(ch)).toBeNull();
    await ch.puts('queued');
    await writableOnce(ch, 'the TLS connect');
    expect(ch.configure('connecting')).toBe(false);
    expect(ch.configure('error')).toBe('');
    expect(await tls.handshake(ch)).toBe(true);
    const line = deferred<string>();
    ch.onReadable(async () => {
      const l = await ch.gets();
      if (l !== null) line.resolve(l);
    });
    expect(await within(line.promise, 5000, 'the echo')).toBe('echo:queued');
  });

  it('async: a failed verification shows in error after the writable event', async () => {
    const { port } = await echoServer({ certfile: certs.selfSigned.cert, keyfile: certs.selfSigned.key });
    const ch = track(tls.socket('localhost', port, { async: true, cafile: certs.ca.cert }));
    await writableOnce(ch, 'the failed TLS connect');
    expect(ch.configure('error')).toBe('certificate verify failed: self-signed certificate (host "localhost")');
    await expect(tls.handshake(ch)).rejects.toThrow('certificate verify failed: self-signed certificate');
    await expect(ch.gets()).rejects.toThrow(/socket is not connected/);
  });

  it('ALPN, SNI with several certificates, and a certificate reload without restarting', async () => {
    const { srv, port } = await echoServer({ alpn: ['h2', 'http/1.1'], sni: { 'sni.test': { certfile: certs.sni.cert, keyfile: certs.sni.key } } });
    const a = track(await tls.socket('127.0.0.1', port, { cafile: certs.ca.cert, alpn: ['http/1.1'] }));
    expect(tls.status(a)?.alpn).toBe('http/1.1');
    const b = track(await tls.socket('127.0.0.1', port, { cafile: certs.ca.cert, servername: 'sni.test' }));
    expect(tls.status(b)?.subject).toBe('CN=sni.test');
    expect(await echoOnce(b, 'sni')).toBe('echo:sni');
    tls.reload(srv, { certfile: certs.wrongHost.cert, keyfile: certs.wrongHost.key });
    const err = await rejection(tls.socket('localhost', port, { cafile: certs.ca.cert }));
    expect(err.message).toMatch(/hostname mismatch \(host "localhost"\)$/);
    tls.reload(srv, { certfile: certs.server.cert, keyfile: certs.encryptedKey, password: certs.password });
    const c = track(await tls.socket('localhost', port, { cafile: certs.ca.cert }));
    expect(await echoOnce(c, 'reloaded')).toBe('echo:reloaded');
    // The connection made before the reload goes on.
    expect(await echoOnce(a, 'still')).toBe('echo:still');
  });

  it('half-close is close_notify: the peer reads EOF and can still answer', async () => {
    const got = deferred<string[]>();
    const srv = track(
      await tls.server(
        async (ch) => {
          ch.configure({ buffering: 'line' });
          const lines: string[] = [];
          for await (const l of ch) lines.push(l);
          await ch.puts(`got ${lines.length}`);
          await ch.close();
          got.resolve(lines);
        },
        0,
        { certfile: certs.server.cert, keyfile: certs.server.key },
      ),
    );
    const port = (srv.configure('sockname') as [string, string, number][])[0]?.[2] as number;
    const ch = track(await tls.socket('localhost', port, { cafile: certs.ca.cert }));
    await ch.puts('a');
    await ch.puts('b');
    await ch.close('write');
    expect(await within(got.promise, 5000, 'the server lines')).toEqual(['a', 'b']);
    expect(await ch.gets()).toBe('got 2');
    expect(await ch.gets()).toBe(null);
    expect(ch.eof()).toBe(true);
  });

  it('argument errors: Tcl-worded, synchronous for async, nothing opened', async () => {
    await expect(tls.socket('localhost', 1, { cafile: '/nonexistent/ca.pem' })).rejects.toThrow('couldn\'t open "/nonexistent/ca.pem": no such file or directory');
    expect(() => tls.socket('localhost', 1, { async: true, certfile: '/nonexistent/c.pem' })).toThrow('couldn\'t open "/nonexistent/c.pem": no such file or directory');
    await expect(tls.socket('localhost', 1, { cafle: 'x' } as object)).rejects.toThrow(/^bad option "cafle": must be alpn, async, ca, cafile, /);
    await expect(tls.socket('localhost', 1, { sni: {} } as object)).rejects.toThrow(/^bad option "sni": must be /);
    await expect(tls.socket('localhost', 1, { require: 'yes' } as object)).rejects.toThrow('bad value for require: expected true or false but got "yes"');
    await expect(tls.socket('localhost', 1, { alpn: [] })).rejects.toThrow('bad value for alpn: expected a non-empty list of protocol names but got []');
    await expect(tls.socket('localhost', 1, { tls1_2: false, tls1_3: false })).rejects.toThrow('no protocol allowed');
    await expect(tls.server(() => undefined, 0, {})).rejects.toThrow('a server needs a certificate');
    await expect(tls.server(() => undefined, 0, { certfile: certs.server.cert, keyfile: certs.encryptedKey, password: 'wrong' })).rejects.toThrow(
      `unable to set private key file "${certs.encryptedKey}": bad decrypt`,
    );
    await expect(tls.server(() => undefined, 0, { certfile: certs.server.cert, keyfile: certs.server.key, servername: 'x' } as TlsServerOptions)).rejects.toThrow(
      /^bad option "servername"/,
    );
  });
});

describe('tls.import (STARTTLS)', () => {
  /** A plain server that answers `STARTTLS` with `220 go ahead` and switches; then echoes. */
  async function starttlsServer(reply = true): Promise<{ port: number; failures: unknown[]; lines: string[] }> {
    const failures: unknown[] = [];
    const lines: string[] = [];
    const srv = track(
      await socket.server(async (ch) => {
        ch.configure({ buffering: 'line', translation: 'crlf' });
        const cmd = await ch.gets();
        lines.push(String(cmd));
        if (cmd !== 'STARTTLS') return ch.close();
        if (reply) await ch.puts('220 go ahead');
        else await eventLoopTurns(20);
        try {
          await tls.import(ch, { server: true, certfile: certs.server.cert, keyfile: certs.server.key });
        } catch (err) {
          failures.push(err);
          // The channel reads the failure as TclTLS does, never as plaintext or a silent EOF.
          failures.push(await ch.gets().catch((e: unknown) => e));
          return ch.close().catch((e: unknown) => failures.push(e));
        }
        for await (const l of ch) {
          lines.push(l);
          await ch.puts(`secure:${l}`);
        }
        return ch.close();
      }, 0),
    );
    const port = (srv.configure('sockname') as [string, string, number][])[0]?.[2] as number;
    return { port, failures, lines };
  }

  it('an SMTP-like exchange: plain command, reply, then both sides go on over TLS on the same channel', async () => {
    const { port, lines } = await starttlsServer();
    const ch = track(await socket('localhost', port));
    ch.configure({ buffering: 'line', translation: 'crlf' });
    await ch.puts('STARTTLS');
    expect(await ch.gets()).toBe('220 go ahead');
    await tls.import(ch, { servername: 'localhost', cafile: certs.ca.cert });
    expect(await tls.handshake(ch)).toBe(true);
    expect(tls.status(ch)?.subject).toBe('CN=localhost');
    expect(ch.configure('translation')).toEqual(['crlf', 'crlf']);
    await ch.puts('MAIL FROM:<a@b>');
    expect(await ch.gets()).toBe('secure:MAIL FROM:<a@b>');
    expect(lines).toEqual(['STARTTLS', 'MAIL FROM:<a@b>']);
  });

  it('a command pipelined after STARTTLS is never read as protected input (CVE-2011-0411): the handshake fails', async () => {
    const { port, failures, lines } = await starttlsServer();
    const raw = cleanup.add(net.connect(port, '127.0.0.1'));
    raw.on('error', () => undefined);
    await new Promise((r) => raw.once('connect', r));
    raw.write('STARTTLS\r\nINJECTED\r\n');
    const reply = await new Promise<string>((r) => raw.once('data', (d: Buffer) => r(d.toString('latin1'))));
    expect(reply).toBe('220 go ahead\r\n');
    const t = nodeTls.connect({ socket: raw, servername: 'localhost', ca: certs.read(certs.ca.cert) });
    t.on('error', () => undefined);
    cleanup.add(t);
    await until(() => failures.length === 3, 'the server import to fail');
    expect((failures[0] as Error).message).toMatch(/^handshake failed: TLS handshake failed: /);
    expect((failures[1] as Error).message).toMatch(/^error reading "sock\d+": software caused connection abort$/);
    expect((failures[2] as Error).message).toBe('software caused connection abort');
    expect(lines).toEqual(['STARTTLS']);
  });

  it('a ClientHello that arrived before import is not lost', async () => {
    const { port, lines, failures } = await starttlsServer(false);
    const raw = cleanup.add(net.connect(port, '127.0.0.1'));
    await new Promise((r) => raw.once('connect', r));
    raw.write('STARTTLS\r\n');
    // The handshake starts at once, in the same breath as the command.
    const t = cleanup.add(nodeTls.connect({ socket: raw, servername: 'localhost', ca: certs.read(certs.ca.cert) }));
    await new Promise((r, j) => {
      t.once('secureConnect', r);
      t.once('error', j);
    });
    t.write('early\r\n');
    const answer = await new Promise<string>((r) => t.once('data', (d: Buffer) => r(d.toString())));
    expect(answer).toBe('secure:early\r\n');
    expect(lines).toEqual(['STARTTLS', 'early']);
    expect(failures).toEqual([]);
    t.end();
  });

  it('nonblocking import: handshake() is false, then true; wrong servername fails in handshake()', async () => {
    const { port } = await starttlsServer();
    const ch = track(await socket('localhost', port));
    ch.configure({ buffering: 'line', translation: 'crlf' });
    await ch.puts('STARTTLS');
    expect(await ch.gets()).toBe('220 go ahead');
    ch.configure({ blocking: false });
    await tls.import(ch, { servername: 'localhost', cafile: certs.ca.cert });
    expect(await tls.handshake(ch)).toBe(false);
    expect(await ch.gets()).toBe(null);
    expect(ch.blocked()).toBe(true);
    expect(ch.eof()).toBe(false);
    let done = false;
    for (let i = 0; i < 5000 && !done; i++) {
      done = await tls.handshake(ch);
      if (!done) await new Promise((r) => setTimeout(r, 1));
    }
    expect(done).toBe(true);
    const p2 = await starttlsServer();
    const bad = track(await socket('localhost', p2.port));
    bad.configure({ buffering: 'line', translation: 'crlf' });
    await bad.puts('STARTTLS');
    expect(await bad.gets()).toBe('220 go ahead');
    await expect(tls.import(bad, { servername: 'wrong.test', cafile: certs.ca.cert })).rejects.toThrow(
      'handshake failed: certificate verify failed: hostname mismatch (host "wrong.test")',
    );
    await expect(tls.import(ch, { servername: 'localhost' })).rejects.toThrow(/already a TLS channel/);
    await expect(tls.import(bad, {})).rejects.toThrow(/needs servername/);
    await expect(tls.handshake(await socket('localhost', p2.port).then(track))).rejects.toThrow(/not a TLS channel/);
  });
});
