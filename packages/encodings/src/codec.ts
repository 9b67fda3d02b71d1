import { Buffer } from 'node:buffer';
import type { SockchanError } from '@sockchan/base';
import { invalidByteSequence, unencodableCharacter } from './errors.js';
import type { Decoder, Encoder, EncodingProfile } from './types.js';

/**
 * What every decoder shares: the profile, the stream offset, and the strict-profile error.
 * A subclass converts bytes in `decodeChunk` and flushes in `decodeEnd`; when it meets an invalid
 * sequence under `strict` it calls `fail()` and returns the good text before it.
 */
export abstract class DecoderBase implements Decoder {
  readonly encoding: string;
  readonly profile: EncodingProfile;
  /** Stream offset of the first byte of the current chunk (bytes seen before it). */
  protected streamOffset = 0;
  private failure: SockchanError | undefined;

  constructor(encoding: string, profile: EncodingProfile) {
    this.encoding = encoding;
    this.profile = profile;
  }

  get error(): SockchanError | undefined {
    return this.failure;
  }

  abstract get pending(): number;

  decode(chunk: Uint8Array): string {
    if (this.failure !== undefined || chunk.length === 0) return '';
    const text = this.decodeChunk(chunk);
    this.streamOffset += chunk.length;
    return text;
  }

  end(): string {
    const text = this.failure === undefined ? this.decodeEnd() : '';
    const failure = this.failure;
    this.reset();
    this.failure = failure;
    return text;
  }

  reset(): void {
    this.streamOffset = 0;
    this.failure = undefined;
    this.resetState();
  }

  clone(): Decoder {
    const copy = this.cloneState();
    copy.streamOffset = this.streamOffset;
    copy.failure = this.failure;
    return copy;
  }

  mark(): Decoder | number {
    return this.failure === undefined && this.atBoundary() ? this.streamOffset : this.clone();
  }

  fromMark(mark: Decoder | number): Decoder {
    if (typeof mark !== 'number') return mark.clone();
    const fresh = this.cloneState();
    fresh.resetState();
    fresh.streamOffset = mark;
    return fresh;
  }

  /** No byte held and no shift state: a fresh decoder would go on exactly as this one. */
  protected atBoundary(): boolean {
    return this.pending === 0;
  }

  /**
   * Records a strict-profile failure at `index` (bytes from the start of the current chunk,
   * which may be negative for held bytes of earlier chunks) and drops all state.
   */
  protected fail(index: number, byte: number): void {
    this.failure = invalidByteSequence(this.streamOffset + index, byte);
    this.resetState();
  }

  /** Decodes a non-empty chunk; `this.streamOffset` is the offset of its first byte. */
  protected abstract decodeChunk(chunk: Uint8Array): string;
  /** Flushes held bytes at the end of input (the offset is that of the end of the stream). */
  protected abstract decodeEnd(): string;
  /** Clears held bytes and shift state. */
  protected abstract resetState(): void;
  /** A fresh decoder of the same class with a copy of the held bytes and shift state. */
  protected abstract cloneState(): DecoderBase;
}

/** What every encoder shares: the profile, the character count, the strict-profile error. */
export abstract class EncoderBase implements Encoder {
  readonly encoding: string;
  readonly profile: EncodingProfile;
  /** Characters (code points) encoded before the current text; kept for `strict` only. */
  protected charOffset = 0;
  /** A high surrogate held from the end of the previous text (0 when none). */
  protected heldHigh = 0;
  private failure: SockchanError | undefined;

  constructor(encoding: string, profile: EncodingProfile) {
    this.encoding = encoding;
    this.profile = profile;
  }

  get error(): SockchanError | undefined {
    return this.failure;
  }

