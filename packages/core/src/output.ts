import { Buffer } from 'node:buffer';
import { clearArray } from './array.js';
import type { Buffering, OutputTranslation } from './options.js';

/**
 * The output side of a channel, with no I/O: text or bytes go in, and the bytes to hand to the
 * stream now come out, as Tcl's buffering decides. Only `\n` is translated (`lf`, `cr`, `crlf`);
 * text is then encoded; `full` buffering counts bytes after translation and encoding and sends
 * whole buffers as they fill; `line` sends the whole buffer when a write contains `\n`; `none`
 * sends every write at once. At close, the encoder's end (an ISO-2022 return escape) and the
 * output eofchar are added.
 */

/** The streaming encoder an {@link OutputBuffer} needs (`Encoder` of `@sockchan/encodings`). */
export interface StreamEncoder {
  /** Encodes text; a lone high surrogate at the end may be held. */
  encode(text: string): Uint8Array;
  /** End of output: held state, and the return-to-initial escape of stateful encodings. */
  end(): Uint8Array;
  /** Set (strict profile) when a character could not be encoded. */
  readonly error: Error | undefined;
}

const SURROGATE = /[\uD800-\uDFFF]/;
const EMPTY = Buffer.alloc(0);

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const LF_TEXT = '\n';
const CRLF_TEXT = '\r\n';
const CR_TEXT = '\r';

/** Output translation, encoding and buffering (see the module comment). */
export class OutputBuffer {
  /** Encoded pieces, in order, before `text`. */
  private chunks: Buffer[] = [];
  /** The caller's array of the last byte write, while chunks may still be views of it. */
  private lent: Uint8Array | undefined;
  private chunkBytes = 0;
  /**
   * Translated text not encoded yet (only text a fast path encodes exactly); it follows `chunks`.
   * Small writes are joined as a string and encoded once per buffer, not once per write.
   */
  private text = '';
  private textBytes = 0;
  /** The encoder may hold a high surrogate: the fast paths must not overtake it. */
  private encoderHolds = false;
  /**
   * `text` may hold characters outside a one-byte fast path's range: a short write is scanned as
   * it comes; a longer one (or any after a write that failed its scan) is checked once when the
   * text is taken (one byte per UTF-16 unit either way, see `checkText`).
   */
  private unchecked = false;
  /** How Node's own encoder can produce exactly Tcl's bytes for this encoding (see `fastPathOf`). */
  private fast: FastPath;
  private encoderInstance: StreamEncoder | undefined;
  private readonly makeEncoder: () => StreamEncoder;

  translation: OutputTranslation;
  buffering: Buffering;
  bufferSize: number;
  /** Output eofchar written at close, `''` for none. */
  eofChar = '';

  constructor(
    encoding: string,
    makeEncoder: () => StreamEncoder,
    translation: OutputTranslation = 'crlf',
    buffering: Buffering = 'full',
    bufferSize = 4096,
  ) {
    this.makeEncoder = makeEncoder;
    this.fast = fastPathOf(encoding);
    this.translation = translation;
    this.buffering = buffering;
    this.bufferSize = bufferSize;
  }

  /** Bytes buffered (after translation and encoding), not yet given out. */
  get bytes(): number {
    return this.chunkBytes + this.textBytes;
  }

  /** The encoder, created on first use (idle channels allocate none). */
  get encoder(): StreamEncoder {
    return (this.encoderInstance ??= this.makeEncoder());
  }

  /** Installs a new encoder (encoding change); what was written so far keeps its bytes. */
  setEncoder(encoding: string, makeEncoder: () => StreamEncoder): void {
    this.sealText();
    this.encoderInstance = makeEncoder();
    this.fast = fastPathOf(encoding);
    this.encoderHolds = false;
  }

