import { readFileSync } from 'node:fs';
import net from 'node:net';
import { runTclClient, waitForTcpState } from '@sockchan/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../src/index.js';
import type { Buffering } from '../src/index.js';

/**
 * Issue 15, write side: a write that fails is reported by the very call whose bytes failed, once,
 * with the kernel's errno, as tclsh 8.6 does. Each case runs the same steps in tclsh
 * (test/fixtures/write-failures/steps.tcl) and with a core Channel on real loopback sockets, and
 * the two transcripts must be equal (channel names aside).
 */

const STEPS = readFileSync(new URL('./fixtures/write-failures/steps.tcl', import.meta.url), 'utf8');
const BACKGROUND = readFileSync(new URL('./fixtures/write-failures/background.tcl', import.meta.url), 'utf8');

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Waits for kernel TCP state through `ss` (bounded looks, see waitForTcpState). */
function waitFor(what: string, port: number, cond: (ss: string) => boolean): Promise<void> {
  return waitForTcpState(port, what, cond);
}

type Kind = 'fin' | 'rst';
type Side = 'client' | 'server';

async function tclTranscript(kind: Kind, side: Side, buffering: Buffering, blocking: boolean): Promise<string> {
  const r = await runTclClient(STEPS, [kind, side, buffering, blocking ? '1' : '0'], { timeoutMs: 20_000 });
  expect(r.stderr).toBe('');
  return r.stdout.replace(/sock[0-9a-f]+/g, 'CH').trim();
}

async function report(lines: string[], what: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
    lines.push(`${what} -> ok`);
  } catch (err) {
    const e = err as { message: string; errorCode: string[] };
    // errorCode as Tcl prints a list: a word with a space is braced.
    lines.push(`${what} -> ERROR {${e.message}} ${e.errorCode.map((w) => (w.includes(' ') ? `{${w}}` : w)).join(' ')}`);
  }
}

/**
 * `bytes`: the writes after the failure give Uint8Arrays, which may go to the kernel straight from
 * the caller's array (socket-writes.ts): the failure must read the same as with text.
 */
async function channelTranscript(kind: Kind, side: Side, buffering: Buffering, blocking: boolean, data: 'text' | 'bytes' = 'text'): Promise<string> {
  const put = (text: string): string | Uint8Array => (data === 'text' ? text : new TextEncoder().encode(text));
  let accepted!: (s: net.Socket) => void;
  const got = new Promise<net.Socket>((resolve) => (accepted = resolve));
  // The peer never reads: on the server side it is paused from the start (an RST needs unread bytes).
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: side === 'client' }, (s) => accepted(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as net.AddressInfo).port;
  const cli = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, ...(side === 'client' ? { onread: Channel.onread } : {}) });
  if (side === 'server') cli.pause();
  const acc = await got;
  cleanup.push(() => {
    cli.destroy();
    acc.destroy();
  });
  const [mine, peer] = side === 'client' ? [cli, acc] : [acc, cli];
  const ch = new Channel(mine);
  cleanup.push(() => ch.close().catch(() => undefined));
  const ended = new Promise((resolve) => mine.once('end', resolve));
  if (kind === 'rst') {
    await ch.puts('unread');
    await ch.flush();
    await waitFor("the peer's unread bytes", port, (ss) => /ESTAB\s+[1-9]/.test(ss));
  }
  peer.destroy();
  if (kind === 'fin') await ended;
  else await waitFor('the RST', port, (ss) => ss === '');
  ch.configure({ buffering, blocking });
  const lines: string[] = [];
  await report(lines, 'puts1', () => ch.puts('hello\n', { nonewline: true }));
  await report(lines, 'flush1', () => ch.flush());
  if (kind === 'fin') await waitFor('the RST', port, (ss) => ss === '');
  await report(lines, 'puts2', () => ch.puts(put('world\n'), { nonewline: true }));
  await report(lines, 'flush2', () => ch.flush());
  await report(lines, 'puts3', () => ch.puts(put('again\n'), { nonewline: true }));
  await report(lines, 'flush3', () => ch.flush());
  await report(lines, 'close', () => ch.close());
  return lines.join('\n').replace(/sock[0-9a-f]+/g, 'CH');
}

