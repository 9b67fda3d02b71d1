import { SockchanError } from '@sockchan/base';
import { describe, expect, it } from 'vitest';
import {
  convertFrom,
  convertTo,
  createDecoder,
  createEncoder,
  isEncodingName,
  resolveEncodingName,
  systemEncoding,
} from '../src/index.js';
import type { EncodingProfile } from '../src/index.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const units = (s: string): string[] => [...s].flatMap((ch) => [...Array(ch.length).keys()].map((k) => ch.charCodeAt(k).toString(16).padStart(4, '0')));

function thrown(fn: () => unknown): SockchanError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SockchanError);
    return err as SockchanError;
  }
  throw new Error('expected an error');
}

describe('names', () => {
  it('fails on an unknown name with Tcl text, code and errorCode', () => {
    const err = thrown(() => resolveEncodingName('latin1'));
    expect(err.message).toBe('unknown encoding "latin1"');
    expect(err.code).toBe('ERR_SOCKCHAN_ENCODING');
    expect(err.errorCode).toEqual(['TCL', 'LOOKUP', 'ENCODING', 'latin1']);
    expect(thrown(() => createDecoder('UTF-8')).message).toBe('unknown encoding "UTF-8"');
    expect(thrown(() => convertTo('utf8', 'x')).message).toBe('unknown encoding "utf8"');
  });

  it('are exact and case-sensitive, as in Tcl', () => {
    expect(isEncodingName('macRoman')).toBe(true);
    expect(isEncodingName('macroman')).toBe(false);
    expect(isEncodingName('binary')).toBe(true);
    expect(resolveEncodingName('shiftjis')).toBe('shiftjis');
  });

  it('rejects a bad profile name', () => {
    const err = thrown(() => createDecoder('utf-8', { profile: 'lenient' as EncodingProfile }));
    expect(err.message).toBe('bad profile name "lenient": must be replace, strict, or tcl8');
  });
});