  encode(text: string): Uint8Array {
    if (this.failure !== undefined || text.length === 0) return EMPTY;
    if (this.heldHigh !== 0) {
      text = String.fromCharCode(this.heldHigh) + text;
      this.heldHigh = 0;
    }
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      // A high surrogate may pair with the first unit of the next text: keep it.
      this.heldHigh = last;
      text = text.slice(0, -1);
      if (text.length === 0) return EMPTY;
    }
    const bytes = this.encodeText(text);
    if (this.profile === 'strict' && this.failure === undefined) this.charOffset += countCodePoints(text);
    return bytes;
  }

  end(): Uint8Array {
    let bytes = EMPTY;
    if (this.failure === undefined) {
      const held = this.heldHigh;
      this.heldHigh = 0;
      const tail = held === 0 ? EMPTY : this.encodeText(String.fromCharCode(held));
      const final = this.failure === undefined ? this.encodeEnd() : EMPTY;
      bytes = concatBytes(tail, final);
    }
    const failure = this.failure;
    this.reset();
    this.failure = failure;
    return bytes;
  }

  reset(): void {
    this.charOffset = 0;
    this.heldHigh = 0;
    this.failure = undefined;
    this.resetState();
  }

  clone(): Encoder {
    const copy = this.cloneState();
    copy.charOffset = this.charOffset;
    copy.heldHigh = this.heldHigh;
    copy.failure = this.failure;
    return copy;
  }

  /** Records a strict-profile failure at UTF-16 index `unitIndex` of the text being encoded. */
  protected fail(text: string, unitIndex: number): void {
    const codePoint = text.codePointAt(unitIndex) ?? 0;
    this.failure = unencodableCharacter(this.charOffset + countCodePoints(text.slice(0, unitIndex)), codePoint);
    this.resetState();
  }

  /** Encodes text that does not end with a high surrogate (unless it is the held one at the end). */
  protected abstract encodeText(text: string): Uint8Array;
  /** Bytes that end the output (a stateful encoding's return to its initial state). */
  protected encodeEnd(): Uint8Array {
    return EMPTY;
  }
  /** Clears shift state. */
  protected abstract resetState(): void;
  /** A fresh encoder of the same class with a copy of the shift state. */
  protected abstract cloneState(): EncoderBase;
}

/** The shared empty result. */
export const EMPTY: Uint8Array = new Uint8Array(0);

const PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Number of code points (a surrogate pair counts once). */
export function countCodePoints(text: string): number {
  let pairs = 0;
  PAIR.lastIndex = 0;
  while (PAIR.exec(text) !== null) pairs++;
  return text.length - pairs;
}

/** Concatenation of two byte arrays, without copying when one is empty. */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A Buffer view of the same memory (no copy), for Buffer's native string methods. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

let scratch = new Uint16Array(4096);

/** A reusable UTF-16 output area of at least `size` units (decoding is synchronous). */
export function scratchUnits(size: number): Uint16Array {
  if (scratch.length < size) scratch = new Uint16Array(Math.max(size, scratch.length * 2));
  return scratch;
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The UTF-16 units of `text` in the reusable output area (see {@link scratchUnits}), or
 * undefined on big-endian machines. Copying natively and then reading a typed array is about
 * twice as fast as `charCodeAt` in a loop over a long string.
 */
export function textUnits(text: string): Uint16Array | undefined {
  if (!littleEndian) return undefined;
  const units = scratchUnits(text.length);
  Buffer.from(units.buffer, units.byteOffset, text.length * 2).write(text, 'utf16le');
  return units;
}

/** Longest piece of a decoded string built at once (its two-byte form: 64 KiB). */
const PIECE_UNITS = 0x8000;

/** The string of the first `count` UTF-16 units of `units`. */
export function unitsToString(units: Uint16Array, count: number): string {
  if (count === 0) return '';
  if (!littleEndian) {
    // Buffer's utf16le reading assumes little-endian memory: build the string in pieces.
    let text = '';
    for (let i = 0; i < count; i += 4096) {
      text += String.fromCharCode.apply(null, units.subarray(i, Math.min(count, i + 4096)) as unknown as number[]);
    }
    return text;
  }
  if (count < 64) {
    // Short strings: building directly beats creating a Buffer view.
    return String.fromCharCode.apply(null, units.subarray(0, count) as unknown as number[]);
  }
  const bytes = Buffer.from(units.buffer, units.byteOffset, count * 2);
  if (count <= PIECE_UNITS) return bytes.toString('utf16le');
  // V8 puts a flat two-byte string over 128 KiB (64 Ki units: a 64 KiB chunk of a single-byte
  // table) in its large-object space, an mmap/munmap per string that costs about 0.8 ms, over
  // ten times the decoding itself. Pieces of 64 KiB stay in the young generation and joined
  // they make a rope; a consumer that needs the flat string pays for it once, when it does.
  let text = bytes.toString('utf16le', 0, PIECE_UNITS * 2);
  for (let i = PIECE_UNITS; i < count; i += PIECE_UNITS) {
    text += bytes.toString('utf16le', i * 2, Math.min(count, i + PIECE_UNITS) * 2);
  }
  return text;
}
