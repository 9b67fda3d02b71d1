import { crc32 } from 'node:zlib';

/**
 * Deterministic payloads and their verifiers. Both ends of a soak connection derive the same
 * stream from a seed, so the receiver checks every byte and every line against its own copy:
 * a lost, duplicated or reordered byte shows as the first mismatch, with its offset.
 */

/** A small seeded PRNG (mulberry32): fast, 32-bit state, the same sequence on every machine. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in `[min, max]` (inclusive). */
  int(min: number, max: number): number {
    return min + (this.nextU32() % (max - min + 1));
  }

  /** True with probability `1 / n`. */
  oneIn(n: number): boolean {
    return this.nextU32() % n === 0;
  }
}

/**
 * Characters of the text payload: mostly printable ASCII, plus 2-, 3- and 4-byte UTF-8
 * characters (the last a surrogate pair in JS), so random write sizes split multi-byte sequences.
 */
const WIDE_CHARS = ['é', 'ß', 'Ω', '€', '中', 'ア', '😀', '𝄞'];

/** The CRC-32 of a line's sequence number and body, as the line carries it (8 hex digits). */
export function lineChecksum(seq: number, body: string): string {
  return crc32(`${seq} ${body}`).toString(16).padStart(8, '0');
}

/** A fixed pool of text the line bodies are cut from: the generator costs O(1) per line. */
const CORPUS: string = (() => {
  const p = new Prng(0x5eed);
  let s = '';
  while (s.length < 64 * 1024) {
    s += p.oneIn(12) ? (WIDE_CHARS[p.int(0, WIDE_CHARS.length - 1)] as string) : String.fromCharCode(p.int(0x20, 0x7e));
  }
  return s;
})();

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * A text stream of self-checking lines `SEQ CRC BODY\n` (CRC = {@link lineChecksum}), ending at
 * the first line end at or after `totalBytes` UTF-8 bytes. Lines are mostly short, sometimes
 * several KiB long, so they cross buffer boundaries; bodies hold 2-, 3- and 4-byte characters.
 */
export class TextStream {
  private readonly prng: Prng;
  private seq = 0;
  private produced = 0;

  constructor(
    seed: number,
    private readonly totalBytes: number,
  ) {
    this.prng = new Prng(seed);
  }

  /** The next line without its `\n`, or `null` at the end of the stream. */
  nextLine(): string | null {
    if (this.produced >= this.totalBytes) return null;
    const p = this.prng;
    const len = p.oneIn(64) ? p.int(1000, 9000) : p.int(0, 120);
    let start = p.int(0, CORPUS.length - len);
    let end = start + len;
    // Whole characters only: a cut surrogate pair would not survive UTF-8.
    if (start < end && isLowSurrogate(CORPUS.charCodeAt(start))) start += 1;
    if (end > start && isHighSurrogate(CORPUS.charCodeAt(end - 1))) end -= 1;
    const body = CORPUS.slice(start, end);
    const seq = this.seq++;
    const line = `${seq} ${lineChecksum(seq, body)} ${body}`;
    this.produced += Buffer.byteLength(line, 'utf8') + 1;
    return line;
  }
}

/** Size of the random pool binary streams are cut from (1 MiB, a power of two). */
const POOL_SIZE = 1 << 20;
/** Random bytes, the same on every machine. */
const POOL: Buffer = (() => {
  const p = new Prng(0xb17e5);
  const b = Buffer.allocUnsafe(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i += 4) b.writeUInt32LE(p.nextU32(), i);
  return b;
})();

/**
 * A binary stream of `totalBytes` pseudo-random bytes, produced in chunks: block `k` (1 MiB) is
 * the random pool rotated by an offset derived from the seed and `k`, so producing and checking
 * cost a copy, and no shift, duplication or reordering of bytes or blocks goes unseen.
 */
export class ByteStream {
  private produced = 0;
  private block = -1;
  private blockOffset = 0;

  constructor(
    private readonly seed: number,
    private readonly totalBytes: number,
  ) {}

  /** Bytes left to produce. */
  get remaining(): number {
    return this.totalBytes - this.produced;
  }

