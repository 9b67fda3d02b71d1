import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Channel, OutputBuffer } from '../src/index.js';
import { turns } from './helpers/turns.js';
import type { ChannelSettings, StreamEncoder } from '../src/index.js';

/**
 * The write paths taken for speed: text of a one-byte encoding handed out as a `latin1` string
 * (OutputBuffer.takeLatin1Text) and written to sockets as a string or through a reused scratch
 * buffer. They must send exactly the bytes the Buffer paths send.
 */

const noEncoder = (): StreamEncoder => {
  throw new Error('the fast path should not need the encoder');
};

describe('OutputBuffer latin1 text', () => {
  it('takeFullLatin1Text gives the same bytes as takeFull, whole buffers only', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e\n]/g, 'x')), fc.boolean()), { maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (writes, size) => {
          const a = new OutputBuffer('iso8859-1', noEncoder, 'crlf', 'full', size);
          const b = new OutputBuffer('iso8859-1', noEncoder, 'crlf', 'full', size);
          const viaText: string[] = [];
          const viaBytes: Buffer[] = [];
          for (const [data, nl] of writes) {
            a.write(data, nl);
            b.write(data, nl);
            const t = a.takeFullLatin1Text();
            if (t !== undefined) {
              expect(t.length % size).toBe(0);
              viaText.push(t);
            }
            const f = b.takeFull();
            if (f !== undefined) viaBytes.push(f);
            expect(a.bytes).toBe(b.bytes);
          }
          viaText.push(a.takeLatin1Text() ?? '');
          viaBytes.push(b.takeAll() ?? Buffer.alloc(0));
          expect(Buffer.from(viaText.join(''), 'latin1').equals(Buffer.concat(viaBytes))).toBe(true);
        },
      ),
    );
  });

  it('takeFullParts gives the bytes takeFull gives, as the pieces they are buffered in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 90 }), fc.string({ maxLength: 30 }).map((t) => t.replace(/[^\x20-\x7e\n]/g, 'x'))), { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        (writes, size) => {
          const a = new OutputBuffer('binary', noEncoder, 'lf', 'full', size);
          const b = new OutputBuffer('binary', noEncoder, 'lf', 'full', size);
          for (const data of writes) {
            a.write(data, false);
            b.write(data, false);
            a.own();
            b.own();
            const parts = a.takeFullParts();
            const whole = b.takeFull();
            if (whole === undefined) {
              expect(parts).toBeUndefined();
              continue;
            }
            expect(parts).toBeDefined();
            expect(parts!.length).toBeGreaterThan(0);
            expect(Buffer.concat(parts!).equals(whole)).toBe(true);
            expect(whole.length % size).toBe(0);
            expect(a.bytes).toBe(b.bytes);
          }
          expect(a.takeAll()?.toString('hex')).toBe(b.takeAll()?.toString('hex'));
        },
      ),
    );
  });

  it('is undefined when bytes are buffered or the encoding is not one byte per character', () => {
    const bin = new OutputBuffer('binary', noEncoder, 'lf', 'full', 4096);
    bin.write(Uint8Array.from([1, 2]), false);
    bin.write('ab', false);
    expect(bin.takeLatin1Text()).toBeUndefined();
    expect(bin.takeAll()?.toString('hex')).toBe('01026162');
    const utf8 = new OutputBuffer('utf-8', noEncoder, 'lf', 'full', 4096);
    utf8.write('é', true);
    expect(utf8.takeLatin1Text()).toBeUndefined();
    expect(utf8.takeAll()?.toString('hex')).toBe('c3a90a');
  });
});

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/**
 * A loopback server that collects everything one connection sends until EOF. With `paused`, it
 * reads nothing until `resume()`: the sender's kernel buffers fill and its writes queue.
 */
async function sink(paused = false): Promise<{ port: number; received: Promise<Buffer>; resume: () => void }> {
  let deliver!: (b: Buffer) => void;
  const received = new Promise<Buffer>((resolve) => (deliver = resolve));
  let accepted: net.Socket | undefined;
  let resumeWanted = false;
  const resume = (): void => {
    resumeWanted = true;
    accepted?.resume();
  };
  const server = net.createServer((sock) => {
    accepted = sock;
    if (paused && !resumeWanted) sock.pause();
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('end', () => deliver(Buffer.concat(parts)));
    sock.on('error', () => deliver(Buffer.concat(parts)));
  });
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, received, resume };
}

