import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { Channel, DEFAULT_MAX_LINE } from '../src/index.js';
import { duplexPair } from './helpers/duplex-pair.js';
import { turns } from './helpers/turns.js';

/**
 * The input limit of `gets` (`maxLine`), backpressure while a line is unfinished, and values of
 * the wrong type from untyped callers. Added by the reliability work (issue 9).
 */

const CHUNK = 64 * 1024;

function reader(options: ConstructorParameters<typeof Channel>[1] = {}): { ch: Channel; peer: Duplex; mine: Duplex } {
  const [mine, peer] = duplexPair();
  return { ch: new Channel(mine, { translation: 'lf', encoding: 'iso8859-1', ...options }), peer, mine };
}

/** Writes `total` bytes of 'x' (rounded up to whole 64 KiB chunks) at once. */
function flood(peer: Duplex, total: number): void {
  const chunk = Buffer.alloc(CHUNK, 0x78);
  for (let sent = 0; sent < total; sent += CHUNK) peer.write(chunk);
}

describe('maxLine: the input limit of gets', () => {
  it('defaults to 1 MiB; accepts 0 (no limit) and integers; rejects anything else with a SockchanError', async () => {
    const { ch } = reader();
    expect(DEFAULT_MAX_LINE).toBe(1024 * 1024);
    expect(ch.maxLine).toBe(DEFAULT_MAX_LINE);
    ch.maxLine = 0;
    expect(ch.maxLine).toBe(0);
    for (const bad of [-1, 1.5, Number.NaN, '10', null]) {
      expect(() => (ch.maxLine = bad as number)).toThrow(SockchanError);
      expect(() => (ch.maxLine = bad as number)).toThrow(/^bad value for maxLine: expected a non-negative integer/);
    }
    expect(reader({ maxLine: 5 }).ch.maxLine).toBe(5);
    expect(() => reader({ maxLine: -5 })).toThrow(SockchanError);
    await ch.close();
  });

  it('a blocking gets on an endless line fails with ERR_SOCKCHAN_LIMIT once more than maxLine is buffered; reading pauses', async () => {
    const { ch, peer, mine } = reader({ maxLine: 100_000 });
    const pending = ch.gets();
    flood(peer, 4 * 1024 * 1024);
    const err = (await pending.catch((e: unknown) => e)) as SockchanError;
    expect(err).toBeInstanceOf(SockchanError);
    expect(err.message).toBe(`error reading "${ch.name}": line longer than 100000 characters`);
    expect(err.code).toBe('ERR_SOCKCHAN_LIMIT');
    expect(err.errorCode).toEqual(['SOCKCHAN', 'LIMIT', 'LINE', '100000']);
    // Bounded: the limit plus at most the read bound, not the 4 MiB the peer sent.
    expect(ch.pending('input')).toBeGreaterThan(100_000);
    expect(ch.pending('input')).toBeLessThanOrEqual(256 * 1024 + CHUNK);
    expect(mine.isPaused()).toBe(true);
    // The next gets fails the same way; the input is not lost: read takes it.
    await expect(ch.gets()).rejects.toThrow('line longer than 100000 characters');
    const some = await ch.read(1000);
    expect(some).toBe('x'.repeat(1000));
    await ch.close();
  });

  it('a line of exactly maxLine characters is returned; the line after it too', async () => {
    const { ch, peer } = reader({ maxLine: 1000 });
    peer.write('y'.repeat(1000) + '\nnext\n');
    expect(await ch.gets()).toBe('y'.repeat(1000));
    expect(await ch.gets()).toBe('next');
    await ch.close();
  });

  it('tryGets and the line iterator fail the same way', async () => {
    const a = reader({ maxLine: 10 });
    a.peer.write('z'.repeat(50));
    await turns(1);
    expect(() => a.ch.tryGets()).toThrow('line longer than 10 characters');
    const b = reader({ maxLine: 10 });
    b.peer.write('ok\n' + 'z'.repeat(50));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const line of b.ch) seen.push(line);
      })(),
    ).rejects.toThrow('line longer than 10 characters');
    expect(seen).toEqual(['ok']);
    await a.ch.close();
    await b.ch.close();
  });

  it('maxLine 0 is Tcl: no limit (a 2 MiB line is returned)', async () => {
    const { ch, peer } = reader({ maxLine: 0 });
    const pending = ch.gets();
    flood(peer, 2 * 1024 * 1024);
    peer.write('\n');
    expect((await pending)?.length).toBe(2 * 1024 * 1024);
    await ch.close();
  });

  it('nonblocking: a line longer than the read bound (256 KiB) still completes in a readable handler', async () => {
    // Before: the stream paused at 256 KiB and a blocked nonblocking gets never resumed it (a hang).
    const { ch, peer } = reader({ blocking: false });
    const got = new Promise<string>((resolve, reject) => {
      ch.onReadable(async () => {
        const line = await ch.gets().catch(reject);
        if (typeof line === 'string') resolve(line);
      });
    });
    flood(peer, 7 * CHUNK);
    peer.write('\n');
    expect((await got).length).toBe(7 * CHUNK);
    await ch.close();
  });

  it('nonblocking: an endless line ends in ERR_SOCKCHAN_LIMIT (the handler is not run in a busy loop meanwhile)', async () => {
    const { ch, peer, mine } = reader({ blocking: false, maxLine: 300_000 });
    let calls = 0;
    const failed = new Promise<SockchanError>((resolve) => {
      ch.onReadable(async () => {
        calls += 1;
        try {
          await ch.gets();
        } catch (err) {
          ch.onReadable(null);
          resolve(err as SockchanError);
        }
      });
    });
    flood(peer, 4 * 1024 * 1024);
    const err = await failed;
    expect(err.code).toBe('ERR_SOCKCHAN_LIMIT');
    // One call per chunk received at most (Tcl's need-more-data rule), not one per loop turn.
    expect(calls).toBeLessThanOrEqual(Math.ceil((300_000 + CHUNK) / CHUNK) + 2);
    // A handler due to run may be handed one event loop turn's burst (8 x the 256 KiB read bound).
    expect(ch.pending('input')).toBeLessThanOrEqual(8 * 256 * 1024 + CHUNK);
    expect(mine.isPaused()).toBe(true);
    await ch.close();
  });

  it('raising maxLine lets a gets that hit the limit go on', async () => {
    const { ch, peer } = reader({ maxLine: 10 });
    peer.write('a'.repeat(20));
    await expect(ch.gets()).rejects.toThrow('line longer than 10 characters');
    ch.maxLine = 100;
    const pending = ch.gets();
    peer.write('\n');
    expect(await pending).toBe('a'.repeat(20));
    await ch.close();
  });
});

describe('a reset read as EOF', () => {
  it('close() is then silent when nothing was left to send (Tcl closes without an error)', async () => {
    const { ch, mine } = reader();
    mine.emit('data', Buffer.from('one\n'));
    mine.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(await ch.gets()).toBe('one');
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
    await expect(ch.close()).resolves.toBeUndefined();
  });
});

describe('option values of the wrong type (untyped callers)', () => {
  it.each([
    ['blocking', null, 'expected boolean value but got "null"'],
    ['buffersize', {}, 'expected integer but got "{}"'],
    ['translation', null, 'bad value for -translation: must be a one or two element list'],
    ['translation', [1, 2], 'bad value for -translation: must be a one or two element list'],
    ['eofchar', null, 'bad value for -eofchar: should be a list of zero, one, or two elements'],
    ['eofchar', [7], 'bad value for -eofchar: should be a list of zero, one, or two elements'],
  ] as const)('%s = %j fails with a SockchanError', async (name, value, text) => {
    const { ch } = reader();
    expect(() => ch.configure({ [name]: value } as Record<string, unknown>)).toThrow(SockchanError);
    expect(() => ch.configure({ [name]: value } as Record<string, unknown>)).toThrow(text);
    await ch.close();
  });
});