describe('utf-8', () => {
  it('reads as Tcl 8.6 under tcl8: C0 80 is NUL, invalid bytes are Latin-1, CESU surrogates', () => {
    expect(convertFrom('utf-8', hex('c080 41 ff c0af eda0bd edb880 f09f9880'))).toBe('\0A\u00ff\u00c0\u00af\u{1F600}\u{1F600}');
    expect(units(convertFrom('utf-8', hex('eda080')))).toEqual(['d800']);
    expect(convertFrom('utf-8', hex('61 e282'))).toBe('a\u00e2\u0082');
  });

  it('holds a cut sequence until the next chunk', () => {
    const d = createDecoder('utf-8');
    expect(d.decode(hex('61e2'))).toBe('a');
    expect(d.pending).toBe(1);
    expect(d.decode(hex('82'))).toBe('');
    expect(d.pending).toBe(2);
    expect(d.decode(hex('ac62'))).toBe('\u20acb');
    expect(d.pending).toBe(0);
    expect(d.decode(hex('f09f98'))).toBe('');
    expect(d.decode(hex('80'))).toBe('\u{1F600}');
  });

  it('strict: the good text first, then an error naming the stream offset', () => {
    const d = createDecoder('utf-8', { profile: 'strict' });
    expect(d.decode(hex('6162'))).toBe('ab');
    expect(d.decode(hex('63ff64'))).toBe('c');
    expect(d.error?.message).toBe("unexpected byte sequence starting at index 3: '\\xFF'");
    expect(d.error?.code).toBe('EILSEQ');
    expect(d.decode(hex('65'))).toBe('');
    d.reset();
    expect(d.error).toBeUndefined();
    expect(d.decode(hex('65'))).toBe('e');
  });

  it('strict: rejects C0 80, surrogates and a sequence cut by the end', () => {
    expect(thrown(() => convertFrom('utf-8', hex('41c080'), { profile: 'strict' })).message).toBe("unexpected byte sequence starting at index 1: '\\xC0'");
    expect(thrown(() => convertFrom('utf-8', hex('eda080'), { profile: 'strict' })).message).toBe("unexpected byte sequence starting at index 0: '\\xED'");
    const d = createDecoder('utf-8', { profile: 'strict' });
    expect(d.decode(hex('41e282'))).toBe('A');
    expect(d.end()).toBe('');
    expect(d.error?.message).toBe("unexpected byte sequence starting at index 1: '\\xE2'");
  });

  it('strict: an error in a sequence held from the previous chunk points at its lead byte', () => {
    const d = createDecoder('utf-8', { profile: 'strict' });
    expect(d.decode(hex('4142e2'))).toBe('AB');
    expect(d.decode(hex('41'))).toBe('');
    expect(d.error?.message).toBe("unexpected byte sequence starting at index 2: '\\xE2'");
  });

  it('replace: U+FFFD for each maximal invalid subpart', () => {
    expect(convertFrom('utf-8', hex('61ff62 e282 63'), { profile: 'replace' })).toBe('a\ufffdb\ufffdc');
    expect(convertFrom('utf-8', hex('61e282'), { profile: 'replace' })).toBe('a\ufffd');
  });

  it('writes NUL as 00 and a lone surrogate in its 3-byte form (tcl8)', () => {
    expect(hexOf(convertTo('utf-8', 'a\0\u00e9\u{1F600}'))).toBe('6100c3a9f09f9880');
    expect(hexOf(convertTo('utf-8', 'a\ud800b\udc00'))).toBe('61eda08062edb080');
    expect(hexOf(convertTo('utf-8', 'a\ud800', { profile: 'replace' }))).toBe('61efbfbd');
    const err = thrown(() => convertTo('utf-8', 'a\u{1F600}\udc00', { profile: 'strict' }));
    expect(err.message).toBe("unexpected character at index 2: 'U+00DC00'");
  });

  it('pairs a high surrogate at the end of one text with a low one at the start of the next', () => {
    const e = createEncoder('utf-8');
    expect(hexOf(e.encode('a\ud83d'))).toBe('61');
    expect(hexOf(e.encode('\ude00b'))).toBe('f09f988062');
    expect(hexOf(e.encode('\ud83d'))).toBe('');
    expect(hexOf(e.end())).toBe('eda0bd');
  });

  it('clones a decoder mid-sequence', () => {
    const d = createDecoder('utf-8');
    d.decode(hex('41e282'));
    const copy = d.clone();
    expect(d.decode(hex('ac'))).toBe('\u20ac');
    expect(copy.pending).toBe(2);
    expect(copy.decode(hex('41'))).toBe('\u00e2\u0082A');
  });
});

