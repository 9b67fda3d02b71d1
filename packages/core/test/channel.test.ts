import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, channelNames } from '../src/index.js';
import { SockchanError } from '@sockchan/base';
import type { DriverOptionSpec } from '../src/index.js';
import { collectAll, duplexPair } from './helpers/duplex-pair.js';
import { turns } from './helpers/turns.js';

/** Channel semantics over an in-memory duplex pair: errors, close, events, connecting, options. */

const open: Channel[] = [];
afterEach(async () => {
  for (const ch of open.splice(0)) await ch.close().catch(() => undefined);
});

function pair(settings: Record<string, unknown> = {}): [Channel, Duplex] {
  const [local, peer] = duplexPair();
  const ch = new Channel(local, settings);
  open.push(ch);
  return [ch, peer];
}

describe('names and use after close', () => {
  it('names are sock + a process-unique number, listed while open', async () => {
    const [a] = pair();
    const [b] = pair();
    expect(a.name).toMatch(/^sock\d+$/);
    expect(b.name).not.toBe(a.name);
    expect(channelNames()).toContain(a.name);
    await a.close();
    expect(channelNames()).not.toContain(a.name);
  });

  it('every method fails with Tcl\'s text after close; close is idempotent', async () => {
    const [ch] = pair();
    await ch.close();
    const text = `can not find channel named "${ch.name}"`;
    await expect(ch.gets()).rejects.toThrow(text);
    await expect(ch.read()).rejects.toThrow(text);
    await expect(ch.readBytes()).rejects.toThrow(text);
    await expect(ch.puts('x')).rejects.toThrow(text);
    await expect(ch.flush()).rejects.toThrow(text);
    expect(() => ch.eof()).toThrow(text);
    expect(() => ch.blocked()).toThrow(text);
    expect(() => ch.pending('input')).toThrow(text);
    expect(() => ch.configure()).toThrow(text);
    expect(() => ch.onReadable(null)).toThrow(text);
    await expect(ch.close()).resolves.toBeUndefined();
    await expect(ch.gets()).rejects.toMatchObject({ code: 'ERR_SOCKCHAN_UNKNOWN_CHANNEL', errorCode: ['TCL', 'LOOKUP', 'CHANNEL', ch.name] });
  });

  it('a waiting gets is rejected when the channel is closed', async () => {
    const [ch] = pair();
    const waiting = ch.gets();
    await ch.close();
    await expect(waiting).rejects.toThrow(`can not find channel named "${ch.name}"`);
  });
});

describe('half-close', () => {
  it('write side: FIN after the data, read-only afterwards, Tcl texts', async () => {
    const [ch, peer] = pair({ translation: 'lf' });
    const received = collectAll(peer);
    await ch.puts('last words');
    await ch.close('write');
    expect((await received).toString()).toBe('last words\n');
    await expect(ch.puts('x')).rejects.toThrow(`channel "${ch.name}" wasn't opened for writing`);
    await expect(ch.close('write')).rejects.toThrow('Half-close of write-side not possible, side not opened or already closed');
    peer.end('answer\n');
    expect(await ch.gets()).toBe('answer');
    await ch.close('read');
    await expect(ch.gets()).rejects.toThrow(`can not find channel named "${ch.name}"`);
  });

  it('bad direction', async () => {
    const [ch] = pair();
    await expect(ch.close('both' as 'read')).rejects.toThrow('bad direction "both": must be read or write');
    // tclsh 8.6.13: catch {close $s both} r o; dict get $o -errorcode
    await expect(ch.close('both' as 'read')).rejects.toMatchObject({ errorCode: ['TCL', 'LOOKUP', 'INDEX', 'direction', 'both'] });
  });

  it('read side closed: reads fail, writes work', async () => {
    const [ch, peer] = pair({ translation: 'lf', buffering: 'none' });
    const received = collectAll(peer);
    await ch.close('read');
    await expect(ch.gets()).rejects.toThrow(`channel "${ch.name}" wasn't opened for reading`);
    await ch.puts('still');
    await ch.close();
    expect((await received).toString()).toBe('still\n');
  });
});

