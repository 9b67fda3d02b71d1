import { readFileSync } from 'node:fs';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { Channel } from '@sockchan/core';
import { CleanupList, makeTestCertificates } from '@sockchan/test-support';
import type { TestCertificates } from '@sockchan/test-support';
import { TLSSocket } from 'node:tls';
import { TLS_OPTION_NAMES, checkTlsOptions, cipherBits, connectClient, handshake, importTls, isTlsChannel, startServer, status, verifyErrorText } from '../src/index.js';
import type { TlsSession } from '../src/index.js';

/** The package on its own: option checking, and `import` on core channels over loopback sockets. */

let certs: TestCertificates;
const cleanup = new CleanupList();
beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterAll(() => certs.dispose());
afterEach(() => cleanup.closeAll());

/** A connected pair of core channels on 127.0.0.1 (closed after the test). */
async function channelPair(): Promise<[Channel, Channel]> {
  const server = cleanup.add(net.createServer());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const s = await accepted;
  const a = new Channel(client, { translation: 'lf', buffering: 'line' });
  const b = new Channel(s, { translation: 'lf', buffering: 'line' });
  cleanup.add({ close: () => Promise.all([a.close().catch(() => undefined), b.close().catch(() => undefined)]) });
  return [a, b];
}

describe('checkTlsOptions', () => {
  it('applies the secure defaults', () => {
    const c = checkTlsOptions({}, 'client');
    expect([c.require, c.request, c.handshakeTimeout, c.servername, c.alpn]).toEqual([true, true, 10_000, undefined, undefined]);
    const s = checkTlsOptions({ certfile: certs.server.cert, keyfile: certs.server.key }, 'server');
    expect([s.require, s.request]).toEqual([false, false]);
    expect(checkTlsOptions({ certfile: certs.server.cert, keyfile: certs.server.key, request: true }, 'server').request).toBe(true);
    expect(checkTlsOptions({ require: false }, 'client').require).toBe(false);
  });

  it('shares a client context between checks of the same trust settings, never across different ones', () => {
    const caPem = readFileSync(certs.ca.cert);
    const options = { ca: caPem };
    const first = checkTlsOptions(options, 'client').context;
    // The same content, in the same or another buffer, gives the context already made.
    expect(checkTlsOptions(options, 'client').context).toBe(first);
    expect(checkTlsOptions({ ca: Buffer.from(caPem) }, 'client').context).toBe(first);
    // The caller's buffer changed in place (same length, still a PEM): its bytes are compared, not its identity.
    const mutable = Buffer.from(caPem);
    expect(checkTlsOptions({ ca: mutable }, 'client').context).toBe(first);
    mutable.fill(0x41, 80, 100);
    expect(checkTlsOptions({ ca: mutable }, 'client').context).not.toBe(first);
    // Other CAs, other bounds, or no CA (the system store) get their own.
    expect(checkTlsOptions({ ca: readFileSync(certs.server.cert) }, 'client').context).not.toBe(first);
    expect(checkTlsOptions({ ca: caPem, tls1_2: false }, 'client').context).not.toBe(first);
    expect(checkTlsOptions({}, 'client').context).not.toBe(first);
    // Cipher lists: each its own, the same one shared, TLS 1.2's apart from TLS 1.3's.
    const cipher = checkTlsOptions({ ca: caPem, cipher: 'ECDHE-RSA-AES128-GCM-SHA256' }, 'client').context;
    expect(cipher).not.toBe(first);
    expect(checkTlsOptions({ ca: caPem, cipher: 'ECDHE-RSA-AES128-GCM-SHA256' }, 'client').context).toBe(cipher);
    expect(checkTlsOptions({ ca: caPem, cipher: 'ECDHE-RSA-AES256-GCM-SHA384' }, 'client').context).not.toBe(cipher);
    expect(checkTlsOptions({ ca: caPem, ciphersuites: 'TLS_AES_128_GCM_SHA256' }, 'client').context).not.toBe(cipher);
    // A context with its own certificate and key is never shared.
    const own = { certfile: certs.server.cert, keyfile: certs.server.key };
    expect(checkTlsOptions(own, 'server').context).not.toBe(checkTlsOptions(own, 'server').context);
  });

  it('reads files with Tcl-worded errors and rejects bad values clearly', () => {
    const cases: [object, string | RegExp][] = [
      [{ cafile: '/nonexistent/x.pem' }, 'couldn\'t open "/nonexistent/x.pem": no such file or directory'],
      [{ cafile: certs.dir }, `couldn't open "${certs.dir}": illegal operation on a directory`],
      [{ foo: 1 }, /^bad option "foo": must be alpn, ca, cafile, cert, /],
      [{ alpn: 'h2' }, 'bad value for alpn: expected a non-empty list of protocol names but got "h2"'],
      [{ handshakeTimeout: -1 }, 'bad value for handshakeTimeout: expected a non-negative integer (milliseconds) but got -1'],
      [{ verify: 'yes' }, 'bad value for verify: expected a function (info) but got "yes"'],
      [{ tls1: true, tls1_1: false }, /contiguous/],
      [{ tls1_1: true, tls1_2: false }, 'the allowed protocols must be contiguous (OpenSSL has a minimum and a maximum version)'],
      [{ tls1_2: false, tls1_3: false }, 'no protocol allowed: set one of tls1, tls1_1, tls1_2, tls1_3'],
      [{ tls1_3: 'yes' }, 'bad value for tls1_3: expected true or false but got "yes"'],
      [{ keyfile: certs.server.key }, 'a key needs its certificate: set certfile or cert'],
      [{ certfile: certs.server.cert, keyfile: certs.client.key }, /^unable to set private key file ".*client\.key": /],
      [{ cert: 'not a pem', key: 'nor this' }, /^unable to set (certificate|private key): /],
      [{ ca: 42 }, 'bad value for ca: expected PEM text or bytes, or a list of them but got 42'],
    ];
    for (const [options, text] of cases) {
      let err: unknown;
      try {
        checkTlsOptions(options, 'client');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(options)).toBeInstanceOf(SockchanError);
      if (typeof text === 'string') expect((err as Error).message).toBe(text);
      else expect((err as Error).message).toMatch(text);
    }
  });

  it('never fails with anything but a SockchanError, whatever the values (fuzz)', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...TLS_OPTION_NAMES.filter((n) => !/file$/.test(n)), 'bogus'), value, { maxKeys: 4 }), fc.constantFrom('client', 'server'), (options, role) => {
        try {
          checkTlsOptions(options, role);
        } catch (err) {
          expect(err).toBeInstanceOf(SockchanError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('verify texts and cipher strengths are OpenSSL\'s', () => {
    expect(verifyErrorText('CERT_HAS_EXPIRED')).toBe('certificate has expired');
    expect(verifyErrorText('DEPTH_ZERO_SELF_SIGNED_CERT')).toBe('self-signed certificate');
    expect(verifyErrorText('SOMETHING_NEW')).toBe('something new');
    expect([cipherBits('TLS_AES_256_GCM_SHA384'), cipherBits('TLS_AES_128_GCM_SHA256'), cipherBits('TLS_CHACHA20_POLY1305_SHA256'), cipherBits('ECDHE-RSA-AES128-GCM-SHA256')]).toEqual([256, 128, 256, 128]);
  });
});

describe('importTls on core channels', () => {
  it('switches both ends of a plain channel pair; status both ways; lines go on', async () => {
    const [client, server] = await channelPair();
    await client.puts('STARTTLS');
    expect(await server.gets()).toBe('STARTTLS');
    await server.puts('OK');
    expect(await client.gets()).toBe('OK');
    expect(isTlsChannel(client)).toBe(false);
    const both = Promise.all([
      importTls(server, { server: true, certfile: certs.server.cert, keyfile: certs.server.key, cafile: certs.ca.cert, require: true }),
      importTls(client, { servername: 'localhost', cafile: certs.ca.cert, certfile: certs.client.cert, keyfile: certs.client.key }),
    ]);
    await both;
    expect([await handshake(client), await handshake(server)]).toEqual([true, true]);
    expect(status(server)?.subject).toBe('CN=client');
    expect(status(server, { local: true })?.subject).toBe('CN=localhost');
    expect(status(client)?.subject).toBe('CN=localhost');
    await client.puts('secret');
    expect(await server.gets()).toBe('secret');
    await server.puts('answer');
    expect(await client.gets()).toBe('answer');
    await client.close();
    expect(await server.gets()).toBe(null);
    expect(server.eof()).toBe(true);
  });

  it('a server that requires a client certificate refuses a client without one', async () => {
    const [client, server] = await channelPair();
    const serverSide = importTls(server, { server: true, certfile: certs.server.cert, keyfile: certs.server.key, cafile: certs.ca.cert, require: true });
    const clientSide = importTls(client, { servername: 'localhost', cafile: certs.ca.cert }).catch((e: unknown) => e);
    await expect(serverSide).rejects.toThrow('handshake failed: certificate verify failed: peer did not return a certificate');
    await clientSide;
    expect(() => status(new Channel())).toThrow(/not a TLS channel/);
  });
});

describe('connectClient', () => {
  /** A TLS server on 127.0.0.1 made of startServer sessions; resolves each server-side session. */
  async function tlsServer(): Promise<{ port: number; sessions: TlsSession[] }> {
    const checked = checkTlsOptions({ certfile: certs.server.cert, keyfile: certs.server.key }, 'server');
    const sessions: TlsSession[] = [];
    const server = cleanup.add(
      net.createServer((socket) => {
        const session = startServer(socket, checked, '');
        session.handshake.catch(() => undefined);
        sessions.push(session);
        cleanup.add({ close: () => session.socket.destroy() });
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as net.AddressInfo).port, sessions };
  }

  /** A half-open client of `port` that verifies `localhost` against the test CA, destroyed after the test. */
  function verifiedClient(port: number, extra: Pick<net.TcpNetConnectOpts, 'onread'> = {}): TlsSession {
    const checked = checkTlsOptions({ cafile: certs.ca.cert }, 'client');
    const session = connectClient({ host: '127.0.0.1', port, allowHalfOpen: true, ...extra }, checked, 'localhost', "couldn't open socket: ");
    cleanup.add({ close: () => session.socket.destroy() });
    return session;
  }

  /** A verified client (Channel.onread) and a binary channel on the server's end, both handshakes done. */
  async function binaryPair(): Promise<{ session: TlsSession; peer: Channel }> {
    const { port, sessions } = await tlsServer();
    const session = verifiedClient(port, { onread: Channel.onread });
    await session.handshake;
    await sessions[0]!.handshake;
    return { session, peer: new Channel(sessions[0]!.socket, { translation: 'binary' }) };
  }

  it("is one TLSSocket of tls.connect to the address, sending the host name as SNI and verifying it", async () => {
    const { port, sessions } = await tlsServer();
    const session = verifiedClient(port);
    expect(session.socket).toBeInstanceOf(TLSSocket);
    // Its own TCP handle, no net.Socket under it.
    expect((session.socket as unknown as { _parent: unknown })._parent).toBeNull();
    await session.handshake;
    expect(session.done).toBe(true);
    expect(session.socket.authorized).toBe(true);
    expect(session.socket.remoteAddress).toBe('127.0.0.1');
    expect(session.socket.allowHalfOpen).toBe(true);
    expect(sessions[0]?.socket.servername).toBe('localhost');
    const ch = new Channel(session.socket, { translation: 'lf' });
    const peer = new Channel(sessions[0]!.socket, { translation: 'lf' });
    await ch.puts('over connectClient');
    await ch.flush();
    expect(await peer.gets()).toBe('over connectClient');
    await ch.close();
    await peer.close();
  });

  it('with onread: Channel.onread the decrypted bytes reach the channel without a data event, those sent before it exists too', async () => {
    const { port, sessions } = await tlsServer();
    const session = verifiedClient(port, { onread: Channel.onread });
    let dataEvents = 0;
    session.socket.on('data', () => (dataEvents += 1));
    await session.handshake;
    // The server speaks first: a greeting line and a body past the 256 KiB kept before a
    // channel takes the socket (the socket stops reading there, and resumes for the channel).
    // All of it is written (the client's socket reads meanwhile) before the channel exists.
    const body = Buffer.alloc(300 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 10)) & 0xff;
    await sessions[0]!.handshake;
    const serverSide = sessions[0]!.socket;
    await new Promise<void>((resolve, reject) => serverSide.write(Buffer.concat([Buffer.from('220 ready\r\n'), body]), (e) => (e ? reject(e) : resolve())));
    const ch = new Channel(session.socket, { translation: 'auto' });
    expect(await ch.gets()).toBe('220 ready');
    ch.configure({ translation: 'binary' });
    const got = await ch.readBytes(body.length);
    expect(Buffer.from(got).equals(body)).toBe(true);
    expect(dataEvents).toBe(0);
    await ch.close();
  });

  it('64 KiB puts behind a partial buffer arrive as they were at the call, each in one TLS write', async () => {
    const { session, peer } = await binaryPair();
    const ch = new Channel(session.socket, { translation: 'binary', buffersize: 4096 });
    let writes = 0;
    const write = session.socket.write.bind(session.socket);
    session.socket.write = ((...args: Parameters<typeof write>) => {
      writes += 1;
      return write(...args);
    }) as typeof session.socket.write;
    const expected: Buffer[] = [];
    await ch.puts('HDR 7\n', { nonewline: true });
    expected.push(Buffer.from('HDR 7\n'));
    const piece = Buffer.alloc(65536);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < piece.length; j++) piece[j] = (i * 13 + j * 3) & 0xff;
      await ch.puts(piece, { nonewline: true });
      expected.push(Buffer.from(piece));
      piece.fill(i); // after the call: must not change what is sent
    }
    // One write per puts (the header's buffer joined with the piece), none for the header alone.
    expect(writes).toBe(16);
    await ch.close('write');
    const want = Buffer.concat(expected);
    const got = Buffer.from(await peer.readBytes(want.length + 1));
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
    expect(peer.eof()).toBe(true);
    await peer.close();
    await ch.close();
  });

  it('a blocking 64 KiB puts the engine takes at once does not wait for its callback; the next one waits: one write in progress at most', async () => {
    const { session, peer } = await binaryPair();
    const ch = new Channel(session.socket, { translation: 'binary' });
    const size = 65536;
    const count = 64;
    const got = peer.readBytes(size * count + 1);
    const piece = Buffer.alloc(size);
    const expected: Buffer[] = [];
    const pendingAfter: number[] = [];
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < size; j++) piece[j] = (i * 29 + j * 5) & 0xff;
      await ch.puts(piece, { nonewline: true });
      pendingAfter.push(ch.pending('output'));
      expected.push(Buffer.from(piece));
      piece.fill(0xee); // after the call: must not change what is sent
    }
    // An idle socket's engine took the piece during the write: resolved with that write in
    // progress (its callback comes a turn later). The next piece finds it in progress, is
    // copied and waits for the drain, so both are done when it resolves.
    expect(pendingAfter).toEqual(Array.from({ length: count }, (_, i) => (i % 2 === 0 ? size : 0)));
    await ch.close('write');
    const bytes = Buffer.from(await got);
    expect(bytes.equals(Buffer.concat(expected))).toBe(true);
    expect(peer.eof()).toBe(true);
    await peer.close();
    await ch.close();
  });

  it('the protocol bounds are those the four booleans allow', async () => {
    const { port } = await tlsServer();
    const cases: [object, string][] = [
      [{}, 'TLSv1.3'],
      [{ tls1_3: false }, 'TLSv1.2'],
      [{ tls1_2: false }, 'TLSv1.3'],
    ];
    for (const [bounds, protocol] of cases) {
      const checked = checkTlsOptions({ cafile: certs.ca.cert, ...bounds }, 'client');
      const session = connectClient({ host: '127.0.0.1', port }, checked, 'localhost', "couldn't open socket: ");
      cleanup.add({ close: () => session.socket.destroy() });
      await session.handshake;
      expect(session.socket.getProtocol(), JSON.stringify(bounds)).toBe(protocol);
      session.socket.destroy();
    }
  });

  it('a name the certificate does not have is refused, with the reason and the host', async () => {
    const { port } = await tlsServer();
    const checked = checkTlsOptions({ cafile: certs.ca.cert }, 'client');
    const session = connectClient({ host: '127.0.0.1', port }, checked, 'wrong.test', "couldn't open socket: ");
    await expect(session.handshake).rejects.toThrow(/^couldn't open socket: .*wrong\.test/);
    expect(session.socket.destroyed).toBe(true);
  });

  it('a refused TCP connect is a connect error in Tcl words, not a handshake failure', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const session = connectClient({ host: '127.0.0.1', port }, checkTlsOptions({}, 'client'), 'localhost', "couldn't open socket: ");
    const err = await session.handshake.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SockchanError);
    expect((err as SockchanError).message).toBe("couldn't open socket: connection refused");
    expect((err as SockchanError).errorCode).toEqual(['POSIX', 'ECONNREFUSED', 'connection refused']);
  });

  it('a server that never answers the ClientHello times out after the handshake time limit', async () => {
    const silent = cleanup.add(net.createServer((socket) => cleanup.add({ close: () => socket.destroy() })));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const checked = checkTlsOptions({ handshakeTimeout: 200 }, 'client');
    const session = connectClient({ host: '127.0.0.1', port }, checked, 'localhost', "couldn't open socket: ");
    await expect(session.handshake).rejects.toThrow('couldn\'t open socket: TLS handshake timed out after 200 ms (host "localhost")');
    expect(session.socket.destroyed).toBe(true);
  });
});

