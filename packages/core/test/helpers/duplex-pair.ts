import { Duplex } from 'node:stream';

/**
 * Two connected in-memory duplex streams (no sockets): what one side writes, the other reads,
 * one chunk per write, so a test controls exactly how the input is split. Ending one side ends
 * the other's input; destroying one side ends the other's input too.
 */
export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (index: 0 | 1): Duplex =>
    new Duplex({
      read() {
        // Data is pushed by the other side's writes.
      },
      write(chunk: Buffer, _encoding, callback) {
        const other = sides[1 - index];
        if (chunk.length > 0 && other !== undefined && !other.destroyed) other.push(Buffer.from(chunk));
        callback();
      },
      final(callback) {
        const other = sides[1 - index];
        if (other !== undefined && !other.destroyed) other.push(null);
        callback();
      },
      destroy(err, callback) {
        const other = sides[1 - index];
        if (other !== undefined && !other.destroyed && !other.readableEnded) other.push(null);
        callback(err);
      },
    });
  sides.push(make(0), make(1));
  return [sides[0] as Duplex, sides[1] as Duplex];
}

/** Bytes waiting in a paused readable side, taken at once (empty when none). */
export function takeBuffered(side: Duplex): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = side.read() as Buffer | null;
    if (chunk === null) break;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Everything a readable side delivers until its end. */
export function collectAll(side: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    side.on('data', (c: Buffer) => parts.push(c));
    side.once('end', () => resolve(Buffer.concat(parts)));
    side.once('error', reject);
  });
}
