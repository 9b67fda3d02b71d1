import { Buffer, isAscii } from 'node:buffer';
import { DecoderBase, EncoderBase, asBuffer, scratchUnits, textUnits, unitsToString } from './codec.js';
import { UNMAPPED, loadTable } from './tables.js';
import type { Table } from './tables.js';
import type { EncodingProfile } from './types.js';

/*
 * Table-driven encodings as Tcl 8.6.13 runs them (single-byte tables, and the one/two-byte ones
 * such as shiftjis, euc-jp, big5, cp936; and the pure double-byte jis0208, ksc5601 ...).
 *
 * Decoding: a lead byte takes the next byte as its trail; a pair without a mapping yields the lead
 * byte as a character (tcl8) and decoding goes on with the trail byte; a byte without a mapping
 * yields the character with its number. A lead byte cut off by the end of input is dropped
 * (by `encoding convertfrom` and by channels alike). Encoding: a character without a mapping
 * becomes the table's fallback (`?`, or its two-byte form in the double-byte tables).
 */

/** Whether bytes 0..0x7F decode to themselves (so an ASCII chunk can skip the table). */
function asciiDecodes(table: Table): boolean {
  for (let b = 0; b < 0x80; b++) if (table.isLead[b] !== 0 || table.single[b] !== b) return false;
  return true;
}

/** Whether U+0000..U+007F encode to themselves, one byte each. */
function asciiEncodes(table: Table): boolean {
  if (table.type === 'D') return false;
  for (let c = 0; c < 0x80; c++) if (table.encode[c] !== c) return false;
  return true;
}

const asciiDecodeCache = new WeakMap<Table, boolean>();
const asciiEncodeCache = new WeakMap<Table, boolean>();
const tcl8SingleCache = new WeakMap<Table, Uint16Array>();
const tcl8EncodeCache = new WeakMap<Table, Uint8Array>();

/** A single-byte table's decoding under tcl8: an unmapped byte gives the character of its number. */
function tcl8Single(table: Table): Uint16Array {
  let t = tcl8SingleCache.get(table);
  if (t === undefined) {
    t = table.single.map((c, b) => (c === UNMAPPED ? b : c));
    tcl8SingleCache.set(table, t);
  }
  return t;
}

/** A single-byte table's encoding under tcl8: every code unit to one byte, the fallback included. */
function tcl8Encode(table: Table): Uint8Array {
  let t = tcl8EncodeCache.get(table);
  if (t === undefined) {
    const fallback = table.fallback[0]!;
    t = Uint8Array.from(table.encode, (w) => (w === UNMAPPED ? fallback : w));
    tcl8EncodeCache.set(table, t);
  }
  return t;
}

/** `out[i] = table[bytes[i]]` for every byte; unrolled, as the loop overhead is most of the cost. */
function mapBytes(bytes: Uint8Array, table: Uint16Array, out: Uint16Array): void {
  const n = bytes.length;
  let i = 0;
  for (const end = n - 3; i < end; i += 4) {
    out[i] = table[bytes[i]!]!;
    out[i + 1] = table[bytes[i + 1]!]!;
    out[i + 2] = table[bytes[i + 2]!]!;
    out[i + 3] = table[bytes[i + 3]!]!;
  }
  for (; i < n; i++) out[i] = table[bytes[i]!]!;
}

/** Decoder of a table encoding. */
export class TableDecoder extends DecoderBase {
  private readonly table: Table;
  private readonly asciiFast: boolean;
  /** A lead byte held from the end of the previous chunk, or -1. */
  private heldLead = -1;

  constructor(encoding: string, profile: EncodingProfile, table: Table = loadTable(encoding)) {
    super(encoding, profile);
    this.table = table;
    let fast = asciiDecodeCache.get(table);
    if (fast === undefined) asciiDecodeCache.set(table, (fast = asciiDecodes(table)));
    this.asciiFast = fast;
  }

  get pending(): number {
    return this.heldLead < 0 ? 0 : 1;
  }

