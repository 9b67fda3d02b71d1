/**
 * The end-of-line scanning half of an `InputBuffer`, pure like it: Tcl's input translation
 * of decoded text (auto, lf, cr, crlf; streaming, a CR at a chunk end carried over), the positions
 * of LFs that are data rather than line ends (cr and crlf modes), and the line-end search that
 * skips them. `InputBuffer` (input.ts) extends it: one object, the same fields as before the split.
 * Its members carry the internal tag: not part of `InputBuffer`'s published type or docs.
 */
import type { InputTranslation } from './options.js';
import type { StreamDecoder } from './input.js';

const LF = 10;
const CR = 13;

/** Translator state saved where a decoded segment starts, for `rewind`. */
export interface Anchor {
  /** The decoder's state at the segment's start: a copy, or a `mark()` number. */
  decoder: StreamDecoder | number;
  sawCR: boolean;
  heldCR: boolean;
  /** Absolute output position (in translated characters) where the segment starts. */
  outPos: number;
  /** Decoded text carried in front of the segment's bytes. */
  carry: string;
}

/** Translation state and line-end scanning of an `InputBuffer` (see the module comment). */
export abstract class EolTranslation {
  /** @internal Absolute positions of LF characters that are data, not line ends (cr and crlf modes). */
  protected dataLf: number[] = [];
  /** @internal auto: the last character translated was a CR, so a following LF is dropped. */
  protected sawCR = false;
  /** @internal crlf: a CR at the end of the decoded data, held until the next character shows what it is. */
  protected heldCR = false;

  /** The input end-of-line translation (`binary` is `lf` here: the channel maps it). */
  translation: InputTranslation;

  constructor(translation: InputTranslation) {
    this.translation = translation;
  }

  /**
   * Tcl's input end-of-line translation of decoded characters (streaming: the state carries over).
   * `at` is the absolute output position of the result, for recording data LFs.
   * @internal
   */
  protected translate(s: string, final: boolean, at: number): string {
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

  /**
   * Index in `str` (whose first character is at absolute output position `base`) of the next line
   * end at or after `from` (skipping data LFs), or -1.
   * @internal
   */
  protected findLineEnd(str: string, from: number, base: number): number {
    let i = str.indexOf('\n', from);
    const marks = this.dataLf;
    if (marks.length === 0 || i < 0) return i;
    let k = this.firstMarkAtOrAfter(base + i);
    while (i >= 0) {
      const abs = base + i;
      while (k < marks.length && (marks[k] as number) < abs) k++;
      if (k < marks.length && marks[k] === abs) {
        i = str.indexOf('\n', i + 1);
        continue;
      }
      return i;
    }
    return -1;
  }

  /** @internal Index in `dataLf` of the first mark at or after absolute position `abs` (binary search). */
  protected firstMarkAtOrAfter(abs: number): number {
    const marks = this.dataLf;
    let lo = 0;
    let hi = marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((marks[mid] as number) < abs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** @internal Translation used while re-counting in `rewind` (records no data LFs). */
  protected translateCount(s: string): string {
    const marks = this.dataLf.length;
    const out = this.translate(s, false, 0);
    this.dataLf.length = marks;
    return out;
  }
}
