import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { Channel } from '../src/index.js';
import type { ChannelConstructorOptions } from '../src/index.js';
import { duplexPair } from './helpers/duplex-pair.js';
import { turns } from './helpers/turns.js';

/**
 * The synchronous input forms: `tryRead`/`tryReadBytes` (what `read`/`readBytes` give without
 * waiting) and `tryGets` on a partial line (a readable handler must not run every turn for it).
 */

const open: Array<{ ch: Channel; peer: Duplex }> = [];

function pair(options: ChannelConstructorOptions = {}): { ch: Channel; peer: Duplex; mine: Duplex } {
  const [mine, peer] = duplexPair();
  const p = { ch: new Channel(mine, { translation: 'lf', encoding: 'iso8859-1', ...options }), peer, mine };
  open.push(p);
  return p;
}

afterEach(async () => {
  for (const { ch, peer } of open.splice(0)) {
    peer.destroy();
    await ch.close().catch(() => undefined);
  }
});

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));

describe('tryRead and tryReadBytes, nonblocking', () => {
  it('give undefined with blocked() while nothing is there, what is buffered, then empty and eof() at the end', async () => {
    const { ch, peer } = pair({ blocking: false });
    expect(ch.tryReadBytes()).toBeUndefined();
    expect(ch.tryRead()).toBeUndefined();
    peer.write('abc');
    peer.write('def');
    await turns(2);
    // One queued chunk per call without a count, as readBytes() in nonblocking mode.
    expect(text(ch.tryReadBytes())).toBe('abc');
    expect(ch.tryRead(10)).toBe('def');
    expect(ch.blocked()).toBe(true); // fewer than asked for
    expect(ch.tryReadBytes()).toBeUndefined();
    expect(ch.blocked()).toBe(true);
    peer.write('ghij');
    await turns(2);
    expect(ch.tryRead(2)).toBe('gh');
    expect(ch.blocked()).toBe(false);
    peer.end();
    await turns(2);
    expect(text(ch.tryReadBytes(100))).toBe('ij');
    expect(ch.eof()).toBe(true);
    expect(ch.tryReadBytes()?.length).toBe(0);
    expect(ch.tryRead()).toBe('');
    expect(ch.eof()).toBe(true);
  });

  it('keep a character split across chunks until it is whole (utf-8)', async () => {
    const { ch, peer } = pair({ blocking: false, encoding: 'utf-8' });
    peer.write(Buffer.from([0x61, 0xc3]));
    await turns(2);
    expect(ch.tryRead()).toBe('a');
    expect(ch.tryRead()).toBeUndefined();
    peer.write(Buffer.from([0xa9, 0x0a]));
    await turns(2);
    expect(ch.tryRead()).toBe('é\n');
  });

  it('agree with what read() gives for the same bytes', async () => {
    const a = pair({ blocking: false, translation: 'crlf' });
    const b = pair({ blocking: false, translation: 'crlf' });
    for (const { peer } of [a, b]) {
      peer.write('one\r');
      peer.write('\ntwo\r\n');
    }
    await turns(2);
    const viaTry = `${a.ch.tryRead() ?? ''}${a.ch.tryRead() ?? ''}`;
    const viaRead = `${await b.ch.read()}${await b.ch.read()}`;
    expect(viaTry).toBe(viaRead);
    expect(viaTry).toBe('one\ntwo\n');
  });
});

describe('tryRead and tryReadBytes, blocking', () => {
  it('give undefined where read would wait: fewer bytes than the count, or no EOF yet without one', async () => {
    const { ch, peer } = pair();
    peer.write('abcd');
    await turns(2);
    expect(ch.tryReadBytes(5)).toBeUndefined();
    expect(text(ch.tryReadBytes(3))).toBe('abc');
    expect(ch.tryRead()).toBeUndefined(); // read() waits for EOF
    expect(ch.blocked()).toBe(false);
    peer.end('ef');
    await turns(2);
    expect(ch.tryRead()).toBe('def');
    expect(ch.eof()).toBe(true);
  });

  it('leave a waiting read its turn: undefined while a read waits', async () => {
    const { ch, peer } = pair();
    const waiting = ch.read(4);
    peer.write('ab');
    await turns(2);
    expect(ch.tryRead(1)).toBeUndefined();
    peer.write('cd');
    expect(await waiting).toBe('abcd');
  });
});

type Form = 'read' | 'readBytes' | 'gets';
const show = (v: string | Uint8Array | null | undefined): unknown => (v instanceof Uint8Array ? { bytes: text(v) } : v);
const tryForm = (ch: Channel, form: Form): unknown => show(form === 'gets' ? ch.tryGets() : form === 'read' ? ch.tryRead() : ch.tryReadBytes());
const asyncForm = async (ch: Channel, form: Form): Promise<unknown> => show(await (form === 'gets' ? ch.gets() : form === 'read' ? ch.read() : ch.readBytes()));