  /**
   * Adds a write (`puts`): text is translated and encoded, bytes are taken as they are, as a view
   * of the caller's array until {@link own} (the caller sends what it can first: no copy of
   * bytes that leave at once); `newline`
   * appends the translated end of line. Returns everything buffered when the buffering mode sends
   * at once (`none`, or `line` and the write has a newline); otherwise `undefined`: whole buffers
   * are then taken with {@link takeFull}. `text`: what is sent at once comes as a `latin1` string
   * where {@link takeLatin1Text} allows (for a `net.Socket`: no Buffer per write).
   */
  write(data: string | Uint8Array, newline: boolean, text?: false): Buffer | undefined;
  write(data: string | Uint8Array, newline: boolean, text: boolean): Buffer | string | undefined;
  write(data: string | Uint8Array, newline: boolean, text = false): Buffer | string | undefined {
    // The usual puts of a line-buffered or unbuffered channel: one line with nothing buffered
    // before it, sent at once as latin1 text. The line and its end are that text, without a pass
    // through the buffer (what the buffer would give, checked the same way).
    if (text && newline && typeof data === 'string' && this.buffering !== 'full' && this.textBytes === 0 && this.chunkBytes === 0) {
      const fast = this.fast;
      if (fast !== undefined && fast.enc === 'latin1' && !this.encoderHolds && data.indexOf('\n') < 0 && fast.ok(data)) {
        return data + (this.translation === 'lf' ? LF_TEXT : this.translation === 'crlf' ? CRLF_TEXT : CR_TEXT);
      }
    }
    let hasLf = newline;
    if (typeof data === 'string') {
      if (data.length > 0) {
        if (data.indexOf('\n') >= 0) {
          hasLf = true;
          this.addText(this.translateText(data));
        } else {
          this.addText(data);
        }
      }
    } else {
      if (!hasLf && this.buffering === 'line' && data.indexOf(10) >= 0) hasLf = true;
      if (data.length > 0) {
        // Kept as a view for now: the caller gives what this call does not send to `own()`.
        this.addBytes(asBuffer(data));
        this.lent = data;
      }
    }
    if (newline) this.addEol();
    if (this.buffering === 'none' || (this.buffering === 'line' && hasLf)) return (text ? this.takeLatin1Text() : undefined) ?? this.takeAll();
    return undefined;
  }

  /** True while a chunk may be a view of the caller's bytes (call {@link own} before returning to it). */
  get lends(): boolean {
    return this.lent !== undefined;
  }

