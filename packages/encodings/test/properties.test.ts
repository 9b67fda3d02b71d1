// Property tests: for every encoding and profile, random bytes in random chunkings decode exactly
// as in one piece (text and error), and tcl8 never fails; random text in random pieces encodes
// exactly as in one piece. Runs are bounded (numRuns per encoding and profile).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertTo, createDecoder, createEncoder, encodingNames } from '../src/index.js';
import type { EncodingProfile } from '../src/index.js';

const PROFILES: EncodingProfile[] = ['tcl8', 'strict', 'replace'];
const RUNS = 25;

/** Byte values that exercise lead bytes, escapes and invalid sequences more often than chance. */
const interestingByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x00, 0x0a, 0x0e, 0x0f, 0x1b, 0x24, 0x28, 0x42, 0x80, 0x82, 0x8f, 0xa4, 0xc0, 0xe2, 0xed, 0xf0, 0xff),
);
const bytesArb = fc.array(interestingByte, { maxLength: 60 }).map((xs) => Uint8Array.from(xs));
const cutsArb = fc.array(fc.nat(), { maxLength: 6 });

function split<T extends { length: number; slice(a: number, b: number): T }>(whole: T, cuts: number[]): T[] {
  const points = [...new Set(cuts.map((c) => (whole.length === 0 ? 0 : c % (whole.length + 1))))].sort((a, b) => a - b);
  const parts: T[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(whole.slice(last, p));
    last = p;
  }
  parts.push(whole.slice(last, whole.length));
  return parts;
}

function decodeAll(name: string, profile: EncodingProfile, parts: Uint8Array[]): { text: string; error: string | undefined } {
  const d = createDecoder(name, { profile });
  let text = '';
  for (const p of parts) text += d.decode(p);
  text += d.end();
  return { text, error: d.error?.message };
}

function encodeAll(name: string, profile: EncodingProfile, parts: string[]): { hex: string; error: string | undefined } {
  const e = createEncoder(name, { profile });
  const out: Uint8Array[] = parts.map((p) => e.encode(p));
  out.push(e.end());
  return { hex: Buffer.concat(out).toString('hex'), error: e.error?.message };
}

const textArb = fc.array(
  fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('\u3042', '\u4e2d', '\uac00', '\u00e9', '\u20ac', '\ud83d', '\ude00', '\u{1F600}', '\0', '\n', '\uff71'),
  ),
  { maxLength: 12 },
).map((xs) => xs.join(''));

describe('decoding does not depend on chunking', () => {
  for (const name of encodingNames()) {
    it(name, () => {
      for (const profile of PROFILES) {
        fc.assert(
          fc.property(bytesArb, cutsArb, (bytes, cuts) => {
            const whole = decodeAll(name, profile, [bytes]);
            expect(decodeAll(name, profile, split(bytes, cuts))).toEqual(whole);
            if (profile === 'tcl8') expect(whole.error).toBeUndefined();
          }),
          { numRuns: RUNS },
        );
      }
    });
  }
});

describe('encoding does not depend on how the text is cut', () => {
  for (const name of encodingNames()) {
    it(name, () => {
      for (const profile of PROFILES) {
        fc.assert(
          fc.property(textArb, cutsArb, (text, cuts) => {
            const whole = encodeAll(name, profile, [text]);
            expect(encodeAll(name, profile, split(text, cuts))).toEqual(whole);
            if (profile === 'tcl8' || name === 'identity') expect(whole.error).toBeUndefined();
          }),
          { numRuns: RUNS },
        );
      }
    });
  }
});

describe('convertTo writes what the streaming encoder writes for the text in one piece', () => {
  // utf-8 and iso8859-1 take a one-shot path; long texts (over 512 units) take utf-8's scratch area.
  const longTextArb = fc.tuple(textArb, fc.nat({ max: 700 }), textArb).map(([a, n, b]) => a + 'x\u00e9'.repeat(n) + b);
  for (const name of ['utf-8', 'iso8859-1']) {
    it(name, () => {
      for (const profile of PROFILES) {
        fc.assert(
          fc.property(fc.oneof(textArb, longTextArb), (text) => {
            const whole = encodeAll(name, profile, [text]);
            let got: { hex: string; error: string | undefined };
            try {
              got = { hex: Buffer.from(convertTo(name, text, { profile })).toString('hex'), error: undefined };
            } catch (err) {
              got = { hex: whole.hex, error: (err as Error).message };
            }
            expect(got).toEqual(whole);
          }),
          { numRuns: 100 },
        );
      }
    });
  }
});

describe('clone', () => {
  it('continues exactly as the original would', () => {
    fc.assert(
      fc.property(fc.constantFrom(...encodingNames()), bytesArb, fc.nat(), (name, bytes, at) => {
        const cut = bytes.length === 0 ? 0 : at % (bytes.length + 1);
        const d = createDecoder(name);
        const head = d.decode(bytes.subarray(0, cut));
        const copy = d.clone();
        const rest = d.decode(bytes.subarray(cut)) + d.end();
        expect(copy.decode(bytes.subarray(cut)) + copy.end()).toBe(rest);
        expect(head + rest).toBe(decodeAll(name, 'tcl8', [bytes]).text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('mark and fromMark', () => {
  it('a decoder made from a mark continues exactly as the original would: text, error and its index', () => {
    fc.assert(
      fc.property(fc.constantFrom(...encodingNames()), fc.constantFrom(...PROFILES), bytesArb, fc.nat(), (name, profile, bytes, at) => {
        const cut = bytes.length === 0 ? 0 : at % (bytes.length + 1);
        const d = createDecoder(name, { profile });
        d.decode(bytes.subarray(0, cut));
        const mark = d.mark();
        // A number exactly when the state is only the offset: nothing held, no error.
        if (typeof mark === 'number') {
          expect(d.pending).toBe(0);
          expect(d.error).toBeUndefined();
        } else if (d.pending === 0 && d.error === undefined) {
          // Only a shift state (an escape encoding after an escape sequence) needs a copy then.
          expect(name).toMatch(/^iso2022/);
        }
        const again = d.fromMark(mark);
        const rest = d.decode(bytes.subarray(cut));
        const restEnd = d.end();
        expect(again.decode(bytes.subarray(cut))).toBe(rest);
        expect(again.end()).toBe(restEnd);
        expect(again.error?.message).toBe(d.error?.message);
      }),
      { numRuns: 400 },
    );
  });

  it('marks are numbers on the usual paths (no copy per chunk): the stream offset', () => {
    const latin1 = createDecoder('iso8859-1');
    expect(latin1.mark()).toBe(0);
    latin1.decode(Buffer.from('ping\n'));
    expect(latin1.mark()).toBe(5);
    const utf8 = createDecoder('utf-8');
    utf8.decode(Buffer.from([0x61, 0xe2, 0x82]));
    expect(typeof utf8.mark()).toBe('object'); // two bytes of a three-byte sequence held
    utf8.decode(Buffer.from([0xac]));
    expect(utf8.mark()).toBe(4);
    // The offset is what a strict error counts from.
    const strict = createDecoder('utf-8', { profile: 'strict' });
    strict.decode(Buffer.from('abc'));
    const later = strict.fromMark(strict.mark());
    later.decode(Buffer.from([0x64, 0xff]));
    expect(later.error?.message).toBe("unexpected byte sequence starting at index 4: '\\xFF'");
  });
});