describe('output buffering and pending', () => {
  it('full buffering counts bytes after translation (Tcl: "line one\\n" is 10 bytes)', async () => {
    const [ch] = pair();
    await ch.puts('line one');
    expect(ch.pending('output')).toBe(10);
    await ch.flush();
    expect(ch.pending('output')).toBe(0);
  });

  it('bytes pass through puts unchanged, the newline is translated', async () => {
    const [ch, peer] = pair({ encoding: 'utf-8' });
    const received = collectAll(peer);
    await ch.puts(Uint8Array.from([0xff, 0x0a, 0x00]));
    await ch.close();
    expect((await received).toString('hex')).toBe('ff0a000d0a');
  });

  it('nonblocking close still delivers everything queued', async () => {
    const [ch, peer] = pair({ blocking: false, translation: 'lf' });
    const received = collectAll(peer);
    for (let i = 0; i < 100; i++) await ch.puts(`line ${i}`);
    await ch.close();
    const lines = (await received).toString().split('\n');
    expect(lines.length).toBe(101);
    expect(lines[99]).toBe('line 99');
  });
});

describe('input', () => {
  it('nonblocking gets: null with blocked() on a partial line, then the whole line', async () => {
    const [ch, peer] = pair({ blocking: false });
    peer.write('par');
    await turns(2);
    expect(await ch.gets()).toBeNull();
    expect(ch.blocked()).toBe(true);
    expect(ch.eof()).toBe(false);
    expect(ch.pending('input')).toBe(3);
    peer.write('tial\r\n');
    await turns(2);
    expect(await ch.gets()).toBe('partial');
    expect(ch.blocked()).toBe(false);
  });

  it('a blocking read waits for data only when nothing held could complete it', async () => {
    const [ch, peer] = pair({ encoding: 'utf-8' });
    // An empty channel: gets waits, and the line that comes later completes it.
    const line = ch.gets();
    let got: string | null | undefined;
    void line.then((l) => (got = l));
    await turns(3);
    expect(got).toBeUndefined();
    peer.write('first\n');
    expect(await line).toBe('first');
    // Two bytes of a three-byte character: the decoder holds them, nothing is decoded yet.
    peer.write(Buffer.from([0xe2, 0x82]));
    await turns(2);
    ch.configure({ blocking: false });
    expect(await ch.gets()).toBeNull();
    expect(ch.pending('input')).toBe(2);
    ch.configure({ blocking: true });
    // A blocking readBytes(2) gets the held bytes at once: it must not just wait for more data.
    expect([...(await ch.readBytes(2))]).toEqual([0xe2, 0x82]);
  });

  it('header lines in crlf, then a binary body: nothing lost or re-decoded', async () => {
    const [ch, peer] = pair({ translation: 'crlf', encoding: 'utf-8' });
    const body = Buffer.from([0xc3, 0xa9, 0x0d, 0x0a, 0xff, 0x00]);
    peer.write(Buffer.concat([Buffer.from('Length: 6\r\nÉ: x\r\n\r\n'), body, Buffer.from('tail')]));
    peer.end();
    expect(await ch.gets()).toBe('Length: 6');
    expect(await ch.gets()).toBe('É: x');
    expect(await ch.gets()).toBe('');
    ch.configure({ translation: 'binary' });
    expect(ch.configure('encoding')).toBe('binary');
    expect(await ch.read(6)).toBe(body.toString('latin1'));
    ch.configure({ encoding: 'utf-8', translation: 'lf' });
    expect(await ch.read()).toBe('tail');
  });

  it('readBytes gives raw bytes after gets, without reconfiguring', async () => {
    const [ch, peer] = pair({ translation: 'auto' });
    const body = Buffer.from([0x0d, 0x0a, 0x80, 0x0d]);
    peer.end(Buffer.concat([Buffer.from('size 4\n'), body]));
    expect(await ch.gets()).toBe('size 4');
    expect(Buffer.from(await ch.readBytes(4))).toEqual(body);
    expect(await ch.readBytes()).toHaveLength(0);
    expect(ch.eof()).toBe(true);
  });

  it('a stream that ends before anything is read: no input buffer until a read, which sees the end', async () => {
    const [ch, peer] = pair();
    peer.end();
    await turns(3);
    // An accept-and-close server's channels end this way: nothing allocated for input.
    expect((ch as unknown as { inputBuffer: unknown }).inputBuffer).toBeUndefined();
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
    expect(await ch.read()).toBe('');
  });

  it('async iteration gives every line, the last partial one included', async () => {
    const [ch, peer] = pair();
    peer.end('a\r\nb\nc');
    const lines: string[] = [];
    for await (const line of ch) lines.push(line);
    expect(lines).toEqual(['a', 'b', 'c']);
  });

  it('reads on demand: a peer that is not read is paused (bounded buffer)', async () => {
    const [ch, peer] = pair();
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let accepted = 0;
    for (let i = 0; i < 64; i++) {
      peer.write(chunk);
      accepted += chunk.length;
      await turns(1);
    }
    expect(accepted).toBe(1024 * 1024);
    expect(ch.pending('input')).toBeLessThanOrEqual(256 * 1024 + chunk.length);
    const all = await Promise.race([ch.read(1024 * 1024), turns(2000).then(() => 'timeout')]);
    expect(typeof all === 'string' ? all.length : 0).toBe(1024 * 1024);
  });
  it('a readable handler due to run is handed the whole burst of one turn; one that leaves the input there is paused', async () => {
    const [ch, peer] = pair({ blocking: false, translation: 'binary' });
    const mine = (ch as unknown as { stream: Duplex }).stream;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let calls = 0;
    let took = 0;
    let pausedWhenRun = true;
    const drained = new Promise<void>((resolve) => {
      ch.onReadable(async (c) => {
        calls++;
        pausedWhenRun = mine.isPaused();
        for (;;) {
          const got = await c.readBytes();
          if (got.length === 0) break;
          took += got.length;
        }
        if (took === 16 * chunk.length) resolve();
      });
    });
    // 1 MiB in one turn: more than the 256 KiB bound, less than the burst (8 x the bound).
    for (let i = 0; i < 16; i++) peer.write(chunk);
    await drained;
    expect(pausedWhenRun).toBe(false);
    expect(calls).toBe(1);
    // A handler that reads nothing is held to the plain bound after its turn.
    ch.onReadable(() => undefined);
    for (let i = 0; i < 16; i++) peer.write(chunk);
    await turns(5);
    expect(mine.isPaused()).toBe(true);
    expect(ch.pending('input')).toBeLessThanOrEqual(8 * 256 * 1024 + chunk.length);
    ch.onReadable(null);
    let rest = 0;
    for (let got = await ch.readBytes(); got.length > 0; got = await ch.readBytes()) rest += got.length;
    expect(rest).toBe(16 * chunk.length);
    await turns(2);
    expect(mine.isPaused()).toBe(false);
  });
});

