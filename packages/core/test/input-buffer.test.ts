import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../src/index.js';
import type { InputTranslation } from '../src/index.js';
import { SimpleDecoder } from './helpers/simple-decoder.js';

/**
 * The pure input layer: decoding, Tcl's end-of-line translations, eofchar, and mid-stream changes,
 * with no streams. Property tests: how the bytes are split never changes what gets and read return.
 * (Tcl's `auto` rule "a CR at the end of the available data ends the line at once" only changes
 * *when* a line is returned, not which lines: a later LF is dropped either way. What a nonblocking
 * reader sees per event therefore depends on timing; the sequence of lines does not.)
 */

const utf8 = (): SimpleDecoder => new SimpleDecoder('utf8');

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < bytes.length) out.push(bytes.subarray(from));
  return out;
}

/** Feeds chunks one by one, taking every line as soon as it is there (a nonblocking reader). */
function linesInterleaved(chunks: Buffer[], translation: InputTranslation, eofChar = ''): (string | null)[] {
  const buf = new InputBuffer(utf8(), translation, eofChar);
  const lines: (string | null)[] = [];
  const drain = (): void => {
    for (let i = 0; i < 10_000; i++) {
      const l = buf.getLine();
      if (l === undefined) return;
      lines.push(l);
      if (l === null) return;
    }
  };
  for (const c of chunks) {
    buf.push(c);
    drain();
    if (lines.at(-1) === null) return lines;
  }
  buf.pushEnd();
  drain();
  return lines;
}

const pieces = ['a', 'b', 'xyz', '\r', '\n', '\r\n', 'é', '€', '😀', ' '];
const textArb = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(''));
const cutsArb = fc.array(fc.nat({ max: 200 }), { maxLength: 12 });
const modeArb = fc.constantFrom<InputTranslation>('auto', 'lf', 'cr', 'crlf');

describe('InputBuffer: translations', () => {
  const cases: [InputTranslation, string, (string | null)[]][] = [
    ['lf', 'a\r\nb\n', ['a\r', 'b', null]],
    ['auto', 'a\nb\r\nc\rd', ['a', 'b', 'c', 'd', null]],
    ['cr', 'a\rb\nc\r', ['a', 'b\nc', null]],
    ['crlf', 'a\r\nb\rc\nd\r\n', ['a', 'b\rc\nd', null]],
    ['crlf', 'a\r', ['a\r', null]],
    ['auto', '\n\r\n\r\n', ['', '', '', null]],
  ];
  for (const [mode, text, want] of cases) {
    it(`${mode}: ${JSON.stringify(text)}`, () => {
      expect(linesInterleaved([Buffer.from(text)], mode)).toEqual(want);
    });
  }

  it('auto: a CR at the end of the data ends the line at once; the later LF is dropped', () => {
    const buf = new InputBuffer(utf8(), 'auto');
    buf.push(Buffer.from('x\r'));
    expect(buf.getLine()).toBe('x');
    expect(buf.getLine()).toBeUndefined();
    buf.push(Buffer.from('\ny\n'));
    expect(buf.getLine()).toBe('y');
  });

  it('crlf: a trailing CR is held back until the next byte', () => {
    const buf = new InputBuffer(utf8(), 'crlf');
    buf.push(Buffer.from('a\r'));
    expect(buf.readChars(undefined, false)).toEqual(['a', false]);
    buf.push(Buffer.from('\n'));
    expect(buf.readChars(undefined, false)).toEqual(['\n', false]);
  });

  it('a multibyte character split anywhere is held until complete', () => {
    const bytes = Buffer.from('€😀\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      const buf = new InputBuffer(utf8(), 'lf');
      buf.push(bytes.subarray(0, cut));
      const first = buf.readChars(undefined, false);
      buf.push(bytes.subarray(cut));
      const second = buf.readChars(undefined, false);
      expect((first?.[0] ?? '') + (second?.[0] ?? '')).toBe('€😀\n');
    }
  });

  it('eofchar ends the input; eof is set by the operation that reaches it (tclsh: ab eof 0, then -1 eof 1)', () => {
    const buf = new InputBuffer(utf8(), 'auto', '\x1a');
    buf.push(Buffer.from('ab\n\x1acd\n'));
    expect(buf.getLine()).toBe('ab');
    expect(buf.eof).toBe(false);
    expect(buf.getLine()).toBeNull();
    expect(buf.eof).toBe(true);
  });

  it('readChars counts translated characters', () => {
    const buf = new InputBuffer(utf8(), 'crlf');
    buf.push(Buffer.from('ab\r\ncd'));
    expect(buf.readChars(3, true)).toEqual(['ab\n', true]);
    expect(buf.readChars(3, true)).toBeUndefined();
    buf.pushEnd();
    expect(buf.readChars(3, true)).toEqual(['cd', true]);
    expect(buf.eof).toBe(true);
  });
});

