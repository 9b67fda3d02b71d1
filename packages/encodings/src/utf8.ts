import { Buffer, isUtf8 } from 'node:buffer';
import { DecoderBase, EncoderBase, asBuffer, scratchUnits, unitsToString } from './codec.js';
import type { EncodingProfile } from './types.js';

/*
 * utf-8 as Tcl 8.6.13 reads and writes it (profile tcl8), or as standard UTF-8 (strict, replace).
 *
 * Tcl 8.6 decoding: well-formed UTF-8 decodes as usual (a 4-byte sequence gives a surrogate pair);
 * in addition C0 80 is NUL and ED A0..BF xx (CESU-8 surrogates) give the surrogate code unit.
 * Any other byte that does not start a well-formed sequence (overlong forms, C1, F5..FF, a lone
 * continuation byte, a lead byte whose sequence is cut short) becomes the character with the same
 * number, and decoding goes on with the next byte. Encoding writes NUL as 00 and a lone surrogate
 * as its 3-byte form (ED A0 80 for U+D800).
 *
 * Fast path: a chunk that is well-formed UTF-8 (checked natively with buffer.isUtf8) decodes with
 * Buffer's own decoder, identically under every profile; only invalid input and a sequence cut at
 * the end of a chunk take the byte loop. Encoding writes with Buffer's own encoder, which differs
 * from Tcl's only for a lone surrogate (EF BF BD, the replace profile's form): the output is
 * searched for EF BF BD, and only a text that has a lone surrogate takes the slow path.
 */

/** Length of the sequence a byte starts (1 for ASCII, continuation and never-valid bytes). */
function sequenceLength(lead: number, tcl8: boolean): number {
  if (lead < 0xc0) return 1;
  if (lead === 0xc0) return tcl8 ? 2 : 1; // only C0 80, and only in Tcl 8's reading
  if (lead === 0xc1) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  if (lead < 0xf5) return 4;
  return 1;
}

/** Whether `b` may stand at position `pos` (1..3) of a sequence starting with `lead`. */
function continues(lead: number, pos: number, b: number, tcl8: boolean): boolean {
  if (b < 0x80 || b > 0xbf) return false;
  if (pos !== 1) return true;
  switch (lead) {
    case 0xc0:
      return b === 0x80;
    case 0xe0:
      return b >= 0xa0; // no overlong 3-byte forms
    case 0xed:
      return tcl8 || b <= 0x9f; // surrogates: accepted by Tcl 8.6, not by standard UTF-8
    case 0xf0:
      return b >= 0x90; // no overlong 4-byte forms
    case 0xf4:
      return b <= 0x8f; // nothing above U+10FFFF
    default:
      return true;
  }
}

