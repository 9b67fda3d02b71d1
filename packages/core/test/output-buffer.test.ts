import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertTo, createEncoder } from '@sockchan/encodings';
import { OutputBuffer } from '../src/index.js';
import type { StreamEncoder } from '../src/index.js';

/** The pure output layer: translation, encoding fast paths, Tcl's buffering modes. */

/** An encoder that must not be needed (the fast paths cover these tests) unless asked. */
const latin1Encoder = (): StreamEncoder => ({
  encode: (t) => Buffer.from(Array.from(t, (c) => (c.charCodeAt(0) > 0xff ? 0x3f : c.charCodeAt(0)))),
  end: () => Buffer.alloc(0),
  error: undefined,
});

function drain(out: OutputBuffer, writes: [string | Uint8Array, boolean][]): { sent: Buffer[]; rest: Buffer } {
  const sent: Buffer[] = [];
  for (const [data, nl] of writes) {
    const now = out.write(data, nl);
    if (now !== undefined) sent.push(now);
    const full = out.takeFull();
    if (full !== undefined) sent.push(full);
  }
  return { sent, rest: out.takeAll() ?? Buffer.alloc(0) };
}

describe('OutputBuffer', () => {
  it('only \\n is translated; text and bytes keep their order', () => {
    const out = new OutputBuffer('iso8859-1', latin1Encoder, 'crlf', 'full', 4096);
    const { sent, rest } = drain(out, [
      ['a\r\nb', false],
      [Uint8Array.from([0x0a, 0xff]), true],
      ['é€', false],
    ]);
    expect(sent).toEqual([]);
    expect(rest.toString('hex')).toBe('610d0d0a62' + '0aff0d0a' + 'e93f');
  });

  it('full buffering sends whole buffers as they fill, counting bytes after translation', () => {
    const out = new OutputBuffer('utf-8', latin1Encoder, 'crlf', 'full', 4);
    const { sent, rest } = drain(out, [['abc\ndef\n', false]]);
    expect(Buffer.concat(sent).toString('hex')).toBe('6162630d0a646566');
    expect(rest.toString('hex')).toBe('0d0a');
  });

  it('line buffering sends everything when a write has a newline; none sends at once', () => {
    const line = new OutputBuffer('utf-8', latin1Encoder, 'lf', 'line', 4096);
    expect(line.write('ab', false)).toBeUndefined();
    expect(line.write('c\nd', false)?.toString()).toBe('abc\nd');
    const none = new OutputBuffer('utf-8', latin1Encoder, 'lf', 'none', 4096);
    expect(none.write('x', false)?.toString()).toBe('x');
  });

  it('a send due at once comes as latin1 text when asked for (a socket), as bytes otherwise', () => {
    const line = new OutputBuffer('iso8859-1', latin1Encoder, 'lf', 'line', 4096);
    expect(line.write('pïng', true, true)).toBe('pïng\n');
    // Outside the range: the encoder's bytes ('?'), not text Node would encode otherwise.
    const outside = line.write('a€', true, true);
    expect(Buffer.isBuffer(outside) ? outside.toString('hex') : outside).toBe('613f0a');
    // Bytes stay bytes.
    const bytes = line.write(Uint8Array.from([0xff, 0x0a]), false, true);
    expect(Buffer.isBuffer(bytes) ? bytes.toString('hex') : bytes).toBe('ff0a');
    // A multibyte encoding has no one-byte text to give.
    const utf8 = new OutputBuffer('utf-8', latin1Encoder, 'lf', 'line', 4096);
    const u = utf8.write('é', true, true);
    expect(Buffer.isBuffer(u) ? u.toString('hex') : u).toBe('c3a90a');
  });

  it('utf-8 byte counts include multibyte characters', () => {
    const utf8Encoder = (): StreamEncoder => ({ encode: (t) => Buffer.from(t, 'utf8'), end: () => Buffer.alloc(0), error: undefined });
    const out = new OutputBuffer('utf-8', utf8Encoder, 'lf', 'full', 4096);
    out.write('é€', true);
    expect(out.bytes).toBe(2 + 3 + 1);
    out.write('😀', false); // surrogates go through the real encoder
    expect(out.bytes).toBe(2 + 3 + 1 + 4);
    expect(out.takeAll()?.toString('utf8')).toBe('é€\n😀');
  });

  it('property: how text is split into puts never changes the bytes (full buffering)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), fc.constantFrom<'lf' | 'cr' | 'crlf'>('lf', 'cr', 'crlf'), (parts, size, tr) => {
        const whole = parts.join('');
        const a = drain(new OutputBuffer('binary', latin1Encoder, tr, 'full', size), parts.map((p) => [p, false]));
        const b = drain(new OutputBuffer('binary', latin1Encoder, tr, 'full', size), [[whole, false]]);
        expect(Buffer.concat([...a.sent, a.rest])).toEqual(Buffer.concat([...b.sent, b.rest]));
        for (const s of [...a.sent, ...b.sent]) expect(s.length % size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('property: iso8859-1 and ascii text outside the range (short writes checked as they come, long ones when taken) gives the real encoder\'s bytes, whatever the split', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '\n', 'Ā', '€', '\uD83D', '\uDE00', '😀', 'ÿ', '\u007f'), maxLength: 100 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(text, fc.boolean()), { maxLength: 12 }),
        fc.constantFrom('iso8859-1', 'ascii'),
        fc.integer({ min: 1, max: 32 }),
        fc.array(fc.constantFrom('none', 'full', 'latin1'), { minLength: 12, maxLength: 12 }),
        (writes, encoding, size, takes) => {
          const out = new OutputBuffer(encoding, () => createEncoder(encoding), 'lf', 'full', size);
          const got: Buffer[] = [];
          writes.forEach(([data, nl], i) => {
            out.write(data, nl);
            // Take in the ways a channel does between writes: whole buffers, or latin1 text.
            const how = takes[i];
            if (how === 'full') {
              const full = out.takeFull();
              if (full !== undefined) got.push(full);
            } else if (how === 'latin1') {
              const t = out.takeLatin1Text();
              if (t !== undefined) got.push(Buffer.from(t, 'latin1'));
            }
          });
          const rest = out.finish();
          if (rest !== undefined) got.push(rest);
          const whole = writes.map(([data, nl]) => (nl ? `${data}\n` : data)).join('');
          expect(Buffer.concat(got)).toEqual(Buffer.from(convertTo(encoding, whole)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('OutputBuffer: text handed out as a latin1 string (a socket takes it as it is)', () => {
  /** Each write's sent part as bytes: what a socket receives from the string or the Buffer. */
  function sentBytes(encoding: string, translation: 'lf' | 'crlf' | 'cr', buffering: 'line' | 'none', writes: [string, boolean][], asText: boolean): string[] {
    const out = new OutputBuffer(encoding, () => createEncoder(encoding), translation, buffering, 4096);
    return writes.map(([data, nl]) => {
      const now = asText ? out.write(data, nl, true) : out.write(data, nl);
      return now === undefined ? '' : typeof now === 'string' ? Buffer.from(now, 'latin1').toString('hex') : now.toString('hex');
    });
  }
  const piece = fc.constantFrom('ping', '', 'a b', '\n', 'x\ny', 'é', 'ÿ', '€', '😀', '\r');
  const writesArb = fc.array(fc.tuple(fc.array(piece, { maxLength: 4 }).map((p) => p.join('')), fc.boolean()), { minLength: 1, maxLength: 8 });

  it('property: as a string, every write sends the bytes the Buffer path sends (every translation, line and none, in and out of range)', () => {
    fc.assert(
      fc.property(fc.constantFrom('iso8859-1', 'ascii', 'utf-8'), fc.constantFrom<'lf' | 'crlf' | 'cr'>('lf', 'crlf', 'cr'), fc.constantFrom<'line' | 'none'>('line', 'none'), writesArb, (encoding, translation, buffering, writes) => {
        expect(sentBytes(encoding, translation, buffering, writes, true)).toEqual(sentBytes(encoding, translation, buffering, writes, false));
      }),
      { numRuns: 1000 },
    );
  });

  it('a line-buffered puts of one line is that line and its end, translated', () => {
    for (const [translation, eol] of [['lf', '\n'], ['crlf', '\r\n'], ['cr', '\r']] as const) {
      const out = new OutputBuffer('iso8859-1', latin1Encoder, translation, 'line', 4096);
      expect(out.write('ping', true, true)).toBe(`ping${eol}`);
      expect(out.write('a\nb', true, true)).toBe(`a${eol}b${eol}`);
      expect(out.bytes).toBe(0);
    }
  });
});
