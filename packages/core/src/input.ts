import { Buffer } from 'node:buffer';
import { clearArray } from './array.js';
import type { InputTranslation } from './options.js';
import { EolTranslation } from './eol-translation.js';
import type { Anchor } from './eol-translation.js';
import { tclUtf8HeldBytes } from './tcl-utf8-hold.js';

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
  /**
   * Optional: the state to go back to, as {@link clone} keeps it, or a number when the state is
   * only the stream offset (nothing held): the input marks its decoder at every chunk (see
   * `startSegmentIfClean`), and a number costs nothing. Without it, `clone` is used.
   */
  mark?(): StreamDecoder | number;
  /** With {@link mark}: a new decoder in the state that a mark of this decoder gave. */
  fromMark?(mark: StreamDecoder | number): StreamDecoder;
  /** Back to the initial state. */
  reset(): void;
}

const LF = 10;

/**
 * A decoder in the state saved at an anchor: a copy of the copy, or what the `mark()` number of
 * `current` (the decoder that made it: a new decoder gets no anchor of the old one) stands for.
 */
function decoderAt(saved: StreamDecoder | number, current: StreamDecoder): StreamDecoder {
  if (typeof saved !== 'number') return saved.clone();
  if (current.fromMark === undefined) throw new Error('internal: a decoder mark from a decoder without fromMark');
  return current.fromMark(saved);
}

const EMPTY = Buffer.alloc(0);

/** Result of a line request: the line, `null` at end of input, `undefined` when more input is needed. */
export type LineResult = string | null | undefined;

/**
 * Input buffering, decoding and end-of-line translation (see the module comment).
 * All methods are synchronous; "need more data" is reported as `undefined`.
 */
export class InputBuffer extends EolTranslation {
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
  /**
   * Decoded text after `text`, not yet joined to it: while a line is longer than what one chunk
   * brings, each chunk's text is searched once on its own and the pieces are joined once, when the
   * line end (or the end of input) arrives. Joining on every chunk made a long line quadratic.
   */
  private pieces: string[] = [];
  /** Total length of `pieces`. */
  private piecesLen = 0;
  /** `pieces` before this index hold no line end. */
  private piecesSearched = 0;
  /** Absolute output position of `pieces[piecesSearched]`. */
  private piecesSearchAbs = 0;
  /**
   * The last operation that consumed characters was a gets. Tcl's gets takes the LF of a CR LF
   * (auto mode) with the line when that LF is already buffered; its read N stops after the CR and
   * leaves the LF. It matters only when the translation or encoding changes right there (`rewind`).
   */
  private lastTakeWasLine = false;
  /** Characters after the input eofchar (the eofchar included), counted by `chan pending input`. */
  private eofDropped = 0;
  /** Where the next line search may start (absolute): earlier text has no line end. */
  private searchFrom = 0;
  /** Decoded characters to put in front of the next decoded chunk (after a rewind). */
  private carry = '';

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
  /** Input eofchar, `''` for none. */
  eofChar: string;

  constructor(decoder: StreamDecoder, translation: InputTranslation = 'auto', eofChar = '') {
    super(translation);
    this.decoder = decoder;
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
    return this.text.length - this.pos + this.piecesLen + this.carry.length;
  }

  /**
   * Bytes and characters waiting (`chan pending input`): raw bytes, plus decoded characters not
   * yet consumed (exact for single-byte encodings), plus bytes held by the decoder or a held CR.
   */
  get pendingInput(): number {
    return this.rawBytes + this.bufferedChars + (this.heldCR ? 1 : 0) + this.decoder.pending + this.eofDropped;
  }

  /** Something is buffered that an operation could look at. */
  get hasBufferedInput(): boolean {
    return this.rawBytes > 0 || this.pos < this.text.length || this.piecesLen > 0 || this.carry.length > 0;
  }

  /**
   * Decodes the next raw chunk (or the end of the stream) into text.
   * Returns false when there is nothing to decode until more bytes arrive.
   */
  private decodeNext(): boolean {
    if (this.eofCharHit) return false;
    if (this.rawHead < this.raw.length) {
      const chunk = this.takeRawChunk();
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
      // An operation needed more and met the end of the stream: Tcl's eof, even when the
      // operation then completes (a line that was waiting for bytes the decoder held).
      this.eof = true;
      this.append(this.decoder.end(), true);
      return true;
    }
    return false;
  }

  /** Takes the next raw chunk out of `raw` (there is one). */
  private takeRawChunk(): Buffer {
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
    return chunk;
  }