  /**
   * Copies what is still buffered of the caller's bytes (see {@link write}): Tcl sends the bytes
   * as they were at the call, whatever the caller does with its array afterwards.
   */
  own(): void {
    const lent = this.lent;
    if (lent === undefined) return;
    this.lent = undefined;
    const chunks = this.chunks;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i] as Buffer;
      if (c.buffer === lent.buffer) chunks[i] = Buffer.from(c);
    }
  }

  /** True when at least one whole buffer is waiting. */
  get hasFullBuffer(): boolean {
    return this.chunkBytes + this.textBytes >= this.bufferSize;
  }

  /**
   * {@link bytes} after the deferred range check: exact also when the encoder holds a high
   * surrogate of unchecked text (`bytes` counts it until then). For `chan pending output`.
   */
  get exactBytes(): number {
    this.checkText();
    return this.bytes;
  }

  /** The whole buffers waiting (a multiple of `bufferSize` bytes), or `undefined`. */
  takeFull(): Buffer | undefined {
    const parts = this.takeFullParts();
    return parts === undefined ? undefined : joinParts(parts);
  }

  /**
   * {@link takeFull} as the pieces the bytes are in (views of the buffer's chunks, and of the
   * caller's array before {@link own}), not joined: a writer that copies them anyway joins them
   * in its own memory (a pooled buffer) instead of a fresh one. One piece when they are one.
   */
  takeFullParts(): Buffer[] | undefined {
    const total = this.exactBytes;
    if (total < this.bufferSize) return undefined;
    this.sealText();
    return this.takeParts(total - (total % this.bufferSize));
  }

  /** Everything buffered (for flush), or `undefined` when empty. */
  takeAll(): Buffer | undefined {
    const total = this.exactBytes;
    return total === 0 ? undefined : this.take(total);
  }

  /**
   * The next `n` buffered bytes (all of them without `n`) as a `latin1` string, when everything
   * buffered is text of a one-byte fast path (one character per byte, `binary`, `iso8859-1`,
   * `ascii`); otherwise `undefined` (use `take()`, {@link takeAll}). For streams that copy a
   * string into the kernel at once (a `net.Socket`): a Buffer would hold its memory until the
   * next garbage collection, and fresh memory for every write costs page faults.
   */
  takeLatin1Text(n = this.textBytes): string | undefined {
    if (this.chunkBytes !== 0 || this.textBytes === 0 || n === 0 || this.fast === undefined || this.fast.enc !== 'latin1') return undefined;
    if (!this.checkText()) return undefined;
    const text = this.text;
    if (n >= this.textBytes) {
      this.text = '';
      this.textBytes = 0;
      return text;
    }
    this.text = text.slice(n);
    this.textBytes -= n;
    return text.slice(0, n);
  }

  /** The whole buffers waiting as one `latin1` string, as {@link takeLatin1Text} allows. */
  takeFullLatin1Text(): string | undefined {
    if (!this.checkText()) return undefined;
    const total = this.textBytes;
    if (total < this.bufferSize) return undefined;
    return this.takeLatin1Text(total - (total % this.bufferSize));
  }

  /** The final bytes at close: the encoder's end and the output eofchar (Tcl writes it raw). */
  finish(): Buffer | undefined {
    // Text waiting for its range check may end in a high surrogate the encoder must see before its end.
    this.checkText();
    if (this.encoderInstance !== undefined) {
      const tail = this.encoderInstance.end();
      if (tail.length > 0) this.addBytes(asBuffer(tail));
    }
    if (this.eofChar !== '') this.addBytes(Buffer.from([this.eofChar.charCodeAt(0) & 0xff]));
    return this.takeAll();
  }

  /** Discards what is buffered (a failed connect). */
  discard(): void {
    this.chunks = [];
    this.chunkBytes = 0;
    this.text = '';
    this.textBytes = 0;
    this.unchecked = false;
  }

  private translateText(text: string): string {
    switch (this.translation) {
      case 'lf':
        return text;
      case 'crlf':
        return text.replace(/\n/g, '\r\n');
      case 'cr':
        return text.replace(/\n/g, '\r');
    }
  }

  private addText(text: string): void {
    const fast = this.fast;
    if (fast !== undefined && !this.encoderHolds) {
      if (fast.enc === 'latin1') {
        // A short text is checked now, while it is one flat string (a scan of its code units);
        // the joined text is a rope that is slow to scan, and a long one is tested once, joined.
        if (!this.unchecked && (text.length > SCAN_LIMIT || !fast.ok(text))) this.unchecked = true;
        this.text += text;
        this.textBytes += text.length;
        return;
      }
      if (fast.ok(text)) {
        this.text += text;
        this.textBytes += Buffer.byteLength(text, 'utf8');
        return;
      }
    }
    this.sealText();
    const out = asBuffer(this.encoder.encode(text));
    const last = text.charCodeAt(text.length - 1);
    this.encoderHolds = last >= 0xd800 && last <= 0xdbff;
    if (out.length > 0) this.pushChunk(out);
  }

  /** The translated end of line: ASCII, so every fast path takes it as it is (no range test). */
  private addEol(): void {
    const eol = this.translation === 'lf' ? LF_TEXT : this.translation === 'crlf' ? CRLF_TEXT : CR_TEXT;
    if (this.fast !== undefined && !this.encoderHolds) {
      this.text += eol;
      this.textBytes += eol.length;
      return;
    }
    this.addText(eol);
  }

  private addBytes(buf: Buffer): void {
    this.sealText();
    this.pushChunk(buf);
  }

  private pushChunk(buf: Buffer): void {
    this.chunks.push(buf);
    this.chunkBytes += buf.length;
  }

  /**
   * The deferred range check of a one-byte fast path: true when `text` is all inside the range
   * (Node's `latin1` gives Tcl's bytes). Otherwise the real encoder encodes it into a chunk now
   * (`?` for what the encoding lacks) and this returns false. The byte count does not change:
   * these encoders give one byte per UTF-16 unit, and encoding the joined writes gives the bytes
   * the writes one by one would have given (a high surrogate at the end is held either way).
   */
  private checkText(): boolean {
    if (!this.unchecked) return true;
    this.unchecked = false;
    const text = this.text;
    if ((this.fast as FastPathSpec).ok(text)) return true;
    this.text = '';
    this.textBytes = 0;
    const out = asBuffer(this.encoder.encode(text));
    const last = text.charCodeAt(text.length - 1);
    this.encoderHolds = last >= 0xd800 && last <= 0xdbff;
    if (out.length > 0) this.pushChunk(out);
    return false;
  }

  /**
   * Encodes the pending text into a chunk. A lone small chunk before it (what a `takeFull` left
   * over) is merged into the same new Buffer, so the next take hands out one piece and does not
   * copy everything again to join them.
   */
  private sealText(): void {
    if (this.textBytes === 0 || !this.checkText()) return;
    const textBytes = this.textBytes;
    const enc = (this.fast as FastPathSpec).enc;
    const chunks = this.chunks;
    let buf: Buffer;
    if (chunks.length === 1 && this.chunkBytes < this.bufferSize) {
      const head = chunks[0] as Buffer;
      buf = Buffer.allocUnsafe(head.length + textBytes);
      head.copy(buf, 0);
      buf.write(this.text, head.length, textBytes, enc);
      clearArray(chunks);
      this.chunkBytes = 0;
    } else {
      buf = Buffer.from(this.text, enc);
    }
    this.text = '';
    this.textBytes = 0;
    this.pushChunk(buf);
  }

  /** Takes the first `n` buffered bytes as one Buffer. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.sealText();
    const chunks = this.chunks;
    // Everything, in one chunk (the usual flush): that chunk, without an array of parts.
    if (n === this.chunkBytes && chunks.length === 1) {
      const only = chunks[0] as Buffer;
      clearArray(chunks);
      this.chunkBytes = 0;
      return only;
    }
    return joinParts(this.takeParts(n));
  }

  /** Takes the first `n` (> 0) buffered bytes as the pieces they are in (the text sealed first). */
  private takeParts(n: number): Buffer[] {
    const chunks = this.chunks;
    if (n === this.chunkBytes) {
      this.chunkBytes = 0;
      return chunks.splice(0);
    }
    const parts: Buffer[] = [];
    let left = n;
    let i = 0;
    while (left > 0) {
      const c = chunks[i] as Buffer;
      if (c.length <= left) {
        parts.push(c);
        left -= c.length;
        i++;
      } else {
        parts.push(c.subarray(0, left));
        chunks[i] = c.subarray(left);
        left = 0;
      }
    }
    chunks.splice(0, i);
    this.chunkBytes -= n;
    return parts;
  }
}