describe('single-byte and table encodings', () => {
  it('ascii reads high bytes as Latin-1 and writes U+007F and above as ?', () => {
    expect(convertFrom('ascii', hex('61e980ff7f'))).toBe('a\u00e9\u0080\u00ff\u007f');
    expect(hexOf(convertTo('ascii', 'a\x7f\u00e9'))).toBe('613f3f');
    expect(thrown(() => convertFrom('ascii', hex('4180'), { profile: 'strict' })).message).toBe("unexpected byte sequence starting at index 1: '\\x80'");
    expect(convertFrom('ascii', hex('4180'), { profile: 'replace' })).toBe('A\ufffd');
  });

  it('iso8859-1 and binary', () => {
    expect(hexOf(convertTo('iso8859-1', '\u00e9\u0141'))).toBe('e93f');
    expect(hexOf(convertTo('binary', '\u00e9\u0141'))).toBe('e941');
    expect(convertFrom('binary', hex('ff00'))).toBe('\u00ff\0');
    expect(thrown(() => convertTo('iso8859-1', 'A\u{1F600}', { profile: 'strict' })).message).toBe("unexpected character at index 1: 'U+01F600'");
    expect(hexOf(convertTo('iso8859-1', 'A\u{1F600}', { profile: 'replace' }))).toBe('413f');
    expect(hexOf(convertTo('iso8859-1', 'A\u{1F600}'))).toBe('413f3f');
  });

  it("cp1252's undefined slots are the C1 controls, both ways", () => {
    expect(convertFrom('cp1252', hex('80818d9f'))).toBe('\u20ac\u0081\u008d\u0178');
    expect(hexOf(convertTo('cp1252', '\u20ac\u0081'))).toBe('8081');
  });

  it('shiftjis is not cp932, and euc-jp has no JIS X 0212', () => {
    expect(convertFrom('cp932', hex('8740'))).toBe('\u2460');
    expect(convertFrom('shiftjis', hex('8740'))).toBe('\u0087@');
    expect(convertFrom('euc-jp', hex('8fb0a1'))).toBe('\u008f\u4e9c');
    expect(convertFrom('shiftjis', hex('820aa0'))).toBe('\u0082\n\u00a0');
  });

  it('drops a lead byte cut by the end (tcl8), or reports it', () => {
    expect(convertFrom('shiftjis', hex('6182'))).toBe('a');
    expect(convertFrom('shiftjis', hex('6182'), { profile: 'replace' })).toBe('a\ufffd');
    expect(thrown(() => convertFrom('shiftjis', hex('6182'), { profile: 'strict' })).message).toBe("unexpected byte sequence starting at index 1: '\\x82'");
    const d = createDecoder('shiftjis');
    expect(d.decode(hex('6182'))).toBe('a');
    expect(d.pending).toBe(1);
    expect(d.decode(hex('a0'))).toBe('\u3042');
  });

  it('writes the table fallback for what it cannot encode', () => {
    expect(hexOf(convertTo('shiftjis', 'a\u00e9\u3042'))).toBe('613f82a0');
    expect(hexOf(convertTo('jis0208', '\u3042\u00e9'))).toBe('24222129');
    expect(thrown(() => convertTo('shiftjis', 'a\u00e9', { profile: 'strict' })).message).toBe("unexpected character at index 1: 'U+0000E9'");
  });
});

describe('unicode', () => {
  it('is UTF-16 in machine order; an odd byte and a high surrogate at the end are dropped', () => {
    expect(convertFrom('unicode', hex('6100e90062'))).toBe('a\u00e9');
    expect(units(convertFrom('unicode', hex('41003dd8')))).toEqual(['0041']);
    expect(units(convertFrom('unicode', hex('3dd84100')))).toEqual(['d83d', '0041']);
    expect(hexOf(convertTo('unicode', 'a\ud83d'))).toBe('61003dd8');
    expect(convertFrom('unicode', hex('3dd84100'), { profile: 'replace' })).toBe('\ufffdA');
  });
});

describe('escape encodings', () => {
  it('iso2022-jp switches and returns to ASCII only at the end', () => {
    expect(hexOf(convertTo('iso2022-jp', 'a\u3042'))).toBe('611b244224221b2842');
    const e = createEncoder('iso2022-jp');
    const parts = [e.encode('a\u3042'), e.encode('\u3044'), e.end()].map(hexOf);
    expect(parts).toEqual(['611b24422422', '2424', '1b2842']);
    expect(convertFrom('iso2022-jp', hex('611b244224221b28420a'))).toBe('a\u3042\n');
  });

  it('iso2022-kr writes its init sequence, even for empty text', () => {
    expect(hexOf(convertTo('iso2022-kr', ''))).toBe('1b242943');
    expect(hexOf(convertTo('iso2022-kr', 'a\ud55cb'))).toBe('1b242943610e47510f62');
    expect(convertFrom('iso2022-kr', hex('1b242943610e47510f62'))).toBe('a\ud55cb');
  });

  it('holds a cut escape sequence', () => {
    const d = createDecoder('iso2022-jp');
    expect(d.decode(hex('611b24'))).toBe('a');
    expect(d.pending).toBe(2);
    expect(d.decode(hex('422422'))).toBe('\u3042');
    expect(d.end()).toBe('');
  });
});

describe('identity', () => {
  it("writes Tcl's internal form and reads it back", () => {
    expect(hexOf(convertTo('identity', 'a\0\u{1F600}'))).toBe('61c080eda0bdedb880');
    expect(convertFrom('identity', hex('61c080eda0bdedb880'))).toBe('a\0\u{1F600}');
  });
});

