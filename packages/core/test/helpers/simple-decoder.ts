import { StringDecoder } from 'node:string_decoder';
import type { StreamDecoder } from '../../src/index.js';

/**
 * A small streaming decoder (Node's StringDecoder: `utf8` or `latin1`) for testing the pure input
 * layer without @sockchan/encodings. It tracks held bytes so `pending` and `clone` are exact.
 */
export class SimpleDecoder implements StreamDecoder {
  private held: Buffer = Buffer.alloc(0);
  readonly error = undefined;
  constructor(private readonly enc: 'utf8' | 'latin1') {}

  decode(chunk: Uint8Array): string {
    const all = Buffer.concat([this.held, Buffer.from(chunk)]);
    if (this.enc === 'latin1') {
      this.held = Buffer.alloc(0);
      return all.toString('latin1');
    }
    const sd = new StringDecoder('utf8');
    const out = sd.write(all);
    // StringDecoder keeps an incomplete tail; find how many bytes that is.
    const keep = incompleteTail(all);
    this.held = all.subarray(all.length - keep);
    return out;
  }

  end(): string {
    const out = this.held.toString(this.enc);
    this.held = Buffer.alloc(0);
    return out;
  }

  get pending(): number {
    return this.held.length;
  }

  clone(): SimpleDecoder {
    const c = new SimpleDecoder(this.enc);
    c.held = Buffer.from(this.held);
    return c;
  }

  reset(): void {
    this.held = Buffer.alloc(0);
  }
}

/** Bytes at the end of `b` that start an incomplete UTF-8 sequence. */
function incompleteTail(b: Buffer): number {
  for (let k = 1; k <= 3 && k <= b.length; k++) {
    const c = b[b.length - k] as number;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}
