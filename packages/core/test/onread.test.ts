import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../src/index.js';
import { duplexPair } from './helpers/duplex-pair.js';
import { turns } from './helpers/turns.js';

/**
 * `Channel.onread`: a socket made with Node's `onread` option hands each read straight to its
 * channel (no 'data' event). Real sockets on 127.0.0.1: the option only exists for net.Socket.
 */

const open: { close(): unknown }[] = [];
afterEach(async () => {
  // Sockets first (the server's close waits for its connections), then the servers.
  for (const h of open.splice(0).reverse()) await h.close();
});

/** A server on 127.0.0.1 whose first connection goes to `onSocket`; resolves with its port. */
async function serve(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer((s) => {
    // The peer end: a client that closes with input unread resets it, which is expected here.
    s.on('error', () => undefined);
    open.push({ close: () => s.destroy() });
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return (server.address() as net.AddressInfo).port;
}

/** Connects with `Channel.onread`. */
async function connectDirect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, onread: Channel.onread });
  open.push({ close: () => socket.destroy() });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Waits, one event loop turn at a time (at most `turns`), until `condition` holds. */
async function until(condition: () => boolean, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns && !condition(); i++) await turns(1);
  expect(condition()).toBe(true);
}

describe('Channel.onread', () => {
  it('is one shared option object: a reusable buffer and a callback', () => {
    const option = Channel.onread;
    expect(Channel.onread).toBe(option);
    expect(Buffer.isBuffer(option.buffer)).toBe(true);
    expect(typeof option.callback).toBe('function');
  });

  it('lines, a last partial line and EOF reach the channel; no data event fires', async () => {
    const port = await serve((s) => s.end('one\r\ntwo\nthree'));
    const socket = await connectDirect(port);
    let dataEvents = 0;
    const ch = new Channel(socket, { translation: 'auto', encoding: 'utf-8' });
    socket.on('data', () => (dataEvents += 1));
    expect(await ch.gets()).toBe('one');
    expect(await ch.gets()).toBe('two');
    expect(await ch.gets()).toBe('three');
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
    expect(dataEvents).toBe(0);
    await ch.close();
  });

  it('an echo both ways, byte for byte, over many reads (the shared buffer is copied out)', async () => {
    const port = await serve((s) => s.pipe(s));
    const socket = await connectDirect(port);
    const ch = new Channel(socket, { translation: 'binary' });
    const sent: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      const piece = Buffer.alloc(10_000 + i * 997, i);
      sent.push(piece);
      await ch.puts(piece, { nonewline: true });
    }
    await ch.flush();
    const all = Buffer.concat(sent);
    const got = await ch.readBytes(all.length);
    expect(Buffer.from(got).equals(all)).toBe(true);
    await ch.close();
  });

  it('bytes read before a channel takes the socket are kept for it, in order', async () => {
    const port = await serve((s) => s.write('early 1\nearly 2\n'));
    const socket = await connectDirect(port);
    await until(() => socket.bytesRead >= 16);
    const ch = new Channel(socket, { translation: 'lf' });
    expect(await ch.gets()).toBe('early 1');
    expect(await ch.gets()).toBe('early 2');
    await ch.close();
  });

  it('before a channel takes it, the socket stops reading past 256 KiB; then every byte arrives', async () => {
    const total = 2 * 1024 * 1024;
    const payload = Buffer.alloc(total);
    for (let i = 0; i < total; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;
    const port = await serve((s) => s.end(payload));
    const socket = await connectDirect(port);
    await until(() => socket.bytesRead >= 256 * 1024);
    // Stopped: a few hundred turns later it has read at most one more read (64 KiB) past the limit.
    await turns(200);
    expect(socket.bytesRead).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    const ch = new Channel(socket, { translation: 'binary' });
    const got = await ch.readBytes();
    expect(got.length).toBe(total);
    expect(Buffer.from(got).equals(payload)).toBe(true);
    expect(ch.eof()).toBe(true);
    await ch.close();
  });

  it('the read bound holds: a channel that is not read stops the socket (TCP backpressure)', async () => {
    let writer: net.Socket | undefined;
    const port = await serve((s) => {
      writer = s;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // Bounded: at most 64 MiB. Writes until the kernel pushes back, and again on each 'drain'
      // (the kernel's buffers may take a queued chunk later): once the channel stops reading,
      // a chunk stays queued here for good.
      let written = 0;
      const pump = (): void => {
        while (written < 1024) {
          written += 1;
          if (!s.write(chunk)) break;
        }
      };
      s.on('drain', pump);
      pump();
    });
    const socket = await connectDirect(port);
    const ch = new Channel(socket, { translation: 'binary', blocking: false });
    await until(() => ch.pending('input') >= 256 * 1024);
    await turns(200);
    // The bound (256 KiB) plus at most one read past it.
    expect(ch.pending('input')).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(writer?.writableLength ?? 0).toBeGreaterThan(0);
    const first = await ch.readBytes();
    expect(first.length).toBeGreaterThan(0);
    await ch.close();
  });

  it('fails loudly when not called on a socket (a broken assumption about Node)', () => {
    const { callback } = Channel.onread;
    expect(() => callback.call(undefined, 1, Buffer.alloc(1))).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKCHAN_INTERNAL', message: 'Channel.onread: Node did not call onread on its socket' }),
    );
  });
});

