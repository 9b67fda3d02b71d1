import { Buffer } from 'node:buffer';
import { DecoderBase, EMPTY, EncoderBase, scratchUnits, unitsToString } from './codec.js';
import { UNMAPPED, loadTable } from './tables.js';
import type { Table } from './tables.js';
import type { EncodingProfile } from './types.js';

/*
 * The escape-driven encodings iso2022, iso2022-jp and iso2022-kr, as Tcl 8.6.13 runs them: a list
 * of (table encoding, escape sequence) states, state 0 at the start; an `init` sequence written
 * first and skipped wherever read; on output, a character the current table cannot encode switches
 * to the first state whose table can (writing its sequence), and the end of output returns to
 * state 0. Tcl 8.6 quirks kept under tcl8: a byte or pair with no mapping in the current table
 * reads as NUL; an unknown escape sequence skips as many bytes as the longest known sequence; in a
 * double-byte state every character is two bytes (a newline included).
 */

interface EscapeSpec {
  readonly init: string;
  readonly final: string;
  readonly states: readonly (readonly [table: string, sequence: string])[];
}

// The definitions of Tcl 8.6's library/encoding/iso2022*.enc.
const SPECS: Readonly<Record<string, EscapeSpec>> = {
  'iso2022-jp': {
    init: '',
    final: '',
    states: [
      ['ascii', '\x1b(B'],
      ['jis0201', '\x1b(J'],
      ['jis0208', '\x1b$B'],
      ['jis0208', '\x1b$@'],
      ['jis0212', '\x1b$(D'],
      ['gb2312', '\x1b$A'],
      ['ksc5601', '\x1b$(C'],
    ],
  },
  'iso2022-kr': {
    init: '\x1b$)C',
    final: '',
    states: [
      ['iso8859-1', '\x0f'],
      ['ksc5601', '\x0e'],
    ],
  },
  iso2022: {
    init: '',
    final: '',
    states: [
      ['iso8859-1', '\x1b(B'],
      ['jis0201', '\x1b(J'],
      ['gb1988', '\x1b(T'],
      ['jis0208', '\x1b$B'],
      ['jis0208', '\x1b$@'],
      ['jis0212', '\x1b$(D'],
      ['gb2312', '\x1b$A'],
      ['ksc5601', '\x1b$(C'],
      ['jis0208', '\x1b&@\x1b$B'],
    ],
  },
};

interface Escape {
  readonly init: Uint8Array;
  readonly final: Uint8Array;
  readonly sequences: readonly Uint8Array[];
  readonly tables: readonly Table[];
  /** 1 for the first byte of any sequence. */
  readonly isPrefix: Uint8Array;
  /** Length of the longest sequence (what an unknown one skips). */
  readonly longest: number;
}

const loaded = new Map<string, Escape>();

function escapeOf(name: string): Escape {
  let escape = loaded.get(name);
  if (escape !== undefined) return escape;
  const spec = SPECS[name]!;
  const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
  const init = bytes(spec.init);
  const final = bytes(spec.final);
  const sequences = spec.states.map(([, seq]) => bytes(seq));
  const isPrefix = new Uint8Array(256);
  for (const s of [init, final, ...sequences]) if (s.length > 0) isPrefix[s[0]!] = 1;
  const longest = Math.max(init.length, final.length, ...sequences.map((s) => s.length));
  escape = { init, final, sequences, tables: spec.states.map(([table]) => loadTable(table)), isPrefix, longest };
  loaded.set(name, escape);
  return escape;
}

/** Whether `seq` stands in `bytes` at `at` (the caller checked there are enough bytes). */
function startsWith(bytes: Uint8Array, at: number, seq: Uint8Array): boolean {
  for (let k = 0; k < seq.length; k++) if (bytes[at + k] !== seq[k]) return false;
  return true;
}

/** Decoder of an escape encoding. */
export class EscapeDecoder extends DecoderBase {
  private readonly spec: Escape;
  private state = 0;
  /** Bytes held from the end of the previous chunk: a cut escape sequence or lead byte. */
  private held: Uint8Array = EMPTY;

  constructor(encoding: string, profile: EncodingProfile) {
    super(encoding, profile);
    this.spec = escapeOf(encoding);
  }

  get pending(): number {
    return this.held.length;
  }