describe('puts(Uint8Array) over TLS', () => {
  // Over TLS the channel hands an idle stream the caller's array itself (Node's TLS handle
  // encrypts or copies it during the write): what was sent must still be the bytes at the call.
  for (const buffering of ['none', 'full'] as const) {
    for (const size of [10, 5000, 8 * 1024 * 1024]) {
      it(`buffering ${buffering}, ${size} bytes: the peer gets the bytes as they were at the call`, async () => {
        const [client, server] = await channelPair();
        await Promise.all([
          importTls(server, { server: true, certfile: certs.server.cert, keyfile: certs.server.key }),
          importTls(client, { servername: 'localhost', cafile: certs.ca.cert }),
        ]);
        client.configure({ translation: 'binary', buffering });
        server.configure({ translation: 'binary' });
        const pattern = (seed: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff);
        const a = pattern(1);
        const b = pattern(2);
        client.configure({ blocking: false });
        await client.puts(a, { nonewline: true });
        a.fill(0xee);
        client.configure({ blocking: true });
        const pending = client.puts(b, { nonewline: true });
        b.fill(0xdd);
        const got = server.readBytes(2 * size);
        await pending;
        await client.flush();
        const bytes = Buffer.from(await got);
        expect(bytes.length).toBe(2 * size);
        expect(Buffer.compare(bytes.subarray(0, size), Buffer.from(pattern(1)))).toBe(0);
        expect(Buffer.compare(bytes.subarray(size), Buffer.from(pattern(2)))).toBe(0);
      }, 30_000);
    }
  }
});
