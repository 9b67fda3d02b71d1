import { clearArray } from './array.js';
import type { InputTranslation } from './options.js';

/**
 * The input side of a channel, with no I/O: raw bytes go in (`push`, `pushEnd`), Tcl's
 * gets/read results come out. Bytes stay raw until an operation needs characters; they are then
 * decoded with the channel's encoding, end-of-line translated as Tcl does, and cut at the input
 * eofchar. What was decoded but not yet consumed can be given back as raw bytes (`rewind`), so
 * an encoding or translation change in mid-stream loses and re-decodes nothing: Tcl keeps its
 * input raw and re-counts bytes the same way.
 */

/** The streaming decoder an {@link InputBuffer} needs (`Decoder` of `@sockchan/encodings`). */
export interface StreamDecoder {
  /** Decodes a chunk; an incomplete trailing sequence is held. */
  decode(chunk: Uint8Array): string;
  /** End of input: whatever is held, decoded as the profile says. */
  end(): string;
  /** Number of bytes held back. */
  readonly pending: number;
  /** Set (strict profile) when the input had an invalid sequence. */
  readonly error: Error | undefined;
  /** An independent copy with the same state. */
  clone(): StreamDecoder;
  /** Back to the initial state. */
  reset(): void;
}

const LF = 10;
const CR = 13;
const EMPTY = Buffer.alloc(0);

/** Translator state saved where a decoded segment starts, for `rewind`. */
interface Anchor {
  decoder: StreamDecoder;
  sawCR: boolean;
  heldCR: boolean;
  /** Absolute output position (in translated characters) where the segment starts. */
  outPos: number;
  /** Decoded text carried in front of the segment's bytes. */
  carry: string;
}

/** Result of a line request: the line, `null` at end of input, `undefined` when more input is needed. */
export type LineResult = string | null | undefined;

/**
 * Input buffering, decoding and end-of-line translation (see the module comment).
 * All methods are synchronous; "need more data" is reported as `undefined`.
 */
export class InputBuffer {
  /** Raw chunks not yet decoded, from `rawHead` on. */
  private raw: Buffer[] = [];
  private rawHead = 0;
  /** Undecoded raw bytes. */
  rawBytes = 0;
  /** The stream reported its end. */
  private streamEnded = false;
  /** `decoder.end()` was called (all input decoded). */
  private decoderEnded = false;
  /** The input eofchar was met: logical end of input. */
  private eofCharHit = false;
  /** Tcl's sticky EOF flag: an operation hit the end of input. */
  eof = false;

  /** Decoded, translated text; `text.slice(pos)` is unconsumed. */
  private text = '';
  private pos = 0;
  /** Absolute output position of `text[0]`. */
  private textBase = 0;
  /** Where the next line search may start (absolute): earlier text has no line end. */
  private searchFrom = 0;
  /** Absolute positions of LF characters that are data, not line ends (cr and crlf modes). */
  private dataLf: number[] = [];
  /** Decoded characters to put in front of the next decoded chunk (after a rewind). */
  private carry = '';

  /** auto: the last character translated was a CR, so a following LF is dropped. */
  private sawCR = false;
  /** crlf: a CR at the end of the decoded data, held until the next character shows what it is. */
  private heldCR = false;

  /** Raw chunks decoded since the anchor (kept until their text is consumed). */
  private segRaw: Buffer[] = [];
  private anchor: Anchor | undefined = undefined;

  decoder: StreamDecoder;
  /**
   * utf-8 only: hold back the last bytes of the available data the way Tcl 8.6's UTF-8 decoder
   * does (see `tclUtf8HeldBytes`), so an invalid sequence at the end of the data waits for more
   * bytes or the end, as in Tcl. Set by the channel when its encoding is utf-8.
   */
  tclUtf8Hold = false;
  translation: InputTranslation;
  /** Input eofchar, `''` for none. */
  eofChar: string;

  constructor(decoder: StreamDecoder, translation: InputTranslation = 'auto', eofChar = '') {
    this.decoder = decoder;
    this.translation = translation;
    this.eofChar = eofChar;
  }

  /** Adds bytes received from the stream. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.raw.push(chunk);
    this.rawBytes += chunk.length;
  }

  /** The stream ended (no more bytes will come). */
  pushEnd(): void {
    this.streamEnded = true;
  }

  /** True once the stream has ended (whether or not the data was read). */
  get streamHasEnded(): boolean {
    return this.streamEnded;
  }

  /** True when no more characters can ever be produced (end of stream or eofchar reached and all decoded). */
  get exhausted(): boolean {
    return this.eofCharHit || (this.decoderEnded && this.rawHead === this.raw.length);
  }