describe('systemEncoding', () => {
  it("follows Tcl's LC_ALL, LC_CTYPE, LANG order and codeset names", () => {
    expect(systemEncoding({ LANG: 'ja_JP.eucJP' })).toBe('euc-jp');
    expect(systemEncoding({ LC_ALL: 'ru_RU.KOI8-R', LC_CTYPE: 'en_US.UTF-8', LANG: 'C' })).toBe('koi8-r');
    expect(systemEncoding({ LC_ALL: '', LC_CTYPE: 'de_DE.ISO-8859-15@euro', LANG: 'en_US.UTF-8' })).toBe('iso8859-15');
    expect(systemEncoding({ LANG: 'en_US.utf8' })).toBe('utf-8');
    expect(systemEncoding({ LANG: 'ja_JP' })).toBe('euc-jp');
    expect(systemEncoding({ LANG: 'ja_JP.SJIS' })).toBe('shiftjis');
    expect(systemEncoding({ LANG: 'zh_TW.Big5' })).toBe('big5');
    expect(systemEncoding({ LANG: 'pl_PL.ISO8859-2' })).toBe('iso8859-2');
    expect(systemEncoding({ LANG: 'en_US.CP1252' })).toBe('cp1252');
  });

  it('is utf-8 for C, POSIX, nothing set, or an unknown codeset', () => {
    expect(systemEncoding({})).toBe('utf-8');
    expect(systemEncoding({ LC_ALL: 'C' })).toBe('utf-8');
    expect(systemEncoding({ LANG: 'POSIX' })).toBe('utf-8');
    expect(systemEncoding({ LANG: 'xx_YY.NOPE' })).toBe('utf-8');
    expect(isEncodingName(systemEncoding())).toBe(true);
  });
});

describe('long chunks (over 32 Ki characters, built in pieces)', () => {
  it.each(['cp1252', 'euc-jp', 'utf-8', 'iso8859-1', 'shiftjis'])('%s: one 70,000-byte chunk decodes as many small ones do', (name) => {
    // Bytes that are valid in every one of these encodings: ASCII mixed with each encoding's own text.
    const sample = convertTo(name, 'abc€ déf 日本語 xyz\n'.repeat(4000));
    const bytes = sample.subarray(0, 70_000);
    const whole = createDecoder(name);
    const oneShot = whole.decode(bytes) + whole.end();
    const pieces = createDecoder(name);
    let small = '';
    for (let i = 0; i < bytes.length; i += 997) small += pieces.decode(bytes.subarray(i, i + 997));
    small += pieces.end();
    expect(oneShot.length).toBeGreaterThan(32 * 1024);
    expect(oneShot).toBe(small);
    expect(oneShot).toBe(convertFrom(name, bytes));
  });
});

/** Tcl's utf-8 (tcl8: lone surrogate in its 3-byte form; replace: EF BF BD), written code point by code point. */
function utf8Reference(text: string, profile: 'tcl8' | 'replace'): string {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff && profile === 'replace') out.push(0xef, 0xbf, 0xbd);
    else if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Buffer.from(out).toString('hex');
}

/** Index (in code points) of the first lone surrogate, or -1. */
function firstLoneSurrogate(text: string): number {
  let i = 0;
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) return i;
    i++;
  }
  return -1;
}