/** The pieces of {@link OutputBuffer.takeParts} as one Buffer: the piece itself when there is one. */
function joinParts(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** A Node encoding that gives exactly Tcl's bytes for text that passes `ok`. */
interface FastPathSpec {
  readonly enc: 'utf8' | 'latin1';
  ok(text: string): boolean;
}
type FastPath = FastPathSpec | undefined;

// eslint-disable-next-line no-control-regex -- a range test that starts at U+0000
const NON_LATIN1 = /[^\u0000-\u00ff]/;
// Tcl's ascii table has no U+007F on output (it writes `?`): the fast path stops before it.
// eslint-disable-next-line no-control-regex -- a range test that starts at U+0000
const NON_ASCII = /[^\u0000-\u007e]/;
/**
 * Texts up to this length are range-checked by a loop over their code units: for a short line
 * (a request, a reply) that costs a few instructions, a regex test some hundred.
 */
const SCAN_LIMIT = 64;

/** True when no code unit of `t` is above `max`. */
function unitsAtMost(t: string, max: number): boolean {
  for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) > max) return false;
  return true;
}

/** True when `t` has no surrogate code unit (paired or not), as `SURROGATE` tests. */
function noSurrogate(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return false;
  }
  return true;
}

const ALWAYS: FastPathSpec = { enc: 'latin1', ok: () => true };
const UTF8: FastPathSpec = { enc: 'utf8', ok: (t) => (t.length <= SCAN_LIMIT ? noSurrogate(t) : !SURROGATE.test(t)) };
const LATIN1: FastPathSpec = { enc: 'latin1', ok: (t) => (t.length <= SCAN_LIMIT ? unitsAtMost(t, 0xff) : !NON_LATIN1.test(t)) };
const ASCII: FastPathSpec = { enc: 'latin1', ok: (t) => (t.length <= SCAN_LIMIT ? unitsAtMost(t, 0x7e) : !NON_ASCII.test(t)) };

/**
 * Encodings whose Tcl bytes Node produces itself: `binary` is the low 8 bits of each character
 * (Node's `latin1`); `utf-8` matches for text without surrogates (Tcl writes a lone surrogate as
 * its own 3-byte form, Node as U+FFFD); `iso8859-1` and `ascii` match for text inside their range
 * (other characters become `?` in Tcl, so such text goes to the real encoder).
 */
function fastPathOf(encoding: string): FastPath {
  switch (encoding) {
    case 'binary':
      return ALWAYS;
    case 'utf-8':
      return UTF8;
    case 'iso8859-1':
      return LATIN1;
    case 'ascii':
      return ASCII;
    default:
      return undefined;
  }
}