  /** Characters decoded and not consumed. */
  get bufferedChars(): number {
    return this.text.length - this.pos + this.carry.length;
  }

  /**
   * Bytes and characters waiting (`chan pending input`): raw bytes, plus decoded characters not
   * yet consumed (exact for single-byte encodings), plus bytes held by the decoder or a held CR.
   */
  get pendingInput(): number {
    return this.rawBytes + this.bufferedChars + (this.heldCR ? 1 : 0) + this.decoder.pending;
  }

  /** Something is buffered that an operation could look at. */
  get hasBufferedInput(): boolean {
    return this.rawBytes > 0 || this.pos < this.text.length || this.carry.length > 0;
  }

  /**
   * Decodes the next raw chunk (or the end of the stream) into text.
   * Returns false when there is nothing to decode until more bytes arrive.
   */
  private decodeNext(): boolean {
    if (this.eofCharHit) return false;
    if (this.rawHead < this.raw.length) {
      const chunk = this.raw[this.rawHead] as Buffer;
      this.raw[this.rawHead] = EMPTY;
      this.rawHead++;
      if (this.rawHead === this.raw.length) {
        clearArray(this.raw);
        this.rawHead = 0;
      } else if (this.rawHead > 64 && this.rawHead * 2 > this.raw.length) {
        this.raw = this.raw.slice(this.rawHead);
        this.rawHead = 0;
      }
      this.rawBytes -= chunk.length;
      this.startSegmentIfClean();
      this.segRaw.push(chunk);
      let decoded = this.decoder.decode(chunk);
      if (this.tclUtf8Hold && this.rawHead === this.raw.length && !this.streamEnded) {
        // Characters Tcl would not have decoded yet (see tclUtf8HeldBytes): bytes the decoder
        // already turned into characters (one each: invalid bytes and ASCII) wait for more input.
        const k = tclUtf8HeldBytes(chunk) - this.decoder.pending;
        if (k > 0 && k <= decoded.length) {
          const held = decoded.slice(decoded.length - k);
          decoded = decoded.slice(0, decoded.length - k);
          this.append(decoded, false);
          this.carry = held + this.carry;
          return true;
        }
      }
      this.append(decoded, false);
      return true;
    }
    if (this.streamEnded && !this.decoderEnded) {
      this.startSegmentIfClean();
      this.decoderEnded = true;
      this.eof = true;
      this.append(this.decoder.end(), true);
      return true;
    }
    return false;
  }

  /** Saves the state at the start of a segment when there is no decoded backlog. */
  private startSegmentIfClean(): void {
    if (this.anchor !== undefined) return;
    this.anchor = {
      decoder: this.decoder.clone(),
      sawCR: this.sawCR,
      heldCR: this.heldCR,
      outPos: this.textBase + this.pos,
      carry: this.carry,
    };
    clearArray(this.segRaw);
  }

  /** Drops the anchor once every decoded character is consumed and nothing is held. */
  private dropSegmentIfClean(): void {
    if (this.anchor !== undefined && this.pos >= this.text.length && !this.heldCR && this.carry === '' && this.decoder.pending === 0) {
      this.anchor = undefined;
      clearArray(this.segRaw);
    }
  }

  /** Applies eofchar and translation to decoded characters and appends them to the text. */
  private append(decoded: string, final: boolean): void {
    let s = decoded;
    if (this.carry !== '') {
      s = this.carry + s;
      this.carry = '';
    }
    if (this.eofChar !== '') {
      const k = s.indexOf(this.eofChar);
      if (k >= 0) {
        s = s.slice(0, k);
        this.eofCharHit = true;
        this.eof = true;
        final = true;
      }
    }
    const out = this.translate(s, final, this.textBase + this.text.length);
    if (out.length === 0) return;
    if (this.pos >= this.text.length) {
      this.textBase += this.text.length;
      this.text = out;
      this.pos = 0;
    } else if (this.pos > 0) {
      this.textBase += this.pos;
      this.text = this.text.slice(this.pos) + out;
      this.pos = 0;
    } else {
      this.text += out;
    }
  }