  protected decodeChunk(chunk: Uint8Array): string {
    if (this.heldLead < 0 && this.asciiFast && isAscii(chunk)) return asBuffer(chunk).toString('latin1');
    if (this.table.type === 'S' && this.profile === 'tcl8') {
      // Single-byte tables never fail under tcl8: one lookup per byte, no branch.
      const n = chunk.length;
      const out = scratchUnits(n);
      mapBytes(chunk, tcl8Single(this.table), out);
      return unitsToString(out, n);
    }
    const { isLead, pairs } = this.table;
    const tcl8 = this.profile === 'tcl8';
    const strict = this.profile === 'strict';
    // Under tcl8 an unmapped single byte is simply the character of its number: no branch.
    const single = tcl8 ? tcl8Single(this.table) : this.table.single;
    const n = chunk.length;
    const out = scratchUnits(n + 1);
    let o = 0;
    let i = 0;
    if (this.heldLead >= 0) {
      // A lead byte held from the previous chunk: it stands at index -1 of this chunk.
      const lead = this.heldLead;
      this.heldLead = -1;
      const c = pairs[(lead << 8) | chunk[0]!]!;
      if (c !== UNMAPPED || lead === 0) {
        out[o++] = c === UNMAPPED ? 0 : c;
        i = 1;
      } else if (strict) {
        this.fail(-1, lead);
        return '';
      } else {
        out[o++] = tcl8 ? lead : 0xfffd;
      }
    }
    const asciiFast = this.asciiFast;
    while (i < n) {
      let b = chunk[i]!;
      if (b < 0x80 && asciiFast) {
        // A run of ASCII (most of the text in protocols): each byte is its own character.
        do {
          out[o++] = b;
          if (++i === n) break;
          b = chunk[i]!;
        } while (b < 0x80);
        continue;
      }
      if (isLead[b] === 0) {
        const c = single[b]!;
        if (c === UNMAPPED) {
          if (strict) {
            this.fail(i, b);
            break;
          }
          out[o++] = 0xfffd;
        } else {
          out[o++] = c;
        }
        i++;
        continue;
      }
      if (i + 1 >= n) {
        this.heldLead = b;
        break;
      }
      const c = pairs[(b << 8) | chunk[i + 1]!]!;
      if (c !== UNMAPPED) {
        out[o++] = c;
        i += 2;
      } else if (b === 0) {
        // Lead 0 of a double-byte table: Tcl yields NUL for the pair.
        out[o++] = 0;
        i += 2;
      } else if (strict) {
        this.fail(i, b);
        break;
      } else {
        // No mapping: the lead byte stands for itself; the trail byte is decoded on its own.
        out[o++] = tcl8 ? b : 0xfffd;
        i++;
      }
    }
    return unitsToString(out, o);
  }

  protected decodeEnd(): string {
    const lead = this.heldLead;
    if (lead < 0) return '';
    this.heldLead = -1;
    if (this.profile === 'strict') {
      this.fail(-1, lead);
      return '';
    }
    return this.profile === 'replace' ? '\uFFFD' : '';
  }

  protected resetState(): void {
    this.heldLead = -1;
  }

  protected cloneState(): TableDecoder {
    const copy = new TableDecoder(this.encoding, this.profile, this.table);
    copy.heldLead = this.heldLead;
    return copy;
  }
}

// eslint-disable-next-line no-control-regex -- a range of code points that starts at NUL
const ONLY_ASCII = /^[\x00-\x7F]*$/;

/** Encoder of a table encoding. */
export class TableEncoder extends EncoderBase {
  private readonly table: Table;
  private readonly asciiFast: boolean;

  constructor(encoding: string, profile: EncodingProfile, table: Table = loadTable(encoding)) {
    super(encoding, profile);
    this.table = table;
    let fast = asciiEncodeCache.get(table);
    if (fast === undefined) asciiEncodeCache.set(table, (fast = asciiEncodes(table)));
    this.asciiFast = fast;
  }

  protected encodeText(text: string): Uint8Array {
    if (this.asciiFast && ONLY_ASCII.test(text)) return Buffer.from(text, 'latin1');
    if (this.table.type === 'S' && this.profile === 'tcl8' && this.table.fallback.length === 1) {
      const t = tcl8Encode(this.table);
      const n = text.length;
      const out = Buffer.allocUnsafe(n);
      // Long texts: read the units from a native copy (creating that view costs more than it
      // saves on short ones). Both loops unrolled, as in mapBytes.
      const units = n >= 1024 ? textUnits(text) : undefined;
      let i = 0;
      if (units !== undefined) {
        for (const end = n - 3; i < end; i += 4) {
          out[i] = t[units[i]!]!;
          out[i + 1] = t[units[i + 1]!]!;
          out[i + 2] = t[units[i + 2]!]!;
          out[i + 3] = t[units[i + 3]!]!;
        }
      } else {
        for (const end = n - 3; i < end; i += 4) {
          out[i] = t[text.charCodeAt(i)]!;
          out[i + 1] = t[text.charCodeAt(i + 1)]!;
          out[i + 2] = t[text.charCodeAt(i + 2)]!;
          out[i + 3] = t[text.charCodeAt(i + 3)]!;
        }
      }
      for (; i < n; i++) out[i] = t[text.charCodeAt(i)]!;
      return out;
    }
    const { encode, fallback, type } = this.table;
    const double = type === 'D';
    const out = Buffer.allocUnsafe(text.length * 2);
    let o = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const w = encode[c]!;
      if (w !== UNMAPPED) {
        if (double || w > 0xff) out[o++] = w >> 8;
        out[o++] = w & 0xff;
        continue;
      }
      if (this.profile === 'strict') {
        this.fail(text, i);
        break;
      }
      // Tcl 8.6 sees a surrogate pair as two characters (two fallbacks); replace sees one.
      if (this.profile === 'replace' && c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      for (const f of fallback) out[o++] = f;
    }
    return out.subarray(0, o);
  }

  protected resetState(): void {}

  protected cloneState(): TableEncoder {
    return new TableEncoder(this.encoding, this.profile, this.table);
  }
}