/** A call's value or its error's message (any channel name as sockN), so a sync form and an async one compare. */
async function settle(call: () => unknown): Promise<{ v: unknown } | { e: string }> {
  try {
    return { v: await call() };
  } catch (e) {
    // Twin channels have different names.
    return { e: (e as Error).message.replace(/"sock\d+"/, '"sockN"') };
  }
}

describe('tryRead and tryReadBytes: errors', () => {
  it('refuse a bad count and a closed channel with the errors of read', async () => {
    const { ch } = pair({ blocking: false });
    expect(() => ch.tryRead(-1)).toThrow(SockchanError);
    expect(() => ch.tryReadBytes(1.5)).toThrow('expected non-negative integer but got "1.5"');
    await expect(ch.read(-1)).rejects.toThrow('expected non-negative integer but got "-1"');
    expect(ch.tryRead(0)).toBe('');
    const name = ch.name;
    await ch.close();
    expect(() => ch.tryReadBytes()).toThrow(`can not find channel named "${name}"`);
  });

  it('after a stream error, give what read, readBytes and gets give (or throw what they reject with)', async () => {
    for (const form of ['read', 'readBytes', 'gets'] as const) {
      const outcomes: unknown[] = [];
      for (const sync of [true, false]) {
        const { ch, mine } = pair({ blocking: false });
        mine.destroy(Object.assign(new Error('boom'), { code: 'EIO' }));
        await turns(2);
        outcomes.push(await settle(() => (sync ? tryForm(ch, form) : asyncForm(ch, form))));
        outcomes.push(ch.eof());
      }
      expect(outcomes[0], form).toEqual(outcomes[2]);
      expect(outcomes[1], form).toBe(outcomes[3]);
    }
  });

  it('a decoding error (strict profile) comes after the characters before it, from tryRead and a nonblocking read alike', async () => {
    const outcomes: unknown[] = [];
    for (const sync of [true, false]) {
      const { ch, peer } = pair({ blocking: false, encoding: 'utf-8', profile: 'strict' });
      peer.write(Buffer.from([0x61, 0xff, 0x62]));
      await turns(2);
      for (let i = 0; i < 2; i++) outcomes.push(await settle(() => (sync ? tryForm(ch, 'read') : asyncForm(ch, 'read'))));
    }
    expect(outcomes.slice(0, 2)).toEqual(outcomes.slice(2));
    expect(outcomes[0]).toEqual({ v: 'a' });
    expect(outcomes[1]).toEqual({ e: expect.stringMatching(/invalid or incomplete multibyte or wide character/) as unknown });
  });
});

describe('tryGets on a partial line', () => {
  it('does not make the readable handler run every turn; it runs again when the line is complete', async () => {
    const { ch, peer } = pair({ blocking: false });
    let calls = 0;
    const lines: string[] = [];
    ch.onReadable((c) => {
      calls += 1;
      let line: string | null | undefined;
      while (typeof (line = c.tryGets()) === 'string') lines.push(line);
    });
    peer.write('hel');
    await turns(20);
    expect(calls).toBe(1);
    expect(ch.blocked()).toBe(true);
    peer.write('lo\nwor');
    await turns(20);
    expect(lines).toEqual(['hello']);
    expect(calls).toBe(2);
    peer.write('ld\n');
    await turns(20);
    expect(lines).toEqual(['hello', 'world']);
    expect(calls).toBe(3);
    ch.onReadable(null);
  });
});

describe('a bulk sink with tryReadBytes over TCP', () => {
  it('counts every byte (sha-256 equal) with no handler run that found nothing', async () => {
    const total = 8 * 1024 * 1024 + 123;
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i++) data[i] = (i * 7919) >>> 3;
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect({ port, host: '127.0.0.1' });
    const ch = new Channel(await accepted, { translation: 'binary', blocking: false });
    const hash = createHash('sha256');
    let received = 0;
    let emptyRuns = 0;
    const done = new Promise<void>((resolve) => {
      ch.onReadable((c) => {
        let got = 0;
        for (let chunk = c.tryReadBytes(); chunk !== undefined && chunk.length > 0; chunk = c.tryReadBytes()) {
          hash.update(chunk);
          got += chunk.length;
        }
        received += got;
        if (got === 0 && !c.eof()) emptyRuns += 1;
        if (c.eof()) {
          c.onReadable(null);
          resolve();
        }
      });
    });
    client.end(data);
    await done;
    expect(received).toBe(total);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(emptyRuns).toBe(0);
    await ch.close();
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
