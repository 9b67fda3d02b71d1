import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../src/index.js';
import type { InputTranslation, StreamDecoder } from '../src/index.js';
import { createDecoder } from '@sockchan/encodings';
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

/** Takes the lines that are there into `lines` (up to `upTo` in all), stopping at the end of input. */
function takeLines(buf: InputBuffer, lines: (string | null)[], upTo = Infinity): void {
  for (let i = 0; i < 10_000 && lines.length < upTo; i++) {
    const l = buf.getLine();
    if (l === undefined) return;
    lines.push(l);
    if (l === null) return;
  }
}

/** Feeds chunks one by one, taking every line as soon as it is there (a nonblocking reader). */
function linesInterleaved(chunks: Buffer[], translation: InputTranslation, eofChar = ''): (string | null)[] {
  const buf = new InputBuffer(utf8(), translation, eofChar);
  const lines: (string | null)[] = [];
  const drain = (): void => takeLines(buf, lines);
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

describe("InputBuffer with @sockchan/encodings' decoders: anchors keep a mark, not a copy", () => {
  /** Lines of the head in `crlf`, then a change of translation and encoding, then the rest as text. */
  function headThenRest(decoder: StreamDecoder, chunks: Buffer[], lines: number): [(string | null | undefined)[], [string, boolean] | undefined, string | undefined] {
    const buf = new InputBuffer(decoder, 'crlf');
    for (const c of chunks) buf.push(c);
    buf.pushEnd();
    const got: (string | null | undefined)[] = [];
    for (let i = 0; i < lines; i++) got.push(buf.getLine());
    buf.setTranslation('lf');
    buf.setDecoder(createDecoder('iso8859-1'));
    return [got, buf.readChars(undefined, true), buf.decodeError?.message];
  }

  it('property: any split (a character cut at a chunk edge included) gives what the copying decoder gives', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6, unit: 'binary' }).filter((x) => !/[\r\n]/.test(x)), { maxLength: 4 }), fc.uint8Array({ maxLength: 30 }), cutsArb, (heads, bodyArr, cuts) => {
        const wire = Buffer.concat([Buffer.from(heads.map((h) => h + '\r\n').join('')), Buffer.from(bodyArr)]);
        const chunks = split(wire, cuts);
        const real = createDecoder('utf-8');
        expect(typeof real.mark()).toBe('number');
        expect(headThenRest(real, chunks, heads.length)).toEqual(headThenRest(utf8(), chunks, heads.length));
      }),
      { numRuns: 300 },
    );
  });

  it('a strict error after a rewind counts its index from the start of the stream', () => {
    const buf = new InputBuffer(createDecoder('utf-8', { profile: 'strict' }), 'auto');
    buf.push(Buffer.from('x\n'));
    expect(buf.getLine()).toBe('x');
    // One chunk: decoding it for its first line met the error already; the change of translation
    // gives the decoded rest back and decodes it again from the anchor's mark (offset 2).
    buf.push(Buffer.from([0x61, 0x62, 0x0a, 0x63, 0xff, 0x0a]));
    buf.pushEnd();
    expect(buf.getLine()).toBe('ab');
    buf.setTranslation('lf');
    expect(buf.getLine()).toBe('c');
    expect(buf.decodeError?.message).toBe("unexpected byte sequence starting at index 6: '\\xFF'");
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

describe('InputBuffer: issue 15, input side (tclsh 8.6.13 gives the answers quoted)', () => {
  it('gets takes a buffered CR LF whole: A CR LF CR LF BODY, gets, gets, then bytes give BODY', () => {
    const buf = new InputBuffer(utf8(), 'auto');
    buf.push(Buffer.from('A\r\n\r\nBODY'));
    buf.pushEnd();
    expect(buf.getLine()).toBe('A');
    expect(buf.getLine()).toBe('');
    expect(buf.readBytes(undefined, true)?.[0].toString('latin1')).toBe('BODY');
  });

  it('read N that stops after the CR leaves the LF (tclsh: read 2 of A CR LF B, then binary gives LF B)', () => {
    const buf = new InputBuffer(utf8(), 'auto');
    buf.push(Buffer.from('A\r\nB'));
    buf.pushEnd();
    expect(buf.readChars(2, true)?.[0]).toBe('A\n');
    buf.setTranslation('lf');
    expect(buf.readChars(undefined, true)?.[0]).toBe('\nB');
  });

  it('a gets after such a read N takes the LF again (gets, then binary)', () => {
    const buf = new InputBuffer(utf8(), 'auto');
    buf.push(Buffer.from('A\r\nB\r\nC'));
    buf.pushEnd();
    expect(buf.readChars(1, true)?.[0]).toBe('A');
    expect(buf.getLine()).toBe('');
    expect(buf.getLine()).toBe('B');
    expect(buf.readBytes(undefined, true)?.[0].toString('latin1')).toBe('C');
  });

  it('property: headers by gets in auto, body by readBytes: exact unless a read ended between the blank line CR and its LF', () => {
    const headArb = fc.array(fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/[\r\n]/.test(s)), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(headArb, fc.uint8Array({ maxLength: 40 }), cutsArb, (heads, bodyArr, cuts) => {
        const body = Buffer.from(bodyArr);
        const head = Buffer.from(heads.map((h) => h + '\r\n').join('') + '\r\n');
        const wire = Buffer.concat([head, body]);
        const chunks = split(wire, cuts);
        // Network order: each chunk is one read; lines are taken as soon as they are there.
        const buf = new InputBuffer(utf8(), 'auto');
        const lines: string[] = [];
        let ended = false;
        for (const c of chunks) {
          buf.push(c);
          for (let i = 0; i < 100 && !ended; i++) {
            const l = buf.getLine();
            if (l === undefined || l === null) break;
            if (l === '') ended = true;
            else lines.push(l);
          }
        }
        buf.pushEnd();
        expect(lines).toEqual(heads);
        expect(ended).toBe(true);
        // A cut right after the blank line's CR: that gets returned at the CR, the LF came in a
        // later read, and Tcl gives it back to the binary read.
        let at = 0;
        const cutAfterBlankCr = chunks.some((c) => (at += c.length) === head.length - 1);
        const expected = cutAfterBlankCr ? Buffer.concat([Buffer.from('\n'), body]) : body;
        expect(buf.readBytes(undefined, true)?.[0].toString('hex')).toBe(expected.toString('hex'));
      }),
      { numRuns: 1000 },
    );
  });

  it('eofchar: eof only once an operation reaches it (tclsh: ab eof 0, cd eof 1, -1 eof 1)', () => {
    const buf = new InputBuffer(utf8(), 'auto', '\x1a');
    buf.push(Buffer.from('ab\ncd\x1aef\n'));
    expect(buf.getLine()).toBe('ab');
    expect(buf.eof).toBe(false);
    expect(buf.pendingInput).toBe(6);
    expect(buf.getLine()).toBe('cd');
    expect(buf.eof).toBe(true);
    expect(buf.pendingInput).toBe(4);
    expect(buf.getLine()).toBeNull();
  });

  it('eofchar cleared after it was met: the rest comes back (tclsh: \\x1aef)', () => {
    const buf = new InputBuffer(utf8(), 'lf', '\x1a');
    buf.push(Buffer.from('ab\ncd\x1aef\n'));
    buf.pushEnd();
    expect(buf.getLine()).toBe('ab');
    expect(buf.getLine()).toBe('cd');
    buf.setEofChar('');
    expect(buf.eof).toBe(false);
    expect(buf.getLine()).toBe('\x1aef');
    expect(buf.getLine()).toBeNull();
  });

  it('eofchar met by readBytes: the bytes after it stay buffered', () => {
    const buf = new InputBuffer(utf8(), 'lf', '\x1a');
    buf.push(Buffer.from('ab\x1acd'));
    buf.pushEnd();
    expect(buf.readBytes(undefined, true)?.[0].toString('latin1')).toBe('ab');
    expect(buf.eof).toBe(true);
    buf.setEofChar('');
    expect(buf.readBytes(undefined, true)?.[0].toString('latin1')).toBe('\x1acd');
  });

  it('property: any split, gets with an eofchar: the lines, and eof after each, as without splits', () => {
    const lf = fc.array(fc.constantFrom('a', 'b', '\n', '\x1a'), { maxLength: 30 }).map((a) => a.join(''));
    fc.assert(
      fc.property(lf, cutsArb, fc.boolean(), (text, cuts, end) => {
        const run = (chunks: Buffer[]): string[] => {
          const buf = new InputBuffer(utf8(), 'lf', '\x1a');
          const out: string[] = [];
          const drain = (): void => {
            for (let i = 0; i < 100; i++) {
              const l = buf.getLine();
              if (l === undefined) return;
              out.push(`${l ?? '<null>'} eof=${String(buf.eof)}`);
              if (l === null) return;
            }
          };
          for (const c of chunks) {
            buf.push(c);
            drain();
          }
          if (end) buf.pushEnd();
          drain();
          return out.filter((x, i) => !(x === out[i - 1] && x.startsWith('<null>')));
        };
        const bytes = Buffer.from(text);
        const whole = run([bytes]);
        // Tcl's answer: the complete lines before the eofchar with eof 0; a partial last line with eof 1.
        const k = text.indexOf('\x1a');
        const data = k >= 0 ? text.slice(0, k) : text;
        const parts = data.split('\n');
        const last = parts.pop() as string;
        const expected = parts.map((p) => `${p} eof=false`);
        if (k >= 0 || end) {
          if (last !== '') expected.push(`${last} eof=true`);
          expected.push('<null> eof=true');
        }
        expect(whole).toEqual(expected);
        expect(run(split(bytes, cuts))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('a line of 1,000 chunks arrives intact in every mode (each chunk searched once, joined once)', () => {
    const modes: [InputTranslation, string, string][] = [
      ['lf', 'x\r', '\n'],
      ['auto', 'xy', '\r\n'],
      ['cr', 'x\n', '\r'],
      ['crlf', 'x\n\r', '\r\n'],
    ];
    for (const [mode, unit, end] of modes) {
      const buf = new InputBuffer(utf8(), mode);
      const piece = unit.repeat(500);
      for (let i = 0; i < 1000; i++) {
        buf.push(Buffer.from(piece));
        expect(buf.getLine()).toBeUndefined();
      }
      buf.push(Buffer.from(`${end}next${end}`));
      const line = buf.getLine();
      expect(line?.length).toBe(piece.length * 1000);
      expect(line === piece.repeat(1000)).toBe(true);
      expect(buf.getLine()).toBe('next');
    }
  });
});

describe('InputBuffer: a chunk that is one whole line (how a line protocol peer sends)', () => {
  /** Cuts after every LF byte: each chunk but maybe the last ends with a line, as request/response peers send. */
  function cutAfterEachLf(bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) {
      out.push(bytes.subarray(from, i + 1));
      from = i + 1;
    }
    if (from < bytes.length) out.push(bytes.subarray(from));
    return out;
  }
  const oneByteEach = (bytes: Buffer): Buffer[] => [...bytes].map((b) => Buffer.from([b]));

  /**
   * Takes `before` lines as a nonblocking reader does (each as soon as it is there), then
   * switches to `lf` and iso8859-1 (the decoded rest goes back to bytes), then takes everything
   * left as characters: the lines, what the switch found, and the rest.
   */
  function linesThenSwitch(chunks: Buffer[], mode: InputTranslation, strict: boolean, before: number): unknown[] {
    const buf = new InputBuffer(createDecoder('utf-8', { profile: strict ? 'strict' : 'tcl8' }), mode);
    buf.tclUtf8Hold = true;
    const lines: (string | null)[] = [];
    let switched = false;
    const take = (): void => {
      if (switched) return;
      takeLines(buf, lines, before);
      if (lines.length === before) {
        buf.setTranslation('lf');
        buf.setDecoder(createDecoder('iso8859-1'));
        switched = true;
      }
    };
    for (const c of chunks) {
      buf.push(c);
      take();
    }
    buf.pushEnd();
    take();
    return [lines, buf.readChars(undefined, true), buf.decodeError?.message];
  }

  // utf-8 pieces, and two invalid sequences: a stray 0xFF and a truncated 3-byte one.
  const lineBytes = fc
    .array(fc.constantFrom(...['a', 'xyz', 'é', '€', ' ', '\r', '\r\n', '\n', '\n'].map((p) => Buffer.from(p)), Buffer.from([0xff]), Buffer.from([0xe2, 0x82])), { maxLength: 30 })
    .map((parts) => Buffer.concat(parts));

  it('property: lines cut after each LF, then a switch, give what one byte per chunk gives (lf lines, utf-8 as Tcl reads it, lenient and strict)', () => {
    fc.assert(
      fc.property(lineBytes, fc.boolean(), fc.nat({ max: 6 }), (bytes, strict, before) => {
        expect(linesThenSwitch(cutAfterEachLf(bytes), 'lf', strict, before)).toEqual(linesThenSwitch(oneByteEach(bytes), 'lf', strict, before));
      }),
      { numRuns: 1000 },
    );
  });

  it('property: lines cut after each LF give the lines one chunk gives, every mode, eofchar or not', () => {
    fc.assert(
      fc.property(textArb, modeArb, fc.boolean(), (text, mode, withEof) => {
        const bytes = Buffer.from(text);
        const eofChar = withEof ? '\x1a' : '';
        expect(linesInterleaved(cutAfterEachLf(bytes), mode, eofChar)).toEqual(linesInterleaved([bytes], mode, eofChar));
      }),
      { numRuns: 1000 },
    );
  });

  it('utf-8 as Tcl reads it: a chunk ending in a LF whose last two bytes Tcl holds is not a whole line yet (vector utf8-trunc-eol)', () => {
    const buf = new InputBuffer(createDecoder('utf-8'), 'auto');
    buf.tclUtf8Hold = true;
    buf.push(Buffer.from([0x61, 0xe2, 0x82, 0x0a]));
    expect(buf.getLine()).toBeUndefined();
    buf.pushEnd();
    expect([buf.getLine(), buf.getLine()]).toEqual(['aâ\u0082', null]);
  });

  it('a whole-line chunk is taken at once, and what follows a partial one still waits for its end', () => {
    const buf = new InputBuffer(createDecoder('iso8859-1'), 'auto');
    buf.push(Buffer.from('GET / HTTP/1.0\r\n'));
    expect(buf.getLine()).toBe('GET / HTTP/1.0');
    expect(buf.pendingInput).toBe(0);
    buf.push(Buffer.from('Host: a'));
    expect(buf.getLine()).toBeUndefined();
    buf.push(Buffer.from('\r\n'));
    expect(buf.getLine()).toBe('Host: a');
    // Two lines in one chunk: the first is taken, the second stays buffered, with its bytes.
    buf.push(Buffer.from('x\ny\n'));
    expect(buf.getLine()).toBe('x');
    expect(buf.pendingInput).toBe(2);
    buf.setTranslation('lf');
    expect(buf.readBytes(undefined, false)?.[0]).toEqual(Buffer.from('y\n'));
  });
});