  /** The pool offset block `k` starts at. */
  private offsetOf(k: number): number {
    if (k !== this.block) {
      this.block = k;
      this.blockOffset = new Prng((this.seed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0).nextU32() & (POOL_SIZE - 1);
    }
    return this.blockOffset;
  }

  /** The next `n` bytes (fewer at the end; empty once done): the same stream however it is cut. */
  next(n: number): Buffer {
    const count = Math.min(n, this.remaining);
    const out = Buffer.allocUnsafe(count);
    let i = 0;
    while (i < count) {
      const pos = this.produced + i;
      const within = pos & (POOL_SIZE - 1);
      const from = (this.offsetOf(Math.floor(pos / POOL_SIZE)) + within) & (POOL_SIZE - 1);
      const len = Math.min(count - i, POOL_SIZE - within, POOL_SIZE - from);
      POOL.copy(out, i, from, from + len);
      i += len;
    }
    this.produced += count;
    return out;
  }
}

/** What a receiver found: bytes that matched, the first mismatch, and whether the end was right. */
export interface VerifyResult {
  /** Bytes (UTF-8 bytes for text) received and equal to the expected stream, in order. */
  readonly verifiedBytes: number;
  /** Lines received and verified (text streams; 0 for binary). */
  readonly verifiedLines: number;
  /** Bytes the stream should have had in all. */
  readonly expectedBytes: number;
  /** The first problem, if any (mismatch, bad line checksum, data after the end, early EOF). */
  readonly error: string | undefined;
}

/** Checks received lines against a {@link TextStream} with the same seed, line by line. */
export class TextVerifier {
  private readonly expected: TextStream;
  private verifiedBytes = 0;
  private verifiedLines = 0;
  private error: string | undefined;
  private ended = false;

  constructor(
    private readonly seed: number,
    private readonly totalBytes: number,
  ) {
    this.expected = new TextStream(seed, totalBytes);
  }

  /** True once a problem was found (further input is ignored). */
  get failed(): boolean {
    return this.error !== undefined;
  }

  /** One received line (without its end). */
  line(got: string): void {
    if (this.error !== undefined) return;
    const want = this.expected.nextLine();
    if (want === null) {
      this.error = `data after the end of the stream: line ${this.verifiedLines} ${JSON.stringify(got.slice(0, 60))}`;
      return;
    }
    if (got !== want) {
      this.error = `line ${this.verifiedLines} (byte ${this.verifiedBytes}) differs: got ${JSON.stringify(got.slice(0, 60))}, want ${JSON.stringify(want.slice(0, 60))}`;
      return;
    }
    // The line's own checksum, independent of the generator: a check on every line.
    const m = /^(\d+) ([0-9a-f]{8}) (.*)$/s.exec(got);
    if (m === null || lineChecksum(Number(m[1]), m[3] as string) !== m[2] || Number(m[1]) !== this.verifiedLines) {
      this.error = `line ${this.verifiedLines}: bad checksum or sequence`;
      return;
    }
    this.verifiedLines += 1;
    this.verifiedBytes += Buffer.byteLength(got, 'utf8') + 1;
  }

  /** End of input: the stream must be complete. */
  end(): VerifyResult {
    if (!this.ended) {
      this.ended = true;
      // The rest of the expected stream, counted: what never arrived.
      let missing = 0;
      for (let want = this.expected.nextLine(); want !== null; want = this.expected.nextLine()) {
        missing += Buffer.byteLength(want, 'utf8') + 1;
      }
      if (this.error === undefined && missing > 0) this.error = `early end after ${this.verifiedBytes} bytes: ${missing} bytes missing`;
    }
    const expectedBytes = this.error === undefined ? this.verifiedBytes : this.expectedTotal();
    return { verifiedBytes: this.verifiedBytes, verifiedLines: this.verifiedLines, expectedBytes, error: this.error };
  }

  /** The whole stream's length (only computed when something went wrong). */
  private expectedTotal(): number {
    const counter = new TextStream(this.seed, this.totalBytes);
    let total = 0;
    for (let line = counter.nextLine(); line !== null; line = counter.nextLine()) total += Buffer.byteLength(line, 'utf8') + 1;
    return total;
  }
}

/** Checks received bytes against a {@link ByteStream} with the same seed, byte by byte. */
export class ByteVerifier {
  private readonly expected: ByteStream;
  private verifiedBytes = 0;
  private error: string | undefined;

  constructor(
    seed: number,
    private readonly total: number,
  ) {
    this.expected = new ByteStream(seed, total);
  }

  /** True once a problem was found. */
  get failed(): boolean {
    return this.error !== undefined;
  }

  /** A received chunk. */
  bytes(got: Uint8Array): void {
    if (this.error !== undefined || got.length === 0) return;
    const want = this.expected.next(got.length);
    const n = Math.min(want.length, got.length);
    const cmp = Buffer.compare(Buffer.from(got.buffer, got.byteOffset, n), want.subarray(0, n));
    if (cmp !== 0) {
      let i = 0;
      while (i < n && got[i] === want[i]) i++;
      this.verifiedBytes += i;
      this.error = `byte ${this.verifiedBytes} differs: got ${got[i]}, want ${want[i]}`;
      return;
    }
    this.verifiedBytes += n;
    if (got.length > want.length) this.error = `data after the end of the stream: ${got.length - want.length} bytes`;
  }

  /** End of input. */
  end(): VerifyResult {
    if (this.error === undefined && this.verifiedBytes !== this.total) this.error = `early end: ${this.verifiedBytes} of ${this.total} bytes`;
    return { verifiedBytes: this.verifiedBytes, verifiedLines: 0, expectedBytes: this.total, error: this.error };
  }
}