describe('events', () => {
  it('readable is level-triggered: a handler that reads nothing runs again', async () => {
    const [ch, peer] = pair();
    let calls = 0;
    const done = new Promise<void>((resolve) => {
      ch.onReadable((c) => {
        calls++;
        if (calls === 5) {
          c.onReadable(null);
          resolve();
        }
      });
    });
    peer.write('x\n');
    await done;
    expect(calls).toBe(5);
  });

  it('EOF is sticky: the handler keeps running at EOF', async () => {
    const [ch, peer] = pair();
    let calls = 0;
    peer.end();
    await new Promise<void>((resolve) => {
      ch.onReadable(async (c) => {
        calls++;
        expect(await c.gets()).toBeNull();
        expect(c.eof()).toBe(true);
        if (calls === 3) {
          c.onReadable(null);
          resolve();
        }
      });
    });
    expect(calls).toBe(3);
  });

  it('after a blocked partial gets, readable waits for new bytes (no busy loop)', async () => {
    const [ch, peer] = pair({ blocking: false });
    const results: (string | null)[] = [];
    ch.onReadable(async (c) => {
      results.push(await c.gets());
    });
    peer.write('abc');
    await turns(20);
    expect(results).toEqual([null]);
    peer.write('\n');
    await turns(20);
    expect(results.slice(0, 2)).toEqual([null, 'abc']);
  });

  it('a handler returning a promise is not run again until it settles', async () => {
    const [ch, peer] = pair();
    let calls = 0;
    let release!: () => void;
    ch.onReadable(() => {
      calls++;
      return new Promise<void>((r) => (release = r));
    });
    peer.write('data\n');
    await turns(20);
    expect(calls).toBe(1);
    release();
    await turns(5);
    expect(calls).toBeGreaterThan(1);
    ch.onReadable(null);
  });

  it('writable fires while output can be accepted', async () => {
    const [ch] = pair();
    let calls = 0;
    await new Promise<void>((resolve) => {
      ch.onWritable((c) => {
        if (++calls === 3) {
          c.onWritable(null);
          resolve();
        }
      });
    });
    expect(calls).toBe(3);
  });
});