/** Code point of a checked sequence of length `n` (2..4) in `bytes` at `i`. */
function codePointAt(bytes: Uint8Array, i: number, n: number): number {
  const b0 = bytes[i]!;
  if (n === 2) return b0 === 0xc0 ? 0 : ((b0 & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
  if (n === 3) return ((b0 & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
  return ((b0 & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
}

/**
 * Start of an incomplete (but so far valid) sequence at the end of `bytes[from..]`, or
 * `bytes.length` when the end is complete or invalid: the bytes from there on must wait.
 */
function incompleteTail(bytes: Uint8Array, from: number, tcl8: boolean): number {
  const n = bytes.length;
  for (let i = n - 1; i >= from && i >= n - 3; i--) {
    const b = bytes[i]!;
    if (b < 0x80) return n;
    if (b < 0xc0) continue;
    if (sequenceLength(b, tcl8) <= n - i) return n;
    for (let j = i + 1; j < n; j++) if (!continues(b, j - i, bytes[j]!, tcl8)) return n;
    return i;
  }
  return n;
}

/** UTF-16 high surrogate of the 4-byte sequence that starts with `b0 b1 b2`. */
function highSurrogateOf(b0: number, b1: number, b2: number): number {
  const cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6);
  return 0xd800 + ((cp - 0x10000) >> 10);
}

/**
 * Tcl 8.6's decoding of `bytes[from..to)` as a whole (a cut sequence at `to` is invalid).
 * `identity`: Tcl's reading of its internal form, where the first three bytes of a 4-byte
 * sequence give the high surrogate even when no fourth continuation byte follows.
 */
function decodeTcl8(bytes: Uint8Array, from: number, to: number, identity: boolean): string {
  const out = scratchUnits(to - from);
  let o = 0;
  let i = from;
  while (i < to) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out[o++] = b;
      i++;
      continue;
    }
    const n = sequenceLength(b, true);
    let ok = n > 1 && i + n <= to;
    for (let k = 1; ok && k < n; k++) ok = continues(b, k, bytes[i + k]!, true);
    if (!ok && identity && n === 4 && i + 2 < to && continues(b, 1, bytes[i + 1]!, true) && continues(b, 2, bytes[i + 2]!, true)) {
      out[o++] = highSurrogateOf(b, bytes[i + 1]!, bytes[i + 2]!);
      out[o++] = bytes[i + 1]!;
      out[o++] = bytes[i + 2]!;
      i += 3;
      continue;
    }
    if (!ok) {
      out[o++] = b;
      i++;
      continue;
    }
    const cp = codePointAt(bytes, i, n);
    if (cp >= 0x10000) {
      out[o++] = 0xd800 + ((cp - 0x10000) >> 10);
      out[o++] = 0xdc00 + (cp & 0x3ff);
    } else {
      out[o++] = cp;
    }
    i += n;
  }
  return unitsToString(out, o);
}

/** Offset of the first byte of `bytes[from..to)` that does not start well-formed UTF-8. */
function firstInvalid(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(b, false);
    if (n === 1 || i + n > to) return i;
    for (let k = 1; k < n; k++) if (!continues(b, k, bytes[i + k]!, false)) return i;
    i += n;
  }
  return to;
}

/**
 * Decoder of `utf-8`, and of `identity` (Tcl 8.6 reads it as its internal form: as utf-8, except
 * for a 4-byte sequence cut after its third byte, see decodeTcl8).
 */
export class Utf8Decoder extends DecoderBase {
  private readonly tcl8: boolean;
  private readonly identity: boolean;
  private held = new Uint8Array(4);
  private heldLength = 0;

  constructor(encoding: string, profile: EncodingProfile) {
    super(encoding, profile);
    this.tcl8 = profile === 'tcl8';
    this.identity = this.tcl8 && encoding === 'identity';
  }

  get pending(): number {
    return this.heldLength;
  }

  protected decodeChunk(chunk: Uint8Array): string {
    // The common case: nothing held, the chunk ends at a character boundary and is well-formed.
    if (this.heldLength === 0 && isUtf8(chunk)) return asBuffer(chunk).toString('utf8');
    let head = '';
    let start = 0;
    if (this.heldLength > 0) {
      const held = this.held;
      const lead = held[0]!;
      const heldBefore = this.heldLength;
      const need = sequenceLength(lead, this.tcl8);
      let k = heldBefore;
      while (k < need && start < chunk.length && continues(lead, k, chunk[start]!, this.tcl8)) held[k++] = chunk[start++]!;
      if (k === need) {
        const cp = codePointAt(held, 0, need);
        head = String.fromCodePoint(cp);
        this.heldLength = 0;
      } else if (start === chunk.length) {
        this.heldLength = k;
        return '';
      } else {
        // The held sequence is broken by chunk[start]: it is invalid as a whole.
        this.heldLength = 0;
        if (this.profile === 'strict') {
          this.fail(-heldBefore, lead);
          return '';
        }
        head = this.profile === 'replace' ? '\uFFFD' : this.latin1OfCut(held.subarray(0, k));
      }
    }
    const cut = incompleteTail(chunk, start, this.tcl8);
    let body = '';
    if (cut > start) {
      const part = chunk.subarray(start, cut);
      if (isUtf8(part) || this.profile === 'replace') {
        // Buffer's decoder replaces invalid input with U+FFFD by maximal subparts (WHATWG).
        body = asBuffer(part).toString('utf8');
      } else if (this.tcl8) {
        body = decodeTcl8(chunk, start, cut, this.identity);
      } else {
        const bad = firstInvalid(chunk, start, cut);
        this.fail(bad, chunk[bad]!);
        return head + asBuffer(chunk.subarray(start, bad)).toString('utf8');
      }
    }
    if (cut < chunk.length) {
      this.held.set(chunk.subarray(cut), 0);
      this.heldLength = chunk.length - cut;
    }
    return head + body;
  }

  protected decodeEnd(): string {
    const n = this.heldLength;
    if (n === 0) return '';
    this.heldLength = 0;
    if (this.profile === 'strict') {
      this.fail(-n, this.held[0]!);
      return '';
    }
    // Tcl 8.6: a sequence cut short by the end of input becomes Latin-1 characters.
    return this.tcl8 ? this.latin1OfCut(this.held.subarray(0, n)) : '\uFFFD';
  }

  /** tcl8: the characters of a sequence cut short (Latin-1, but see decodeTcl8 for identity). */
  private latin1OfCut(bytes: Uint8Array): string {
    if (this.identity && bytes.length === 3 && bytes[0]! >= 0xf0) {
      return String.fromCharCode(highSurrogateOf(bytes[0]!, bytes[1]!, bytes[2]!), bytes[1]!, bytes[2]!);
    }
    return String.fromCharCode(...bytes);
  }

  protected resetState(): void {
    this.heldLength = 0;
  }

  protected cloneState(): Utf8Decoder {
    const copy = new Utf8Decoder(this.encoding, this.profile);
    copy.held = this.held.slice();
    copy.heldLength = this.heldLength;
    return copy;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const hasWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';

/** Whether `text` has no lone surrogate (native String.prototype.isWellFormed where present). */
export function isWellFormed(text: string): boolean {
  if (hasWellFormed) return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

/** U+FFFD in UTF-8: what Buffer writes for a lone surrogate. */
const REPLACEMENT_BYTES = Buffer.from([0xef, 0xbf, 0xbd]);

/** Texts of at least this many UTF-16 units are written through a scratch area (see utf8Bytes). */
const SCRATCH_FROM = 512;
/** ... and of at most this many (the area then has 3 bytes a unit: 192 KiB). */
const SCRATCH_UNTIL = 0x10000;
let scratch = Buffer.alloc(0);

/**
 * UTF-8 of `text` as Buffer writes it (a lone surrogate as EF BF BD), in a Buffer of its own.
 * `Buffer.from(text, 'utf8')` measures the text (a pass over it about as slow as the writing)
 * before it writes it; a text of some length is instead written into a reusable area big enough
 * for any text of its length (3 bytes a UTF-16 unit) and its bytes copied out, a fraction of that
 * pass. A short text goes to Buffer.from, whose pool costs less than the extra calls.
 */
function utf8Bytes(text: string): Buffer {
  const length = text.length;
  if (length < SCRATCH_FROM || length > SCRATCH_UNTIL) return Buffer.from(text, 'utf8');
  if (scratch.length < length * 3) scratch = Buffer.allocUnsafeSlow(Math.max(length * 3, 0x3000));
  const n = scratch.write(text);
  const out = Buffer.allocUnsafe(n);
  out.set(new Uint8Array(scratch.buffer, scratch.byteOffset, n));
  return out;
}

/**
 * Whether `text` has a lone surrogate, given `bytes`, its utf8Bytes: bytes as many as the units
 * (all ASCII), or without EF BF BD, say no at once. Only then is the text itself checked
 * (a U+FFFD it holds is written EF BF BD too): on a long two-byte string that check costs about
 * a quarter of the time Buffer.from takes to encode it, the search in the bytes about a hundredth.
 */
function hasLoneSurrogate(text: string, bytes: Buffer): boolean {
  if (bytes.length === text.length) return false;
  // The search for one byte (memchr) is the cheaper first sieve on short texts.
  return bytes.indexOf(0xef) !== -1 && bytes.indexOf(REPLACEMENT_BYTES) !== -1 && !isWellFormed(text);
}

/** Encoder of `utf-8`. */
export class Utf8Encoder extends EncoderBase {
  protected encodeText(text: string): Uint8Array {
    const profile = this.profile;
    if (profile !== 'strict') return encodeUtf8(text, profile);
    const bytes = utf8Bytes(text);
    if (!hasLoneSurrogate(text, bytes)) return bytes;
    LONE_SURROGATE.lastIndex = 0;
    const m = LONE_SURROGATE.exec(text)!;
    this.fail(text, m.index);
    return Buffer.from(text.slice(0, m.index), 'utf8');
  }

  protected resetState(): void {}

  protected cloneState(): Utf8Encoder {
    return new Utf8Encoder(this.encoding, this.profile);
  }
}

/**
 * One-shot UTF-8 of `text` under the tcl8 or replace profile (`encoding convertto utf-8`): the
 * bytes the streaming encoder writes for the text in one piece, without making one.
 */
export function encodeUtf8(text: string, profile: 'tcl8' | 'replace'): Uint8Array {
  const bytes = utf8Bytes(text);
  // Buffer writes a lone surrogate as EF BF BD: exactly the replace profile.
  return profile === 'replace' || !hasLoneSurrogate(text, bytes) ? bytes : encodeLoneSurrogates(text);
}

/** Tcl 8.6's UTF-8 writing: standard UTF-8, except that a lone surrogate takes its 3-byte form. */
export function encodeTcl8(text: string): Uint8Array {
  return encodeUtf8(text, 'tcl8');
}

/** encodeTcl8 of a text that has a lone surrogate. */
function encodeLoneSurrogates(text: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let last = 0;
  LONE_SURROGATE.lastIndex = 0;
  for (let m = LONE_SURROGATE.exec(text); m !== null; m = LONE_SURROGATE.exec(text)) {
    const s = text.charCodeAt(m.index);
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), Uint8Array.of(0xed, 0x80 | ((s >> 6) & 0x3f), 0x80 | (s & 0x3f)));
    last = m.index + 1;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}
