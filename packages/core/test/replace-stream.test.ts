import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { Channel } from '../src/index.js';
import { duplexPair, takeBuffered } from './helpers/duplex-pair.js';
import { turns } from './helpers/turns.js';

/**
 * `Channel.replaceStream`: the same channel goes on over a new stream (STARTTLS). In-memory
 * pairs: each test controls how the bytes before the switch are split.
 */

interface Switched {
  /** The stream `wrap` was given. */
  current: Duplex | undefined;
  /** The bytes `wrap` was given. */
  unread: Buffer | undefined;
  /** The far end of the new stream. */
  far: Duplex;
}

/** A wrap that records its arguments and returns one end of a fresh pair. */
function switchTo(ch: Channel): Switched {
  const [near, far] = duplexPair();
  const seen: Switched = { current: undefined, unread: undefined, far };
  ch.replaceStream((current, unread) => {
    seen.current = current;
    seen.unread = unread;
    return near;
  });
  return seen;
}

describe('Channel.replaceStream', () => {
  it('hands pipelined bytes to the wrapper, never to a read; the channel reads the new stream', async () => {
    const [a, b] = duplexPair();
    const ch = new Channel(a, { translation: 'lf', encoding: 'utf-8' });
    b.write('STARTTLS\nINJECTED\n');
    expect(await ch.gets()).toBe('STARTTLS');
    const sw = switchTo(ch);
    expect(sw.current).toBe(a);
    expect(sw.unread?.toString()).toBe('INJECTED\n');
    // Nothing the old stream delivers reaches the channel any more.
    b.write('LATE\n');
    sw.far.write('secure line\n');
    expect(await ch.gets()).toBe('secure line');
    expect(ch.configure('translation')).toEqual(['lf', 'lf']);
    expect(ch.configure('encoding')).toBe('utf-8');
    // The old stream is not closed: the wrapper owns it now.
    expect(a.destroyed).toBe(false);
    expect(takeBuffered(a).toString()).toBe('LATE\n');
    await ch.close();
    a.destroy();
  });

  it('gives decoded-but-unread text back as its bytes (a multi-byte character split by the switch point)', async () => {
    const [a, b] = duplexPair();
    const ch = new Channel(a, { translation: 'lf', encoding: 'utf-8' });
    b.write(Buffer.from('one\ncafé\nrest', 'utf8'));
    expect(await ch.gets()).toBe('one');
    const sw = switchTo(ch);
    expect(sw.unread?.equals(Buffer.from('café\nrest', 'utf8'))).toBe(true);
    sw.far.end('x\n');
    expect(await ch.gets()).toBe('x');
    expect(await ch.gets()).toBe(null);
    expect(ch.eof()).toBe(true);
    await ch.close();
    a.destroy();
  });

  it('leaves out the LF of a CR LF whose CR ended the line (auto translation)', async () => {
    const [a, b] = duplexPair();
    const ch = new Channel(a, { translation: 'auto', encoding: 'iso8859-1' });
    b.write('STARTTLS\r');
    expect(await ch.gets()).toBe('STARTTLS');
    b.write('\n\x16\x03\x01');
    await turns(2);
    const sw = switchTo(ch);
    expect([...(sw.unread ?? [])]).toEqual([0x16, 0x03, 0x01]);
    await ch.close();
    a.destroy();
  });

  it('sends output buffered before the switch on the old stream, later output on the new one', async () => {
    const [a, b] = duplexPair();
    const ch = new Channel(a, { translation: 'lf', buffering: 'full' });
    await ch.puts('OK STARTTLS');
    expect(takeBuffered(b).length).toBe(0);
    const sw = switchTo(ch);
    expect(takeBuffered(b).toString()).toBe('OK STARTTLS\n');
    await ch.puts('secret');
    await ch.flush();
    expect(takeBuffered(sw.far).toString()).toBe('secret\n');
    expect(takeBuffered(b).length).toBe(0);
    await ch.close();
    a.destroy();
  });

  it('keeps the readable handler; during the switch nothing is readable, then the new input is', async () => {
    const [a, b] = duplexPair();
    const ch = new Channel(a, { translation: 'lf', blocking: false });
    const lines: (string | null)[] = [];
    b.write('STARTTLS\n');
    await turns(2);
    expect(await ch.gets()).toBe('STARTTLS');
    const sw = switchTo(ch);
    ch.onReadable(async () => {
      lines.push(await ch.gets());
    });
    await turns(3);
    expect(lines).toEqual([]);
    // Nonblocking: nothing yet is "blocked", never EOF.
    expect(await ch.gets()).toBe(null);
    expect(ch.blocked()).toBe(true);
    expect(ch.eof()).toBe(false);
    sw.far.write('after\n');
    for (let i = 0; i < 20 && lines.length === 0; i++) await turns(1);
    expect(lines).toEqual(['after']);
    await ch.close();
    a.destroy();
  });

  it('refuses while a read waits, on a closed channel, and before a connection exists', async () => {
    const [a] = duplexPair();
    const ch = new Channel(a);
    const waiting = ch.gets();
    let err: unknown;
    try {
      switchTo(ch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SockchanError);
    expect((err as SockchanError).message).toBe(`channel "${ch.name}" is busy`);
    expect((err as SockchanError).code).toBe('ERR_SOCKCHAN_BUSY');
    await ch.close();
    await expect(waiting).rejects.toThrow(/can not find channel/);
    expect(() => switchTo(ch)).toThrow(`can not find channel named "${ch.name}"`);
    const unconnected = new Channel();
    expect(() => switchTo(unconnected)).toThrow(`can't replace the stream of "${unconnected.name}": socket is not connected`);
    await unconnected.close();
    a.destroy();
  });

  it('keeps the old stream and its unread bytes when the wrapper throws', async () => {
    const [a, b] = duplexPair();
    const ch = new Channel(a, { translation: 'lf' });
    b.write('one\ntwo\n');
    expect(await ch.gets()).toBe('one');
    expect(() =>
      ch.replaceStream(() => {
        throw new Error('no TLS today');
      }),
    ).toThrow('no TLS today');
    expect(await ch.gets()).toBe('two');
    b.write('three\n');
    expect(await ch.gets()).toBe('three');
    await ch.close();
  });
});