describe('a failed write, as tclsh reports it', () => {
  for (const kind of ['fin', 'rst'] as const) {
    for (const side of ['client', 'server'] as const) {
      for (const buffering of ['full', 'line', 'none'] as const) {
        for (const blocking of [true, false]) {
          it(`${kind === 'fin' ? 'peer closed (FIN), our write provokes RST' : 'peer reset with our bytes unread'}: ${side} side, buffering ${buffering}, ${blocking ? 'blocking' : 'nonblocking'}`, async () => {
            const tcl = await tclTranscript(kind, side, buffering, blocking);
            // tclsh must have failed somewhere, or the case tests nothing.
            expect(tcl).toMatch(/ERROR/);
            const ours = await channelTranscript(kind, side, buffering, blocking);
            expect(ours).toBe(tcl);
            const oursBytes = await channelTranscript(kind, side, buffering, blocking, 'bytes');
            expect(oursBytes).toBe(tcl);
          }, 30_000);
        }
      }
    }
  }
});

/** A loopback server whose one connection reads nothing until `resume()`; `received` is all it got until EOF. */
async function pausedPeer(): Promise<{ port: number; peer: Promise<net.Socket>; received: Promise<Buffer>; resume: () => Promise<void> }> {
  let accepted!: (s: net.Socket) => void;
  const peer = new Promise<net.Socket>((resolve) => (accepted = resolve));
  const server = net.createServer({ pauseOnConnect: true }, (s) => accepted(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  cleanup.push(async () => (await peer).destroy());
  const received = peer.then(
    (s) =>
      new Promise<Buffer>((resolve) => {
        const parts: Buffer[] = [];
        s.on('data', (d: Buffer) => parts.push(d));
        s.on('end', () => resolve(Buffer.concat(parts)));
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, peer, received, resume: async () => void (await peer).resume() };
}

async function channelTo(port: number): Promise<{ ch: Channel; sock: net.Socket }> {
  const sock = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, onread: Channel.onread });
  await new Promise((resolve) => sock.once('connect', resolve));
  const ch = new Channel(sock, { translation: 'binary' });
  cleanup.push(() => ch.close().catch(() => undefined));
  return { ch, sock };
}

function pattern(n: number, seed: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 7 + seed) & 0xff;
  return a;
}

describe('puts(Uint8Array) sends the bytes as they were at the call', () => {
  for (const buffering of ['full', 'line', 'none'] as const) {
    for (const size of [10, 5000, 8 * 1024 * 1024]) {
      it(`buffering ${buffering}, ${size} bytes, the array changed once puts returned (nonblocking) or was called (blocking)`, async () => {
        const { port, received, resume } = await pausedPeer();
        const { ch } = await channelTo(port);
        ch.configure({ buffering });
        const a = pattern(size, 1);
        const b = pattern(size, 2);
        // Nonblocking: puts returns at once, with the bytes buffered or queued in the stream.
        ch.configure({ blocking: false });
        await ch.puts(a, { nonewline: true });
        a.fill(0xee);
        // Blocking: the array changes while the promise is pending (the peer reads nothing yet).
        ch.configure({ blocking: true });
        const pending = ch.puts(b, { nonewline: true });
        b.fill(0xdd);
        await resume();
        await pending;
        await ch.close();
        const got = await received;
        expect(got.length).toBe(2 * size);
        expect(Buffer.compare(got.subarray(0, size), Buffer.from(pattern(size, 1)))).toBe(0);
        expect(Buffer.compare(got.subarray(size), Buffer.from(pattern(size, 2)))).toBe(0);
      }, 30_000);
    }
  }
});

describe('copies of the caller\'s bytes are reused only when no write holds them', () => {
  // The channel copies a borrowed array into a buffer shared by every socket and reuses it once
  // the kernel has taken it: with a peer that reads nothing, later copies queue behind earlier
  // ones, and a buffer reused too early would send one chunk's bytes in place of another's.
  it('64 writes of 64 KiB from one reused array, first taken by the kernel, then queued, arrive intact', async () => {
    const { port, received, resume } = await pausedPeer();
    const { ch } = await channelTo(port);
    ch.configure({ blocking: false });
    const size = 64 * 1024;
    const source = new Uint8Array(size);
    for (let k = 0; k < 64; k++) {
      source.set(pattern(size, k));
      await ch.puts(source, { nonewline: true });
    }
    source.fill(0);
    await resume();
    await ch.close();
    const got = await received;
    expect(got.length).toBe(64 * size);
    let bad = -1;
    for (let k = 0; k < 64 && bad < 0; k++) if (Buffer.compare(got.subarray(k * size, (k + 1) * size), Buffer.from(pattern(size, k))) !== 0) bad = k;
    expect(bad).toBe(-1);
  }, 30_000);
});

describe('queued bytes that fail later', () => {
  for (const op of ['puts', 'flush'] as const) {
    it(`a blocking ${op} waiting for its queued bytes fails once, with the reset; close is then silent`, async () => {
      const { port, peer } = await pausedPeer();
      const { ch, sock } = await channelTo(port);
      let waiting: Promise<void>;
      if (op === 'puts') {
        // The stream's queue is full: the blocking puts waits for its bytes to drain.
        waiting = ch.puts(pattern(8 * 1024 * 1024, 3), { nonewline: true });
      } else {
        ch.configure({ blocking: false });
        await ch.puts(pattern(8 * 1024 * 1024, 3), { nonewline: true });
        await ch.flush();
        ch.configure({ blocking: true });
        // Nothing buffered in the channel; the flush waits for the stream's queue.
        waiting = ch.flush();
      }
      const outcome = waiting.then(
        () => 'resolved',
        (e: { message: string }) => e.message,
      );
      // The peer resets with our bytes unread once the kernel buffers are full (our queue waits).
      await waitFor('our queued bytes', port, (ss) => /ESTAB\s+[1-9]/.test(ss));
      (await peer).resetAndDestroy();
      expect(await outcome).toBe(`error ${op === 'puts' ? 'writing' : 'flushing'} "${ch.name}": connection reset by peer`);
      await new Promise((resolve) => (sock.destroyed ? resolve(undefined) : sock.once('close', resolve)));
      await expect(ch.flush()).resolves.toBeUndefined();
      await expect(ch.close()).resolves.toBeUndefined();
    }, 30_000);
  }

  /** A nonblocking channel with 8 MiB queued behind a peer that reads nothing, after the peer's reset reached it. */
  async function failedInBackground(buffering: Buffering): Promise<Channel> {
    const { port, peer } = await pausedPeer();
    const { ch, sock } = await channelTo(port);
    ch.configure({ blocking: false, buffering });
    await ch.puts(pattern(8 * 1024 * 1024, 4), { nonewline: true });
    await ch.flush();
    expect(ch.pending('output')).toBeGreaterThan(0);
    await waitFor('our queued bytes', port, (ss) => /ESTAB\s+[1-9]/.test(ss));
    const closed = new Promise((resolve) => sock.once('close', resolve));
    (await peer).resetAndDestroy();
    await closed;
    return ch;
  }

  it('nonblocking: the background failure is reported once, by the next puts; later writes say broken pipe; close is silent', async () => {
    const ch = await failedInBackground('line');
    await expect(ch.puts('x')).rejects.toThrow(`error writing "${ch.name}": connection reset by peer`);
    await expect(ch.puts('y')).rejects.toThrow(`error writing "${ch.name}": broken pipe`);
    await expect(ch.flush()).resolves.toBeUndefined();
    await expect(ch.close()).resolves.toBeUndefined();
  }, 30_000);

  // Tcl's CheckChannelErrors: the failure no call reported is reported by whatever operation
  // comes next, read or write, once; eof() reports nothing. Same steps in tclsh (background.tcl).
  for (const op of ['gets', 'read', 'puts', 'flush', 'eof', 'close'] as const) {
    it(`nonblocking: after a background failure, ${op} then gets and close behave as tclsh's`, async () => {
      const tcl = await runTclClient(BACKGROUND, [op], { timeoutMs: 20_000 });
      expect(tcl.stderr).toBe('');
      const want = tcl.stdout
        .replace(/sock[0-9a-f]+/g, 'CH')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      expect(want.join('\n')).toMatch(/ERROR/);
      const ch = await failedInBackground('line');
      const lines: string[] = [];
      const step = async (what: string, run: () => Promise<string | null | void> | boolean): Promise<void> => {
        try {
          const r = await run();
          const shown = r === null || r === undefined ? '' : typeof r === 'boolean' ? (r ? '1' : '0') : r;
          lines.push(`${what} -> ok ${shown}`.trim());
        } catch (err) {
          const e = err as { message: string; errorCode: string[] };
          lines.push(`${what} -> ERROR {${e.message}} ${e.errorCode.map((w) => (w.includes(' ') ? `{${w}}` : w)).join(' ')}`);
        }
      };
      const ops = { gets: () => ch.gets(), read: () => ch.read(), puts: () => ch.puts('x'), flush: () => ch.flush(), eof: () => ch.eof(), close: () => ch.close() };
      await step(op, ops[op]);
      if (op !== 'close') {
        await step('gets', () => ch.gets());
        await step('close', () => ch.close());
      }
      expect(lines.join('\n').replace(/sock[0-9a-f]+/g, 'CH')).toBe(want.join('\n'));
    }, 30_000);
  }

  it('nonblocking: with nothing written after the failure, close reports it, once', async () => {
    const ch = await failedInBackground('full');
    await expect(ch.close()).rejects.toThrow(/^connection reset by peer$/);
    await expect(ch.close()).resolves.toBeUndefined();
  }, 30_000);
});