describe('InputBuffer: mid-stream changes lose and re-decode nothing', () => {
  it('crlf header lines, then a binary body in the same chunk', () => {
    const body = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0xc3, 0xa9, 0x0d]);
    const wire = Buffer.concat([Buffer.from('Head: é\r\nX: 1\r\n\r\n'), body]);
    const buf = new InputBuffer(utf8(), 'crlf');
    buf.push(wire);
    buf.pushEnd();
    expect(buf.getLine()).toBe('Head: é');
    expect(buf.getLine()).toBe('X: 1');
    expect(buf.getLine()).toBe('');
    expect(buf.readBytes(undefined, true)?.[0]).toEqual(body);
  });

  it('translation and encoding change after gets: the rest is decoded the new way', () => {
    const wire = Buffer.concat([Buffer.from('é\r\n'), Buffer.from([0xe9, 0x0d, 0x0a, 0x41])]);
    const buf = new InputBuffer(utf8(), 'crlf');
    buf.push(wire);
    buf.pushEnd();
    expect(buf.getLine()).toBe('é');
    buf.setTranslation('lf');
    buf.setDecoder(new SimpleDecoder('latin1'));
    expect(buf.readChars(undefined, true)).toEqual(['é\r\nA', true]);
  });

  it('property: any split, gets in crlf then the body as bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }).filter((s) => !/[\r\n]/.test(s)), { maxLength: 4 }), fc.uint8Array({ maxLength: 40 }), cutsArb, (heads, bodyArr, cuts) => {
        const body = Buffer.from(bodyArr);
        const head = heads.map((h) => h + '\r\n').join('') + '\r\n';
        const chunks = split(Buffer.concat([Buffer.from(head), body]), cuts);
        const buf = new InputBuffer(utf8(), 'crlf');
        for (const c of chunks) buf.push(c);
        buf.pushEnd();
        const got: string[] = [];
        for (let i = 0; i <= heads.length; i++) got.push(buf.getLine() ?? '<null>');
        expect(got).toEqual([...heads, '']);
        expect(buf.readBytes(undefined, true)?.[0]).toEqual(body);
      }),
      { numRuns: 300 },
    );
  });
});

describe('InputBuffer: re-chunking never changes the result', () => {
  it('gets, every mode', () => {
    fc.assert(
      fc.property(textArb, cutsArb, modeArb, fc.boolean(), (text, cuts, mode, withEof) => {
        const bytes = Buffer.from(text);
        const eofChar = withEof ? '\x1a' : '';
        const whole = linesInterleaved([bytes], mode, eofChar);
        expect(linesInterleaved(split(bytes, cuts), mode, eofChar)).toEqual(whole);
      }),
      { numRuns: 1000 },
    );
  });

  it('read, every mode', () => {
    fc.assert(
      fc.property(textArb, cutsArb, modeArb, (text, cuts, mode) => {
        const bytes = Buffer.from(text);
        const readAll = (chunks: Buffer[]): string => {
          const buf = new InputBuffer(utf8(), mode);
          let out = '';
          for (const c of chunks) {
            buf.push(c);
            out += buf.readChars(undefined, false)?.[0] ?? '';
          }
          buf.pushEnd();
          out += buf.readChars(undefined, true)?.[0] ?? '';
          return out;
        };
        expect(readAll(split(bytes, cuts))).toBe(readAll([bytes]));
      }),
      { numRuns: 1000 },
    );
  });

  it('read N, every mode', () => {
    fc.assert(
      fc.property(textArb, cutsArb, modeArb, fc.integer({ min: 1, max: 7 }), (text, cuts, mode, n) => {
        const bytes = Buffer.from(text);
        const readN = (chunks: Buffer[]): string[] => {
          const buf = new InputBuffer(utf8(), mode);
          for (const c of chunks) buf.push(c);
          buf.pushEnd();
          const parts: string[] = [];
          for (let i = 0; i < 1000; i++) {
            const r = buf.readChars(n, true);
            if (r === undefined || r[0] === '') break;
            parts.push(r[0]);
          }
          return parts;
        };
        expect(readN(split(bytes, cuts))).toEqual(readN([bytes]));
      }),
      { numRuns: 500 },
    );
  });
});