  /**
   * Tcl's input end-of-line translation of decoded characters (streaming: the state carries over).
   * `at` is the absolute output position of the result, for recording data LFs.
   */
  private translate(s: string, final: boolean, at: number): string {
    switch (this.translation) {
      case 'lf':
        return s;
      case 'auto': {
        if (s.length === 0) return s;
        if (this.sawCR) {
          this.sawCR = false;
          if (s.charCodeAt(0) === LF) {
            s = s.slice(1);
            if (s.length === 0) return s;
          }
        }
        if (s.indexOf('\r') < 0) return s;
        this.sawCR = s.charCodeAt(s.length - 1) === CR;
        return s.replace(/\r\n?/g, '\n');
      }
      case 'cr': {
        if (s.indexOf('\n') >= 0) {
          for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) this.dataLf.push(at + i);
        }
        return s.indexOf('\r') < 0 ? s : s.replace(/\r/g, '\n');
      }
      case 'crlf': {
        if (this.heldCR) {
          s = '\r' + s;
          this.heldCR = false;
        }
        if (!final && s.length > 0 && s.charCodeAt(s.length - 1) === CR) {
          s = s.slice(0, -1);
          this.heldCR = true;
        }
        let i = s.indexOf('\n');
        if (i < 0) return s;
        let out = '';
        let from = 0;
        for (; i >= 0; i = s.indexOf('\n', i + 1)) {
          if (i > 0 && s.charCodeAt(i - 1) === CR) {
            out += s.slice(from, i - 1);
            from = i; // keeps the LF, drops the CR
          } else {
            // A lone LF is data; its position in the output is known once the prefix is built.
            this.dataLf.push(at + out.length + (i - from));
          }
        }
        return out + s.slice(from);
      }
    }
  }

  /** Index in `text` of the next line end at or after `from` (skipping data LFs), or -1. */
  private findLineEnd(from: number): number {
    let i = this.text.indexOf('\n', from);
    const marks = this.dataLf;
    if (marks.length === 0) return i;
    const base = this.textBase;
    let k = 0;
    while (i >= 0) {
      const abs = base + i;
      while (k < marks.length && (marks[k] as number) < abs) k++;
      if (k < marks.length && marks[k] === abs) {
        i = this.text.indexOf('\n', i + 1);
        continue;
      }
      return i;
    }
    return -1;
  }

  /** Consumes text up to index `end` (exclusive) in `text`. */
  private consumeTo(end: number): void {
    this.pos = end;
    if (this.dataLf.length > 0) {
      const abs = this.textBase + end;
      while (this.dataLf.length > 0 && (this.dataLf[0] as number) < abs) this.dataLf.shift();
    }
    if (this.pos >= this.text.length) {
      this.textBase += this.text.length;
      this.text = '';
      this.pos = 0;
      this.dropSegmentIfClean();
    }
  }

  /**
   * Tcl's gets: the next line without its end, `null` at the end of input (sets `eof`), or
   * `undefined` when no whole line is buffered yet. A last partial line before the end is returned.
   */
  getLine(): LineResult {
    let from = Math.max(this.pos, this.searchFrom - this.textBase);
    for (;;) {
      const i = this.findLineEnd(from);
      if (i >= 0) {
        const line = this.text.slice(this.pos, i);
        this.searchFrom = 0;
        this.consumeTo(i + 1);
        return line;
      }
      this.searchFrom = this.textBase + this.text.length;
      if (!this.decodeNext()) {
        if (this.exhausted) {
          if (this.pos < this.text.length) {
            const line = this.text.slice(this.pos);
            this.consumeTo(this.text.length);
            return line;
          }
          this.eof = true;
          return null;
        }
        return undefined;
      }
      from = Math.max(this.pos, this.searchFrom - this.textBase);
    }
  }

  /** A strict-profile decoding error met so far, if any. */
  get decodeError(): Error | undefined {
    return this.decoder.error;
  }

  /**
   * Tcl's read. With `count`, at most that many characters; without, everything up to the end.
   * `wait` true (blocking) returns `undefined` until the count is reached or the input ended;
   * false (nonblocking) returns whatever is there. Returns `[text, complete]`, `complete` false when
   * the read stopped for lack of data.
   */
  readChars(count: number | undefined, wait: boolean): [string, boolean] | undefined {
    for (;;) {
      const have = this.text.length - this.pos;
      if (count !== undefined && have >= count) {
        const s = this.text.slice(this.pos, this.pos + count);
        this.consumeTo(this.pos + count);
        return [s, true];
      }
      if (!this.decodeNext()) {
        const done = this.exhausted;
        if (done) this.eof = true;
        if (!done && wait) return undefined;
        const s = this.text.slice(this.pos);
        this.consumeTo(this.text.length);
        return [s, done];
      }
    }
  }

  /**
   * Raw bytes, bypassing decoding and translation (what was already decoded is given back first
   * by {@link rewind}). With `count`, at most that many; `wait` as for {@link readChars}.
   * The input eofchar, when set, ends the bytes as it ends characters (matched as a byte).
   */
  readBytes(count: number | undefined, wait: boolean): [Buffer, boolean] | undefined {
    this.rewind(true);
    if (this.eofCharHit) {
      this.eof = true;
      return [EMPTY, true];
    }
    const ended = this.streamEnded;
    if (count === undefined) {
      if (wait && !ended) return undefined;
    } else if (wait && !ended && this.rawBytes < count) {
      return undefined;
    }
    // Without a count and without waiting, one queued chunk is enough (no copy to join several);
    // the rest stays buffered, so a readable handler runs again for it.
    const want =
      count === undefined ? (wait ? this.rawBytes : Math.min(this.rawBytes, this.raw[this.rawHead]?.length ?? 0)) : Math.min(count, this.rawBytes);
    let out = this.takeRaw(want);
    if (this.eofChar !== '') {
      const code = this.eofChar.charCodeAt(0);
      const k = out.indexOf(code);
      if (k >= 0) {
        out = out.subarray(0, k);
        this.eofCharHit = true;
        this.eof = true;
        return [out, true];
      }
    }
    const done = ended && this.rawBytes === 0;
    if (done && (count === undefined || out.length < count)) {
      this.eof = true;
      this.decoderEnded = true;
    }
    if (count === undefined && !wait && this.rawBytes > 0) return [out, true];
    return [out, count !== undefined ? out.length === count || done : done];
  }

  /** Takes `n` raw bytes from the queue (no copy when they lie in one chunk). */
  private takeRaw(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.raw[this.rawHead] as Buffer;
    if (first.length === n) {
      this.raw[this.rawHead++] = EMPTY;
      this.rawBytes -= n;
      if (this.rawHead === this.raw.length) {
        clearArray(this.raw);
        this.rawHead = 0;
      }
      return first;
    }
    if (first.length > n) {
      this.raw[this.rawHead] = first.subarray(n);
      this.rawBytes -= n;
      return first.subarray(0, n);
    }
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = this.raw[this.rawHead] as Buffer;
      if (c.length <= left) {
        parts.push(c);
        left -= c.length;
        this.raw[this.rawHead++] = EMPTY;
      } else {
        parts.push(c.subarray(0, left));
        this.raw[this.rawHead] = c.subarray(left);
        left = 0;
      }
    }
    if (this.rawHead === this.raw.length) {
      clearArray(this.raw);
      this.rawHead = 0;
    }
    this.rawBytes -= n;
    return Buffer.concat(parts, n);
  }

  /**
   * Gives decoded-but-unconsumed characters back as raw bytes: re-runs the decoder and the
   * translator from the segment's saved state over its bytes until the consumed count is reached,
   * and puts the rest back in front of the raw queue. With `resetDecoder`, bytes the decoder held are
   * given back too and the caller installs a fresh decoder; otherwise the decoder keeps them.
   */
  rewind(resetDecoder: boolean): void {
    const anchor = this.anchor;
    if (anchor === undefined) return;
    const consumed = this.textBase + this.pos - anchor.outPos;
    const dec = anchor.decoder.clone();
    this.sawCR = anchor.sawCR;
    this.heldCR = anchor.heldCR;
    const bytes = Buffer.concat(this.segRaw);
    let produced = 0;
    let carryOut = '';
    let stop = -1; // index of the last byte fed
    // Carried characters come first.
    if (anchor.carry !== '') {
      const t = this.translateCount(anchor.carry);
      if (t.length > consumed) carryOut = t.slice(consumed);
      produced += t.length;
    }
    if (produced < consumed || (produced === consumed && anchor.carry !== '' && carryOut === '')) {
      for (let i = 0; i < bytes.length && produced < consumed; i++) {
        const t = this.translateCount(dec.decode(bytes.subarray(i, i + 1)));
        produced += t.length;
        stop = i;
        if (produced > consumed) carryOut = t.slice(t.length - (produced - consumed));
      }
    }
    // Bytes from `restart` on are unconsumed.
    let restart = stop + 1;
    if (resetDecoder) restart -= dec.pending;
    if (restart < 0) restart = 0;
    const rest = bytes.subarray(restart);
    const held = this.heldCR ? '\r' : '';
    if (resetDecoder) dec.reset();
    this.decoder = dec;
    // New state: nothing decoded, the rest of the segment in front of the raw queue.
    const queue = this.raw.slice(this.rawHead);
    this.raw = rest.length > 0 ? [Buffer.from(rest), ...queue] : queue;
    this.rawHead = 0;
    this.rawBytes += rest.length;
    this.textBase += this.text.length;
    this.text = '';
    this.pos = 0;
    this.searchFrom = 0;
    this.dataLf.length = 0;
    this.carry = carryOut + held;
    this.heldCR = false;
    this.anchor = undefined;
    clearArray(this.segRaw);
    if (this.decoderEnded && rest.length > 0) this.decoderEnded = false;
  }

  /** Translation used while re-counting in `rewind` (records no data LFs). */
  private translateCount(s: string): string {
    const marks = this.dataLf.length;
    const out = this.translate(s, false, 0);
    this.dataLf.length = marks;
    return out;
  }

  /** Changes the decoder (encoding), giving decoded characters back first. */
  setDecoder(decoder: StreamDecoder): void {
    this.rewind(true);
    this.decoder = decoder;
  }

  /** Changes the input translation, giving decoded characters back first. */
  setTranslation(translation: InputTranslation): void {
    if (translation === this.translation) return;
    this.rewind(false);
    this.sawCR = false;
    this.translation = translation;
  }

  /** Changes the input eofchar, giving decoded characters back first. */
  setEofChar(eofChar: string): void {
    if (eofChar === this.eofChar) return;
    this.rewind(false);
    this.eofChar = eofChar;
  }

  /**
   * Everything received and not consumed, as raw bytes, for a new reader of the stream (a
   * STARTTLS switch, `Channel.replaceStream`): decoded-but-unconsumed characters are given back
   * first (`rewind`). A LF owed to a CR that already ended a line (`auto` translation) is left
   * out: it belongs to that line. The buffer is left for the caller to drop.
   */
  takeUnread(): Buffer {
    this.rewind(true);
    const parts: Buffer[] = [];
    // Characters one byte produced past the consumed point (a held CR, a CR before a non-LF):
    // text of the protocol line before a switch is ASCII, so their latin1 bytes are theirs.
    if (this.carry !== '') parts.push(Buffer.from(this.carry, 'latin1'));
    for (let i = this.rawHead; i < this.raw.length; i++) parts.push(this.raw[i] as Buffer);
    const out = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    return this.sawCR && this.translation === 'auto' && out[0] === LF ? out.subarray(1) : out;
  }

  /** Discards everything buffered (read side closed). */
  clear(): void {
    this.raw = [];
    this.rawHead = 0;
    this.rawBytes = 0;
    this.text = '';
    this.pos = 0;
    this.carry = '';
    this.anchor = undefined;
    this.segRaw = [];
    this.dataLf = [];
  }
}