  /**
   * The usual read of a line protocol, taken in one step: nothing decoded waits, and the next raw
   * chunk is one whole line (a request, an answer, a header line). It is decoded and translated
   * as decodeNext does, and when the result is that one line and its end, with nothing held, the
   * line is returned with no segment kept: none of it stays to be given back (`rewind`), just as
   * the segment decodeNext starts would be dropped once the line was taken. Otherwise the chunk
   * goes on exactly as decodeNext takes it (its segment, its text) and `undefined` is returned.
   * The caller has checked that no text, piece or segment is there and a raw chunk is.
   */
  private lineOfNextChunk(): string | undefined {
    if (this.carry !== '' || this.heldCR || this.eofChar !== '' || this.eofCharHit || this.dataLf.length > 0) return undefined;
    const next = this.raw[this.rawHead] as Buffer;
    const n = next.length;
    // A cheap filter first: only a chunk whose last byte is a LF can be one whole line here.
    if (next[n - 1] !== LF) return undefined;
    // utf-8 as Tcl reads it may hold back the last bytes of the data (see decodeNext).
    if (this.tclUtf8Hold && this.rawHead + 1 === this.raw.length && !this.streamEnded && tclUtf8HeldBytes(next) > 0) return undefined;
    const d = this.decoder;
    if (d.pending !== 0) return undefined;
    const chunk = this.takeRawChunk();
    // The segment's state, as startSegmentIfClean saves it before the decoder or translation move.
    const mark = this.decoderMark();
    const sawCR = this.sawCR;
    const decoded = d.decode(chunk);
    const out = this.translate(decoded, false, this.textBase);
    const end = out.length - 1;
    if (end >= 0 && out.indexOf('\n') === end && this.dataLf.length === 0 && !this.heldCR && d.pending === 0 && d.error === undefined) {
      this.textBase += out.length;
      this.searchFrom = 0;
      this.lastTakeWasLine = true;
      return out.slice(0, end);
    }
    // As getLine's loop leaves it after searching the empty text, then as decodeNext and append go on.
    this.searchFrom = this.textBase;
    this.startSegment(mark, sawCR, false);
    this.segRaw.push(chunk);
    if (out.length > 0) {
      this.text = out;
      this.pos = 0;
    }
    return undefined;
  }

  /** Saves the state at the start of a segment when there is no decoded backlog. */
  private startSegmentIfClean(): void {
    if (this.anchor !== undefined) return;
    this.startSegment(this.decoderMark(), this.sawCR, this.heldCR);
  }

  /** The decoder's state to go back to. Most segments are consumed and dropped before any rewind: no copy when a mark will do. */
  private decoderMark(): StreamDecoder | number {
    const d = this.decoder;
    return d.mark !== undefined ? d.mark() : d.clone();
  }

  /** Starts a segment at the current output position, with the decoder and translator state saved before its bytes. */
  private startSegment(decoder: StreamDecoder | number, sawCR: boolean, heldCR: boolean): void {
    this.anchor = { decoder, sawCR, heldCR, outPos: this.textBase + this.pos, carry: this.carry };
    clearArray(this.segRaw);
  }