/** A driver like the umbrella's SocketChannel: created before its stream, with driver options. */
class LateChannel extends Channel {
  peer = ['127.0.0.1', 'localhost', 1234];
  constructor() {
    super(undefined);
    open.push(this);
  }
  connectTo(stream: Duplex): void {
    this.attach(stream);
  }
  fail(): void {
    this.failConnect();
  }
  get connectingNow(): boolean {
    return this.isConnecting;
  }
  protected override driverOptions(): readonly DriverOptionSpec[] {
    return [
      { name: 'connecting', listed: false, namedOnGet: true, settable: false },
      { name: 'error', listed: false, namedOnGet: false, settable: false },
      { name: 'peername', listed: true, namedOnGet: true, settable: false },
      { name: 'sockname', listed: true, namedOnGet: true, settable: false },
    ];
  }
  protected override getDriverOption(name: string): unknown {
    switch (name) {
      case 'connecting':
        return this.isConnecting;
      case 'error':
        return '';
      default:
        return this.peer;
    }
  }
}

describe('a channel before its stream (async connect)', () => {
  it('puts buffers, blocking flush waits for the connect, then the bytes go out', async () => {
    const ch = new LateChannel();
    expect(ch.connectingNow).toBe(true);
    await ch.puts('early');
    expect(ch.pending('output')).toBe(7);
    let flushed = false;
    const flushing = ch.flush().then(() => (flushed = true));
    await turns(3);
    expect(flushed).toBe(false);
    const [local, peer] = duplexPair();
    const received = collectAll(peer);
    ch.connectTo(local);
    await flushing;
    await ch.close();
    expect((await received).toString()).toBe('early\r\n');
  });

  it('whole buffers that join a partial one and the caller\'s bytes are kept as they were at the call', async () => {
    const ch = new LateChannel();
    ch.configure({ translation: 'binary', buffersize: 4096 });
    await ch.puts('HDR', { nonewline: true });
    const piece = Buffer.alloc(70_000, 0x61);
    const puts = ch.puts(piece, { nonewline: true });
    piece.fill(0x7a); // after the call: not what was sent
    await ch.puts(piece.subarray(0, 5), { nonewline: true });
    const [local, peer] = duplexPair();
    const received = collectAll(peer);
    ch.connectTo(local);
    await puts;
    await ch.close();
    const got = await received;
    expect(got.length).toBe(3 + 70_000 + 5);
    expect(got.subarray(0, 3).toString()).toBe('HDR');
    expect(got.subarray(3, 70_003).every((b) => b === 0x61)).toBe(true);
    expect(got.subarray(70_003).toString()).toBe('zzzzz');
  });

  it('nonblocking gets while connecting: null and blocked', async () => {
    const ch = new LateChannel();
    ch.configure({ blocking: false });
    expect(await ch.gets()).toBeNull();
    expect(ch.blocked()).toBe(true);
  });

  it('a failed connect: ENOTCONN texts, eof stays false, writable fires once, close is silent', async () => {
    const ch = new LateChannel();
    await ch.puts('lost');
    const waitingGets = ch.gets();
    let writable = 0;
    ch.onWritable(() => {
      writable++;
    });
    ch.fail();
    await expect(waitingGets).rejects.toThrow(`error reading "${ch.name}": socket is not connected`);
    await expect(ch.flush()).rejects.toMatchObject({
      message: `error flushing "${ch.name}": socket is not connected`,
      errorCode: ['POSIX', 'ENOTCONN', 'socket is not connected'],
    });
    await expect(ch.gets()).rejects.toThrow(`error reading "${ch.name}": socket is not connected`);
    expect(ch.eof()).toBe(false);
    await turns(10);
    expect(writable).toBe(1);
    await expect(ch.close()).resolves.toBeUndefined();
  });

  it('driver options: listing order, error texts, prefixes', () => {
    const ch = new LateChannel();
    expect(Object.keys(ch.configure())).toEqual(['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation', 'peername', 'sockname']);
    expect(() => ch.configure('-bogus')).toThrow(
      'bad option "-bogus": should be one of -blocking, -buffering, -buffersize, -encoding, -eofchar, -translation, -connecting, -peername, or -sockname',
    );
    expect(() => ch.configure({ '-peername': 'x' })).toThrow(
      'bad option "-peername": should be one of -blocking, -buffering, -buffersize, -encoding, -eofchar, or -translation',
    );
    expect(ch.configure('-e')).toBe('');
    expect(ch.configure('-peer')).toEqual(ch.peer);
    expect(ch.configure('connecting')).toBe(true);
  });
});