/**
 * How many bytes at the end of `b` Tcl 8.6.13's UTF-8 decoder leaves for the next read when more
 * data may follow. Tcl stops at a character that starts within the last two bytes of the data and
 * looks incomplete by its lead byte (`Tcl_UtfCharComplete`, where a stray continuation byte counts
 * as needing three bytes), or at a sequence that runs past the end. So `61 E2 82 0A` decodes `a`
 * and the Latin-1 `â`, and keeps `82 0A` until more bytes or the end arrive (vector
 * `utf8-trunc-eol`); a valid sequence is never held once complete.
 */
export function tclUtf8HeldBytes(b: Buffer, startsAtCharacter = false): number {
  const len = b.length;
  if (len === 0) return 0;
  // Start from a byte that is certainly a character start: ASCII or a lead byte, at or before
  // len-3 (or the first byte, when the caller knows it starts a character).
  let q = 0;
  if (!startsAtCharacter || len > 8) {
    q = Math.min(len - 1, Math.max(0, len - 3));
    const floor = Math.max(0, len - 8);
    while (q > floor && (b[q] as number) >= 0x80 && (b[q] as number) < 0xc0) q--;
    const first = b[q] as number;
    if (first >= 0x80 && first < 0xc0 && !(startsAtCharacter && q === 0)) return 0;
  }
  let p = q;
  while (p < len) {
    const c = b[p] as number;
    const need = c < 0x80 ? 1 : c < 0xc0 ? 3 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 1;
    if (p >= len - 2 && need > len - p) return len - p;
    if (need === 1 || c < 0xc0) {
      p += 1;
      continue;
    }
    // A lead byte: a well-formed sequence is consumed whole, anything else one byte at a time.
    let ok = !(c === 0xc0 || c === 0xc1) || (c === 0xc0 && b[p + 1] === 0x80);
    for (let k = 1; ok && k < need; k++) {
      if (p + k >= len) return len - p; // runs past the end: wait for the rest
      const d = b[p + k] as number;
      ok = d >= 0x80 && d < 0xc0;
    }
    p += ok ? need : 1;
  }
  return 0;
}