  /**
   * Drops the anchor once every decoded character is consumed and nothing is held. Not after the
   * eofchar: the bytes after it stay, for an eofchar change to give them back.
   */
  private dropSegmentIfClean(): void {
    if (
      this.anchor !== undefined &&
      this.pos >= this.text.length &&
      this.piecesLen === 0 &&
      !this.heldCR &&
      this.carry === '' &&
      this.decoder.pending === 0 &&
      !this.eofCharHit
    ) {
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
        // Logical end of input; `eof` is set by the operation that reaches it, as in Tcl.
        this.eofDropped = s.length - k;
        s = s.slice(0, k);
        this.eofCharHit = true;
        final = true;
      }
    }
    const out = this.translate(s, final, this.textBase + this.text.length + this.piecesLen);
    if (out.length === 0) return;
    if (this.pos >= this.text.length && this.piecesLen === 0) {
      this.textBase += this.text.length;
      this.text = out;
      this.pos = 0;
    } else {
      if (this.piecesLen === 0) {
        this.piecesSearched = 0;
        this.piecesSearchAbs = this.textBase + this.text.length;
      }
      this.pieces.push(out);
      this.piecesLen += out.length;
    }
  }

  /** Joins the pieces to the unconsumed text (one copy). */
  private join(): void {
    if (this.piecesLen === 0) return;
    const parts = this.pieces;
    if (this.pos < this.text.length) parts.unshift(this.pos === 0 ? this.text : this.text.slice(this.pos));
    this.textBase += this.pos;
    this.text = parts.length === 1 ? (parts[0] as string) : parts.join('');
    this.pos = 0;
    this.pieces = [];
    this.piecesLen = 0;
    this.piecesSearched = 0;
  }

  /** Consumes text up to index `end` (exclusive) in `text` (no pieces pending: `join` first). */
  private consumeTo(end: number): void {
    this.pos = end;
    if (this.dataLf.length > 0) {
      const abs = this.textBase + end;
      const k = this.firstMarkAtOrAfter(abs);
      if (k > 0) this.dataLf.splice(0, k);
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
    if (this.text.length === 0 && this.piecesLen === 0) {
      if (this.rawHead === this.raw.length && !this.streamEnded && !this.eofCharHit) {
        // Nothing buffered and more may come (a reader that took every line asks once more):
        // the loop below would search the empty text, find nothing to decode, and say so.
        this.searchFrom = this.textBase;
        return undefined;
      }
      if (this.anchor === undefined && this.rawHead < this.raw.length) {
        const line = this.lineOfNextChunk();
        if (line !== undefined) return line;
      }
    }
    for (;;) {
      // The text first (from where the last search stopped), then each piece not searched yet.
      const i = this.findLineEnd(this.text, Math.max(this.pos, this.searchFrom - this.textBase), this.textBase);
      if (i >= 0) return this.takeLine(i);
      this.searchFrom = this.textBase + this.text.length;
      while (this.piecesSearched < this.pieces.length) {
        const piece = this.pieces[this.piecesSearched] as string;
        const j = this.findLineEnd(piece, 0, this.piecesSearchAbs);
        if (j >= 0) {
          const abs = this.piecesSearchAbs + j;
          this.join();
          return this.takeLine(abs - this.textBase);
        }
        this.piecesSearchAbs += piece.length;
        this.piecesSearched++;
      }
      if (!this.decodeNext()) {
        if (!this.exhausted) return undefined;
        // The operation reached the end of input (stream end or eofchar): Tcl sets eof now.
        this.eof = true;
        this.join();
        if (this.pos < this.text.length) {
          const line = this.text.slice(this.pos);
          this.lastTakeWasLine = true;
          this.consumeTo(this.text.length);
          return line;
        }
        return null;
      }
    }
  }

  /** Takes the line ending at index `end` of `text` (the line end consumed, not returned). */
  private takeLine(end: number): string {
    const line = this.text.slice(this.pos, end);
    this.searchFrom = 0;
    this.lastTakeWasLine = true;
    this.consumeTo(end + 1);
    return line;
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
      const have = this.text.length - this.pos + this.piecesLen;
      if (count !== undefined && have >= count) {
        this.join();
        const s = this.text.slice(this.pos, this.pos + count);
        if (count > 0) this.lastTakeWasLine = false;
        this.consumeTo(this.pos + count);
        return [s, true];
      }
      if (!this.decodeNext()) {
        const done = this.exhausted;
        if (done) this.eof = true;
        if (!done && wait) return undefined;
        this.join();
        const s = this.text.slice(this.pos);
        if (s.length > 0) this.lastTakeWasLine = false;
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
        // The eofchar and what follows stay buffered (an eofchar change gives them back).
        this.raw.splice(this.rawHead, 0, out.subarray(k));
        this.rawBytes += out.length - k;
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
    // What follows the eofchar is decoded again (and the eofchar met again, if still set). Once an
    // operation met it (eof set), Tcl's EOF is sticky until `-eofchar` is set: reads stay empty.
    if (!this.eof) this.eofCharHit = false;
    this.eofDropped = 0;
    const anchor = this.anchor;
    if (anchor === undefined) return;
    const consumed = this.textBase + this.pos - anchor.outPos;
    let dec = decoderAt(anchor.decoder, this.decoder);
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
    // Tcl's gets took the LF of a CR LF with its line when the LF was buffered (decoded in this
    // segment): it is consumed too. After a read N that stopped at the CR, the LF stays.
    if (this.translation === 'auto' && this.sawCR && this.lastTakeWasLine && consumed > 0 && produced === consumed) {
      const probe = dec.clone();
      for (let j = stop + 1; j < bytes.length; j++) {
        const t = probe.decode(bytes.subarray(j, j + 1));
        if (t.length === 0) continue;
        if (t === '\n') {
          dec = probe;
          stop = j;
          this.sawCR = false;
        }
        break;
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
    this.textBase += this.text.length + this.piecesLen;
    this.text = '';
    this.pos = 0;
    this.pieces = [];
    this.piecesLen = 0;
    this.piecesSearched = 0;
    this.searchFrom = 0;
    this.dataLf.length = 0;
    this.carry = carryOut + held;
    this.heldCR = false;
    this.anchor = undefined;
    clearArray(this.segRaw);
    if (this.decoderEnded && rest.length > 0) this.decoderEnded = false;
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

  /**
   * Changes the input eofchar, giving decoded characters back first. As Tcl's `-eofchar`, it
   * clears the eof flag, even when the value is the same (an operation reaching the end sets it
   * again); `clearEof` false keeps it (`-translation binary`, which clears the eofchar in passing).
   */
  setEofChar(eofChar: string, clearEof = true): void {
    if (clearEof) this.eof = false;
    // The same value still ends a sticky EOF: what follows a met eofchar is looked at again.
    if (eofChar === this.eofChar && !(clearEof && this.eofCharHit)) return;
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
    this.pieces = [];
    this.piecesLen = 0;
    this.piecesSearched = 0;
    this.eofDropped = 0;
    this.carry = '';
    this.anchor = undefined;
    this.segRaw = [];
    this.dataLf = [];
  }
}