describe('configure', () => {
  it('Tcl\'s error texts for a plain channel', () => {
    const [ch] = pair();
    expect(() => ch.configure('-bogus')).toThrow('bad option "-bogus": should be one of -blocking, -buffering, -buffersize, -encoding, -eofchar, or -translation');
    expect(() => ch.configure({ blocking: 'maybe' })).toThrow('expected boolean value but got "maybe"');
    expect(() => ch.configure({ buffering: 'x' })).toThrow('bad value for -buffering: must be one of full, line, or none');
    expect(() => ch.configure({ encoding: 'no-such-enc' })).toThrow('unknown encoding "no-such-enc"');
    expect(() => ch.configure({ translation: 'foo' })).toThrow('bad value for -translation: must be one of auto, binary, cr, lf, crlf, or platform');
    expect(() => ch.configure({ translation: 'a b c' })).toThrow('bad value for -translation: must be a one or two element list');
    expect(() => ch.configure({ buffersize: 'abc' })).toThrow('expected integer but got "abc"');
    expect(() => ch.configure({ eofchar: 'a b c' })).toThrow('bad value for -eofchar: should be a list of zero, one, or two elements');
    expect(() => ch.configure({ eofchar: 'é' })).toThrow('bad value for -eofchar: must be non-NUL ASCII character');
  });

  it('values that cannot be turned into text still give a SockchanError (fuzz counterexample)', () => {
    const [ch] = pair();
    const hostile = { toString: [] } as unknown as string; // String(hostile) throws a TypeError
    for (const key of ['encoding', 'buffering', 'translation', 'blocking', 'buffersize', 'eofchar'] as const) {
      let thrown: unknown;
      try {
        ch.configure({ [key]: hostile });
      } catch (err) {
        thrown = err;
      }
      expect(thrown, key).toBeInstanceOf(SockchanError);
    }
    expect(() => ch.configure({ encoding: hostile })).toThrow('unknown encoding "{"toString":[]}"');
  });

  it('values: prefixes, clamping, pairs, partial application as in Tcl', () => {
    const [ch] = pair();
    ch.configure({ '-bl': '0', buffering: 'l', buffersize: 0 });
    expect(ch.configure('blocking')).toBe(false);
    expect(ch.configure('buffering')).toBe('line');
    expect(ch.configure('buffersize')).toBe(1);
    ch.configure({ buffersize: '10000000' });
    expect(ch.configure('-buffersize')).toBe(1048576);
    ch.configure({ eofchar: '{} x' });
    expect(ch.configure('eofchar')).toEqual(['', 'x']);
    expect(() => ch.configure({ translation: 'lf foo' })).toThrow();
    expect(ch.configure('translation')).toEqual(['lf', 'crlf']);
    ch.configure({ translation: ['crlf', 'auto'] });
    expect(ch.configure('translation')).toEqual(['crlf', 'crlf']);
  });
});