  protected decodeChunk(chunk: Uint8Array): string {
    const base = -this.held.length;
    let bytes = chunk;
    if (this.held.length > 0) {
      bytes = new Uint8Array(this.held.length + chunk.length);
      bytes.set(this.held, 0);
      bytes.set(chunk, this.held.length);
      this.held = EMPTY;
    }
    const { sequences, tables, isPrefix, longest, init, final } = this.spec;
    const n = bytes.length;
    const out = scratchUnits(n + 1);
    let o = 0;
    let i = 0;
    let table = tables[this.state]!;
    while (i < n) {
      const b = bytes[i]!;
      if (isPrefix[b] !== 0) {
        const left = n - i;
        if (init.length > 0 && init.length <= left && startsWith(bytes, i, init)) {
          i += init.length;
          continue;
        }
        if (final.length > 0 && final.length <= left && startsWith(bytes, i, final)) {
          i += final.length;
          continue;
        }
        let matched = -1;
        for (let s = 0; s < sequences.length; s++) {
          const seq = sequences[s]!;
          if (seq.length <= left && startsWith(bytes, i, seq)) {
            matched = s;
            break;
          }
        }
        if (matched >= 0) {
          this.state = matched;
          table = tables[matched]!;
          i += sequences[matched]!.length;
          continue;
        }
        if (left < longest) {
          // A longer sequence may still match: wait for more bytes.
          this.held = bytes.slice(i);
          break;
        }
        // Unknown escape sequence: Tcl 8.6 skips as many bytes as the longest sequence has.
        if (this.profile === 'strict') {
          this.fail(base + i, b);
          break;
        }
        if (this.profile === 'replace') out[o++] = 0xfffd;
        i += longest;
        continue;
      }
      let c: number;
      let size = 1;
      if (table.isLead[b] !== 0) {
        if (i + 1 >= n) {
          this.held = bytes.slice(i);
          break;
        }
        c = table.pairs[(b << 8) | bytes[i + 1]!]!;
        size = 2;
      } else {
        c = table.single[b]!;
      }
      if (c === UNMAPPED) {
        if (this.profile === 'strict') {
          this.fail(base + i, b);
          break;
        }
        c = this.profile === 'replace' ? 0xfffd : 0;
      }
      out[o++] = c;
      i += size;
    }
    return unitsToString(out, o);
  }

  protected decodeEnd(): string {
    const held = this.held;
    if (held.length === 0) return '';
    this.held = EMPTY;
    // Tcl 8.6 drops a cut escape sequence or lead byte at the end of input.
    if (this.profile === 'strict') {
      this.fail(-held.length, held[0]!);
      return '';
    }
    return this.profile === 'replace' ? '\uFFFD' : '';
  }

  protected resetState(): void {
    this.state = 0;
    this.held = EMPTY;
  }

  /** Also in the initial shift state (ASCII): a later escape sequence changes what bytes mean. */
  protected override atBoundary(): boolean {
    return this.held.length === 0 && this.state === 0;
  }

  protected cloneState(): EscapeDecoder {
    const copy = new EscapeDecoder(this.encoding, this.profile);
    copy.state = this.state;
    copy.held = this.held.slice();
    return copy;
  }
}

/** Encoder of an escape encoding. */
export class EscapeEncoder extends EncoderBase {
  private readonly spec: Escape;
  private state = 0;
  /** Whether the init sequence has been written. */
  private started = false;

  constructor(encoding: string, profile: EncodingProfile) {
    super(encoding, profile);
    this.spec = escapeOf(encoding);
  }

  /**
   * The init sequence when nothing was written yet (`encoding convertto` writes it even for
   * empty text; a channel that never writes writes nothing).
   */
  begin(): Uint8Array {
    if (this.started) return EMPTY;
    this.started = true;
    return this.spec.init;
  }

  protected encodeText(text: string): Uint8Array {
    const { tables, sequences, init } = this.spec;
    const out: number[] = [];
    if (!this.started) {
      this.started = true;
      for (const b of init) out.push(b);
    }
    let table = tables[this.state]!;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let w = table.encode[c]!;
      if (w === UNMAPPED && c !== 0) {
        let found = -1;
        for (let s = 0; s < tables.length; s++) {
          if (tables[s]!.encode[c] !== UNMAPPED) {
            found = s;
            break;
          }
        }
        if (found < 0) {
          if (this.profile === 'strict') {
            this.fail(text, i);
            break;
          }
          if (this.profile === 'replace' && c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
            const d = text.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) i++;
          }
          // The current table's fallback, without changing state.
          for (const f of table.fallback) out.push(f);
          continue;
        }
        if (found !== this.state) {
          this.state = found;
          table = tables[found]!;
          for (const b of sequences[found]!) out.push(b);
        }
        w = table.encode[c]!;
      }
      if (w === UNMAPPED) w = 0;
      if (table.type === 'D' || w > 0xff) out.push(w >> 8);
      out.push(w & 0xff);
    }
    return Uint8Array.from(out);
  }

  protected override encodeEnd(): Uint8Array {
    if (!this.started) return EMPTY;
    const out: number[] = [];
    if (this.state !== 0) for (const b of this.spec.sequences[0]!) out.push(b);
    for (const b of this.spec.final) out.push(b);
    return Uint8Array.from(out);
  }

  protected resetState(): void {
    this.state = 0;
    this.started = false;
  }

  protected cloneState(): EscapeEncoder {
    const copy = new EscapeEncoder(this.encoding, this.profile);
    copy.state = this.state;
    copy.started = this.started;
    return copy;
  }
}