describe('a readable handler on a socket runs within the read', () => {
  it("on a 'data' socket: right after the data listeners, before that callback's microtasks", async () => {
    const port = await serve((s) => s.write('x\n'));
    const socket = net.connect({ host: '127.0.0.1', port });
    open.push({ close: () => socket.destroy() });
    const order: string[] = [];
    socket.prependListener('data', () => {
      order.push('data');
      queueMicrotask(() => order.push('microtask'));
    });
    const ch = new Channel(socket, { blocking: false, translation: 'lf' });
    const handled = new Promise<void>((resolve) => {
      ch.onReadable((c) => {
        const line = c.tryGets();
        if (line !== undefined) {
          order.push(`handler ${String(line)}`);
          c.onReadable(null);
          resolve();
        }
      });
    });
    await handled;
    await turns(1);
    expect(order).toEqual(['data', 'handler x', 'microtask']);
    await ch.close();
  });

  it('on a Channel.onread socket: inside the read callback', async () => {
    const port = await serve((s) => s.write('y\n'));
    const order: string[] = [];
    const { buffer, callback } = Channel.onread;
    // Channel.onread's own callback, wrapped to see where the handler runs.
    const onread = {
      buffer,
      callback(this: net.Socket, n: number, buf: Uint8Array): boolean {
        order.push('read');
        const more = callback.call(this, n, buf);
        order.push('read done');
        return more;
      },
    };
    const socket = net.connect({ host: '127.0.0.1', port, onread });
    open.push({ close: () => socket.destroy() });
    const ch = new Channel(socket, { blocking: false, translation: 'lf' });
    await new Promise<void>((resolve) => {
      ch.onReadable((c) => {
        const line = c.tryGets();
        if (line === undefined) return;
        order.push(`handler ${String(line)}`);
        c.onReadable(null);
        resolve();
      });
    });
    expect(order).toEqual(['read', 'handler y', 'read done']);
    await ch.close();
  });

  it('still level-triggered: a handler that leaves input runs again on a later turn', async () => {
    const port = await serve((s) => s.write('a\nb\nc\n'));
    const socket = await connectDirect(port);
    const ch = new Channel(socket, { blocking: false, translation: 'lf' });
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      ch.onReadable((c) => {
        // One line per run: the rest keeps the channel readable.
        const line = c.tryGets();
        if (typeof line === 'string') lines.push(line);
        if (lines.length === 3) {
          c.onReadable(null);
          resolve();
        }
      });
    });
    expect(lines).toEqual(['a', 'b', 'c']);
    await ch.close();
  });
});

describe('the in-read run of the readable handler, once per turn', () => {
  // onData(chunk, true) is what a socket read calls; several reads in one turn, each followed by
  // its callback's microtasks (as libuv's reads are).
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  // A read this long may be one of a burst (a TLS record's most; libuv reads again after 64 KiB).
  const FULL = 16 * 1024;

  it('after a full read, later reads of the same event loop turn wait for the deferred run, which sees them all', async () => {
    const [mine, peer] = duplexPair();
    const ch = new Channel(mine, { blocking: false, translation: 'binary' });
    const runs: number[] = [];
    ch.onReadable(async (c) => {
      // An async handler (a bulk sink): it settles within the microtasks after each read.
      const got = await c.readBytes();
      runs.push(got.length);
    });
    ch.onData(Buffer.alloc(FULL, 1), true);
    await settle();
    expect(runs).toEqual([FULL]);
    ch.onData(Buffer.alloc(FULL, 2), true);
    await settle();
    ch.onData(Buffer.alloc(3, 3), true);
    await settle();
    expect(runs).toEqual([FULL]);
    await turns(1);
    await settle();
    // One deferred run (nonblocking readBytes gives one chunk per call); the rest stays for the next.
    expect(runs).toEqual([FULL, FULL]);
    expect(ch.pending('input')).toBe(3);
    ch.onReadable(null);
    await ch.close();
    peer.destroy();
  });

  it('a short read (the socket emptied) runs the handler at once, and no deferred run follows when it took everything', async () => {
    const [mine, peer] = duplexPair();
    const ch = new Channel(mine, { blocking: false, translation: 'binary' });
    const runs: number[] = [];
    ch.onReadable((c) => {
      void c.readBytes().then((got) => runs.push(got.length));
    });
    ch.onData(Buffer.from('a'), true);
    await settle();
    expect(runs).toEqual([1]);
    ch.onData(Buffer.from('bb'), true);
    await settle();
    expect(runs).toEqual([1, 2]);
    await turns(2);
    await settle();
    expect(runs).toEqual([1, 2]);
    expect(ch.pending('input')).toBe(0);
    ch.onReadable(null);
    await ch.close();
    peer.destroy();
  });

  it('a short read whose handler leaves input gets the level-triggered re-run on the next turn', async () => {
    const [mine, peer] = duplexPair();
    const ch = new Channel(mine, { blocking: false, translation: 'binary' });
    const runs: string[] = [];
    ch.onReadable((c) => {
      // One byte per run: the rest keeps the channel readable.
      void c.readBytes(1).then((got) => runs.push(Buffer.from(got).toString()));
    });
    ch.onData(Buffer.from('xyz'), true);
    await settle();
    expect(runs).toEqual(['x']);
    await turns(1);
    await settle();
    expect(runs).toEqual(['x', 'y']);
    await turns(1);
    await settle();
    expect(runs).toEqual(['x', 'y', 'z']);
    ch.onReadable(null);
    await ch.close();
    peer.destroy();
  });
});