describe('utf-8 and iso8859-1 encoding of long texts (the scratch-area path and the one-shot fast path)', () => {
  /** `n` units of text (a pair cut at the end is completed by an `x`); slices placed in it may make lone surrogates too. */
  const body = (n: number, extra: string): string => {
    const t = ('the line\n' + extra + 'ab \u00e9\u3042\u{1F600} ').repeat(Math.ceil(n / 8)).slice(0, n);
    return /[\ud800-\udbff]$/.test(t) ? t.slice(0, -1) + 'x' : t;
  };
  const lengths = [511, 512, 4096, 65_536, 65_537];
  // Where a lone surrogate or a U+FFFD goes: none, first, middle, last unit.
  const placements: [string, (t: string, s: string) => string][] = [
    ['none', (t) => t],
    ['start', (t, s) => s + t.slice(s.length)],
    ['middle', (t, s) => t.slice(0, t.length >> 1) + s + t.slice((t.length >> 1) + s.length)],
    ['end', (t, s) => t.slice(0, t.length - s.length) + s],
  ];
  const specials = ['\ud800', '\udfff', '\ufffd', '\uff71', '\ud83d\ude00\udc00', '\ufffd\ud800'];

  it.each(lengths)('utf-8, %i units: every profile, one-shot and streamed, as written code point by code point', (n) => {
    for (const special of specials) {
      for (const [where, place] of placements) {
        const text = place(body(n, ''), special);
        const label = `${where} ${units(special).join(' ')}`;
        for (const profile of ['tcl8', 'replace'] as const) {
          const want = utf8Reference(text, profile);
          expect(hexOf(convertTo('utf-8', text, { profile })), label).toBe(want);
          const e = createEncoder('utf-8', { profile });
          expect(hexOf(Buffer.concat([e.encode(text), e.end()])), label).toBe(want);
        }
        const lone = firstLoneSurrogate(text);
        if (lone < 0) {
          expect(hexOf(convertTo('utf-8', text, { profile: 'strict' })), label).toBe(utf8Reference(text, 'tcl8'));
        } else {
          expect(thrown(() => convertTo('utf-8', text, { profile: 'strict' })).message, label).toMatch(new RegExp(`^unexpected character at index ${lone}: `));
        }
      }
    }
  });

  it.each(lengths)('iso8859-1, %i units: every profile, one-shot and streamed', (n) => {
    for (const special of ['\u0141', '\u{1F600}', '\ud800', '\u00ff']) {
      for (const [where, place] of placements) {
        const text = place(body(n, '\u00fe').replace(/[^\0-\xff]/gu, 'y'), special);
        const perUnit = Buffer.from([...Array(text.length).keys()].map((i) => (text.charCodeAt(i) < 256 ? text.charCodeAt(i) : 0x3f))).toString('hex');
        const perChar = Buffer.from([...text].map((ch) => (ch.codePointAt(0)! < 256 ? ch.codePointAt(0)! : 0x3f))).toString('hex');
        for (const [profile, want] of [['tcl8', perUnit], ['replace', perChar]] as const) {
          expect(hexOf(convertTo('iso8859-1', text, { profile })), where).toBe(want);
          const e = createEncoder('iso8859-1', { profile });
          expect(hexOf(Buffer.concat([e.encode(text), e.end()])), where).toBe(want);
        }
        const bad = [...text].findIndex((ch) => ch.codePointAt(0)! > 0xff);
        if (bad < 0) expect(hexOf(convertTo('iso8859-1', text, { profile: 'strict' }))).toBe(perUnit);
        else expect(thrown(() => convertTo('iso8859-1', text, { profile: 'strict' })).message).toMatch(new RegExp(`^unexpected character at index ${bad}: `));
      }
    }
  });

  it.each(lengths)('utf-8, %i units of 3 bytes each', (n) => {
    for (const unit of ['\u3042', '\uffff', '\ufffd', '\ud800', '\udc00']) {
      const text = unit.repeat(n);
      for (const profile of ['tcl8', 'replace'] as const) {
        const want = utf8Reference(text, profile);
        expect(hexOf(convertTo('utf-8', text, { profile }))).toBe(want);
        const e = createEncoder('utf-8', { profile });
        expect(hexOf(Buffer.concat([e.encode(text), e.end()]))).toBe(want);
      }
    }
  });

  it('gives each result its own bytes', () => {
    const a = convertTo('utf-8', 'a\u3042'.repeat(1000));
    const e = createEncoder('utf-8');
    const b = e.encode('b\u3042'.repeat(1000));
    const c = e.encode('c\u00e9'.repeat(1000));
    expect(Buffer.from(a).toString('utf8')).toBe('a\u3042'.repeat(1000));
    expect(Buffer.from(b).toString('utf8')).toBe('b\u3042'.repeat(1000));
    expect(Buffer.from(c).toString('utf8')).toBe('c\u00e9'.repeat(1000));
  });
});