async function connect(port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

/** A channel with `options` over a loopback connection to a {@link sink}, closed after the test. */
async function channelToSink(options: ChannelSettings, paused = false): Promise<Awaited<ReturnType<typeof sink>> & { sock: net.Socket; ch: Channel }> {
  const target = await sink(paused);
  const sock = await connect(target.port);
  const ch = new Channel(sock, options);
  cleanup.push(() => ch.close().catch(() => undefined));
  return { ...target, sock, ch };
}

describe('text writes to a net.Socket', () => {
  it('large and small flushes and full buffers arrive byte for byte, in order', async () => {
    const { received, ch } = await channelToSink({ translation: 'lf', encoding: 'iso8859-1', buffersize: 4096 });
    let expected = '';
    // Lines of every length class: small (socket's own copy), above 16 KiB and above 64 KiB
    // (the scratch buffer, reused from one write to the next), with Latin-1 characters.
    const sizes = [5, 20_000, 70_000, 3, 40_000, 130_000, 17_000, 1];
    for (const [i, n] of sizes.entries()) {
      const line = String.fromCharCode(0x41 + i, 0xe9).repeat(Math.ceil(n / 2)).slice(0, n);
      await ch.puts(line);
      expected += `${line}\n`;
      if (i % 2 === 1) await ch.flush();
    }
    await ch.close();
    const got = await received;
    expect(got.length).toBe(expected.length);
    expect(got.equals(Buffer.from(expected, 'latin1'))).toBe(true);
  });

  it('writes that queue behind a full socket keep their bytes (the scratch buffer is not reused)', async () => {
    // Nonblocking: flushes never wait, so once the kernel's buffers are full the writes queue in
    // the socket while later ones are prepared.
    const { received, resume, ch } = await channelToSink({ translation: 'lf', encoding: 'iso8859-1', blocking: false }, true);
    let expected = '';
    for (let i = 0; i < 48; i++) {
      const line = String.fromCharCode(0x41 + (i % 26)).repeat(200_000);
      await ch.puts(line);
      await ch.flush();
      expected += `${line}\n`;
    }
    expect(ch.pending('output')).toBeGreaterThan(0);
    resume();
    await ch.close();
    const got = await received;
    expect(got.length).toBe(expected.length);
    expect(got.equals(Buffer.from(expected, 'latin1'))).toBe(true);
  });
});

describe('whole buffers behind a partial one (full buffering, binary)', () => {
  it("a 64 KiB puts after a short header sends its bytes as they were at the call, joined in reused memory", async () => {
    const { received, sock, ch } = await channelToSink({ translation: 'binary', buffering: 'full', buffersize: 4096 });
    const written: Buffer[] = [];
    const write = vi.spyOn(sock, 'write');
    write.mockImplementation(function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
      if (Buffer.isBuffer(args[0])) written.push(args[0]);
      return net.Socket.prototype.write.apply(this, args);
    });
    const expected: Buffer[] = [];
    const header = Buffer.from('HEADER 100 bytes follow in pieces\n'.padEnd(100, '.'));
    await ch.puts(header, { nonewline: true });
    expected.push(Buffer.from(header));
    // One array, changed after every puts: what was sent must be what it held at the call.
    const piece = Buffer.alloc(65536);
    let buffered = header.length;
    for (let i = 0; i < 24; i++) {
      for (let j = 0; j < piece.length; j++) piece[j] = (i * 31 + j) & 0xff;
      await ch.puts(piece, { nonewline: true });
      expected.push(Buffer.from(piece));
      buffered = (buffered + piece.length) % 4096;
      // Tcl keeps the partial buffer: only whole buffers left.
      expect(ch.pending('output') - sock.writableLength).toBe(buffered);
      piece.fill(0xee);
    }
    write.mockRestore();
    await ch.close();
    const got = await received;
    expect(got.length).toBe(100 + 24 * 65536);
    expect(got.equals(Buffer.concat(expected))).toBe(true);
    // Every puts after the header sent the header's buffer and most of the piece as one write:
    // the same pooled memory write after write, not a fresh Buffer each time.
    const joined = written.filter((b) => b.length === 65536);
    expect(joined.length).toBe(24);
    expect(new Set(joined.map((b) => b.buffer)).size).toBeLessThanOrEqual(3);
  });
});

describe('a blocking flush to a net.Socket', () => {
  it('with nothing queued writes with no callback (Node then schedules nothing) and resolves at once', async () => {
    const { received, sock, ch } = await channelToSink({ translation: 'lf', encoding: 'iso8859-1' });
    const write = vi.spyOn(sock, 'write');
    for (const word of ['one', 'two', 'three']) {
      await ch.puts(word);
      let settled = false;
      const flushed = ch.flush().then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(true); // no turn of the event loop needed
      await flushed;
    }
    expect(write.mock.calls.map((args: unknown[]) => [args[0], args[1], typeof args[2]])).toEqual([
      ['one\n', 'latin1', 'undefined'],
      ['two\n', 'latin1', 'undefined'],
      ['three\n', 'latin1', 'undefined'],
    ]);
    write.mockRestore();
    await ch.close();
    expect((await received).toString('latin1')).toBe('one\ntwo\nthree\n');
  });

  it('whose bytes queue behind a full kernel buffer resolves only once they are written', async () => {
    // Each flush writes one buffer's worth, with nothing queued before it: until the kernel's
    // buffers are full they go through at once; the first that queues must wait for the peer.
    const { received, resume, ch } = await channelToSink({ translation: 'lf', encoding: 'iso8859-1', buffersize: 1_000_000 }, true);
    const chunk = 'y'.repeat(500_000);
    let sent = 0;
    let waiting: Promise<unknown> | undefined;
    let settled = false;
    for (let i = 0; i < 400 && waiting === undefined; i++) {
      await ch.puts(chunk, { nonewline: true });
      sent += chunk.length;
      const flushed = ch.flush().then(() => (settled = true));
      await turns(2);
      if (!settled) waiting = flushed;
      else settled = false;
    }
    expect(waiting).toBeDefined();
    await turns(20);
    expect(settled).toBe(false);
    expect(ch.pending('output')).toBeGreaterThan(0);
    resume();
    await waiting;
    expect(ch.pending('output')).toBe(0);
    await ch.puts('tail');
    await ch.close();
    const got = await received;
    expect(got.length).toBe(sent + 5);
    expect(got.subarray(got.length - 6).toString('latin1')).toBe('ytail\n');
  });
});
