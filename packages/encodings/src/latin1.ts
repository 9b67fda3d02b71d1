import { Buffer, isAscii } from 'node:buffer';
import { DecoderBase, EncoderBase, asBuffer, scratchUnits, unitsToString } from './codec.js';
import type { EncodingProfile } from './types.js';

/*
 * The encodings whose mapped bytes are the first `limit` code points: `iso8859-1` (256),
 * `ascii` (0x7F: Tcl's ascii table has no DEL, so U+007F is written as `?`) and `binary`.
 * Tcl 8.6 decodes an unmapped byte to the character with the same number, so under the tcl8
 * profile all three decode as Latin-1, at Buffer's native speed.
 */

/** Decoder of iso8859-1, ascii and binary. */
export class Latin1Decoder extends DecoderBase {
  private readonly limit: number;

  /** `limit`: bytes below it are mapped; 256 for iso8859-1 and binary, 0x7F for ascii. */
  constructor(encoding: string, profile: EncodingProfile, limit: number) {
    super(encoding, profile);
    this.limit = limit;
  }

  get pending(): number {
    return 0;
  }

  protected decodeChunk(chunk: Uint8Array): string {
    const buf = asBuffer(chunk);
    if (this.profile === 'tcl8' || this.limit === 256 || (isAscii(buf) && buf.indexOf(0x7f) < 0)) return buf.toString('latin1');
    const limit = this.limit;
    if (this.profile === 'strict') {
      let i = 0;
      while (i < chunk.length && chunk[i]! < limit) i++;
      if (i < chunk.length) this.fail(i, chunk[i]!);
      return buf.toString('latin1', 0, i);
    }
    const out = scratchUnits(chunk.length);
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      out[i] = b < limit ? b : 0xfffd;
    }
    return unitsToString(out, chunk.length);
  }

  protected decodeEnd(): string {
    return '';
  }

  protected resetState(): void {}

  protected cloneState(): Latin1Decoder {
    return new Latin1Decoder(this.encoding, this.profile, this.limit);
  }
}

// eslint-disable-next-line no-control-regex -- a range of code points that starts at NUL
const BEYOND_LATIN1 = /[^\x00-\xFF]/;
// eslint-disable-next-line no-control-regex -- a range of code points that starts at NUL
const BEYOND_ASCII_NO_DEL = /[^\x00-\x7E]/;

/**
 * Encoder of iso8859-1 and ascii (unencodable: `?`), and of binary (tcl8: the low 8 bits of
 * each UTF-16 unit, as Tcl 8.6's byte arrays keep them).
 */
export class Latin1Encoder extends EncoderBase {
  private readonly limit: number;
  private readonly lowBits: boolean;

  constructor(encoding: string, profile: EncodingProfile, limit: number) {
    super(encoding, profile);
    this.limit = limit;
    this.lowBits = encoding === 'binary' && profile === 'tcl8';
  }

  protected encodeText(text: string): Uint8Array {
    const beyond = this.limit === 256 ? BEYOND_LATIN1 : BEYOND_ASCII_NO_DEL;
    // The test does not scan a string that V8 holds one byte a character (Latin-1 text).
    if (this.lowBits || !beyond.test(text)) return Buffer.from(text, 'latin1');
    if (this.profile === 'strict') {
      const at = beyond.exec(text)!.index;
      this.fail(text, at);
      return Buffer.from(text.slice(0, at), 'latin1');
    }
    return withQuestionMarks(text, this.limit, this.profile === 'replace');
  }

  protected resetState(): void {}

  protected cloneState(): Latin1Encoder {
    return new Latin1Encoder(this.encoding, this.profile, this.limit);
  }
}

/**
 * `text` with every UTF-16 unit from `limit` on written as `?`; `pairAsOne` (the replace
 * profile): a surrogate pair is one character, one `?` (Tcl 8.6 writes `??` for it).
 */
function withQuestionMarks(text: string, limit: number, pairAsOne: boolean): Uint8Array {
  const out = Buffer.allocUnsafe(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < limit) {
      out[o++] = c;
      continue;
    }
    if (pairAsOne && c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    out[o++] = 0x3f;
  }
  return out.subarray(0, o);
}

/**
 * One-shot iso8859-1 of `text` under the tcl8 or replace profile (`encoding convertto
 * iso8859-1`): the bytes the streaming encoder writes for the text in one piece.
 */
export function encodeLatin1(text: string, profile: 'tcl8' | 'replace'): Uint8Array {
  return BEYOND_LATIN1.test(text) ? withQuestionMarks(text, 256, profile === 'replace') : Buffer.from(text, 'latin1');
}
