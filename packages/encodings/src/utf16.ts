import { Buffer } from 'node:buffer';
import { endianness } from 'node:os';
import { DecoderBase, EncoderBase, asBuffer } from './codec.js';
import { isWellFormed } from './utf8.js';

/*
 * `unicode`: UTF-16 in the machine's byte order, as Tcl 8.6 defines it. tcl8 passes code units
 * through as they are (a lone surrogate included, both ways); an odd byte or a high surrogate left
 * at the end of input is dropped (by channels and `encoding convertfrom` alike). strict and replace treat a lone surrogate as invalid.
 */

const bigEndian = endianness() === 'BE';

function unitsOf(bytes: Uint8Array): string {
  if (!bigEndian) return asBuffer(bytes).toString('utf16le');
  const copy = Buffer.from(bytes);
  copy.swap16();
  return copy.toString('utf16le');
}

function bytesOf(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf16le');
  if (bigEndian) bytes.swap16();
  return bytes;
}

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Decoder of `unicode`. */
export class Utf16Decoder extends DecoderBase {
  /** Held bytes: a high surrogate that may pair with what follows, and an odd byte. */
  private held = new Uint8Array(3);
  private heldLength = 0;

  get pending(): number {
    return this.heldLength;
  }

  protected decodeChunk(chunk: Uint8Array): string {
    let bytes = chunk;
    const heldBefore = this.heldLength;
    if (heldBefore > 0) {
      bytes = new Uint8Array(heldBefore + chunk.length);
      bytes.set(this.held.subarray(0, heldBefore), 0);
      bytes.set(chunk, heldBefore);
      this.heldLength = 0;
    }
    let even = bytes.length & ~1;
    let text = unitsOf(bytes.subarray(0, even));
    if (text.length > 0) {
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        // Whether this high surrogate is paired depends on what follows (Tcl 8.6 drops it at the end).
        text = text.slice(0, -1);
        even -= 2;
      }
      if (this.profile !== 'tcl8' && !isWellFormed(text)) text = this.repair(text, -heldBefore);
    }
    if (even < bytes.length && this.error === undefined) {
      this.held.set(bytes.subarray(even), 0);
      this.heldLength = bytes.length - even;
    }
    return text;
  }

  /** strict: the text before the first lone surrogate (and the failure); replace: U+FFFD for each. */
  private repair(text: string, base: number): string {
    LONE.lastIndex = 0;
    if (this.profile === 'replace') return text.replace(LONE, '\uFFFD');
    const m = LONE.exec(text)!;
    const index = base + 2 * m.index;
    this.fail(index, bigEndian ? text.charCodeAt(m.index) >> 8 : text.charCodeAt(m.index) & 0xff);
    return text.slice(0, m.index);
  }

  protected decodeEnd(): string {
    const n = this.heldLength;
    if (n === 0) return '';
    this.heldLength = 0;
    const text = n >= 2 ? unitsOf(this.held.subarray(0, 2)) : '';
    if (this.profile === 'strict') {
      this.fail(-n, this.held[0]!);
      return '';
    }
    // tcl8 drops an odd byte and a high surrogate at the end; replace marks them.
    return this.profile === 'replace' ? (text === '' ? '' : '\uFFFD') + (n % 2 === 1 ? '\uFFFD' : '') : '';
  }

  protected resetState(): void {
    this.heldLength = 0;
  }

  protected cloneState(): Utf16Decoder {
    const copy = new Utf16Decoder(this.encoding, this.profile);
    copy.held = this.held.slice();
    copy.heldLength = this.heldLength;
    return copy;
  }
}

/** Encoder of `unicode`. */
export class Utf16Encoder extends EncoderBase {
  protected encodeText(text: string): Uint8Array {
    if (this.profile === 'tcl8' || isWellFormed(text)) return bytesOf(text);
    LONE.lastIndex = 0;
    if (this.profile === 'replace') return bytesOf(text.replace(LONE, '\uFFFD'));
    const m = LONE.exec(text)!;
    this.fail(text, m.index);
    return bytesOf(text.slice(0, m.index));
  }

  protected resetState(): void {}

  protected cloneState(): Utf16Encoder {
    return new Utf16Encoder(this.encoding, this.profile);
  }
}

