import type { Channel } from '@sockchan/core';
import { ByteStream, ByteVerifier, Prng, TextStream, TextVerifier } from './payload.js';
import type { VerifyResult } from './payload.js';

/**
 * One side of a soak connection over a sockchan `Channel`: sends its own deterministic stream in
 * random write sizes and checks the peer's, both at once (so both directions see backpressure),
 * in blocking or nonblocking mode. The stream ends with a half-close (`close('write')`); the
 * receiver's EOF then says the stream is complete.
 */

/** Lines of text (translated: CRLF on the wire, read back as LF) or raw bytes (`translation binary`). */
export type StreamFormat = 'text' | 'binary';
/** Blocking: awaited `puts`/`gets`/`read`. Nonblocking: `onReadable`/`onWritable` handlers. */
export type IoMode = 'blocking' | 'nonblocking';
/** How a blocking reader takes its input (nonblocking readers use `gets`/`readBytes` in a readable handler). */
export type ReadStyle = 'gets' | 'iterator' | 'read' | 'readBytes';

/** What one side does. */
export interface SessionPlan {
  /** Text lines or raw bytes. */
  readonly format: StreamFormat;
  /** Blocking or nonblocking channel. */
  readonly mode: IoMode;
  /** How a blocking reader reads. */
  readonly readStyle: ReadStyle;
  /** The channel's `-buffering`. */
  readonly buffering: 'full' | 'line' | 'none';
  /** Bytes this side sends, and the seed of its stream. */
  readonly sendBytes: number;
  readonly sendSeed: number;
  /** Bytes the peer sends, and the seed of that stream. */
  readonly recvBytes: number;
  readonly recvSeed: number;
  /** Seed of the write and read sizes. */
  readonly sizeSeed: number;
}

/** What one side saw. */
export interface SessionResult {
  /** Payload bytes handed to the channel. */
  readonly sentBytes: number;
  /** The check of the peer's stream. */
  readonly received: VerifyResult;
  /** Writes (`puts` calls). */
  readonly writes: number;
  /** An I/O error, if one ended the session. */
  readonly error: string | undefined;
  /** Wall time of the session. */
  readonly durationMs: number;
}

/** Keep at most this much output queued in nonblocking mode before waiting for writable. */
const NONBLOCKING_HIGH_WATER = 64 * 1024;

/** A random size, log-uniform from 1 to 64 KiB: many small writes, some large. */
function randomSize(p: Prng): number {
  const exp = p.int(0, 16);
  return p.int(exp === 0 ? 1 : 1 << (exp - 1), 1 << exp);
}

/** Sets the channel up for the plan's format, mode and buffering. */
export function configureForPlan(ch: Channel, plan: SessionPlan): void {
  if (plan.format === 'binary') ch.configure({ translation: 'binary' });
  else ch.configure({ translation: 'auto', encoding: 'utf-8' });
  ch.configure({ buffering: plan.buffering, blocking: plan.mode === 'blocking' });
}

/** Pieces of the outgoing stream in random sizes: strings for text (may split a surrogate pair), bytes for binary. */
class Pieces {
  private readonly sizes: Prng;
  private readonly text: TextStream | undefined;
  private readonly bytes: ByteStream | undefined;
  private carry = '';
  private textDone = false;
  /** Payload bytes produced so far (UTF-8 bytes for text). */
  produced = 0;

  constructor(plan: SessionPlan) {
    this.sizes = new Prng(plan.sizeSeed);
    if (plan.format === 'text') this.text = new TextStream(plan.sendSeed, plan.sendBytes);
    else this.bytes = new ByteStream(plan.sendSeed, plan.sendBytes);
  }

  /** The next piece, or `undefined` at the end. */
  next(): string | Buffer | undefined {
    const size = randomSize(this.sizes);
    if (this.bytes !== undefined) {
      const b = this.bytes.next(size);
      this.produced += b.length;
      return b.length === 0 ? undefined : b;
    }
    const text = this.text as TextStream;
    while (!this.textDone && this.carry.length < size) {
      const line = text.nextLine();
      if (line === null) this.textDone = true;
      else {
        this.carry += line + '\n';
        this.produced += Buffer.byteLength(line, 'utf8') + 1;
      }
    }
    if (this.carry.length === 0) return undefined;
    const piece = this.carry.slice(0, size);
    this.carry = this.carry.slice(size);
    return piece;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Sends the plan's stream, then half-closes. Resolves with the bytes sent and writes made. */
function sendStream(ch: Channel, plan: SessionPlan): Promise<{ sent: number; writes: number }> {
  const pieces = new Pieces(plan);
  let writes = 0;
  if (plan.mode === 'blocking') {
    return (async () => {
      for (let piece = pieces.next(); piece !== undefined; piece = pieces.next()) {
        writes += 1;
        await ch.puts(piece, { nonewline: true });
      }
      await ch.close('write');
      return { sent: pieces.produced, writes };
    })();
  }
  return new Promise((resolve, reject) => {
    ch.onWritable(() => {
      try {
        // One bounded batch per writable event (Tcl's idiom): the kernel may take megabytes at
        // once on loopback, and a handler that writes until it refuses starves every other
        // connection of the process for that long.
        const before = pieces.produced;
        while (ch.pending('output') < NONBLOCKING_HIGH_WATER && pieces.produced - before < NONBLOCKING_HIGH_WATER) {
          const piece = pieces.next();
          if (piece === undefined) {
            ch.onWritable(null);
            // Nonblocking: resolves at once; every queued byte is still delivered (then FIN).
            ch.close('write').then(() => resolve({ sent: pieces.produced, writes }), reject);
            return;
          }
          writes += 1;
          ch.puts(piece, { nonewline: true }).catch(reject);
        }
      } catch (err) {
        ch.onWritable(null);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** Line splitting for `read(n)`: whole lines out, the partial rest kept. */
class LineSplitter {
  private carry = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(s: string): void {
    let text = this.carry + s;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.onLine(text.slice(0, nl));
      text = text.slice(nl + 1);
      nl = text.indexOf('\n');
    }
    this.carry = text;
  }
  /** A partial line at EOF (the streams end with a newline, so any is an error). */
  end(): void {
    if (this.carry !== '') this.onLine(this.carry);
    this.carry = '';
  }
}

/** Reads and checks the peer's stream until EOF. */
function receiveStream(ch: Channel, plan: SessionPlan): Promise<VerifyResult> {
  const sizes = new Prng(plan.sizeSeed ^ 0x5a5a5a5a);
  const textCheck = plan.format === 'text' ? new TextVerifier(plan.recvSeed, plan.recvBytes) : undefined;
  const byteCheck = plan.format === 'binary' ? new ByteVerifier(plan.recvSeed, plan.recvBytes) : undefined;
  const finish = (): VerifyResult => (textCheck !== undefined ? textCheck.end() : (byteCheck as ByteVerifier).end());
  if (plan.mode === 'blocking') {
    return (async () => {
      if (textCheck !== undefined) {
        if (plan.readStyle === 'iterator') {
          for await (const line of ch) textCheck.line(line);
        } else if (plan.readStyle === 'read' || plan.readStyle === 'readBytes') {
          const split = new LineSplitter((l) => textCheck.line(l));
          for (;;) {
            const s = await ch.read(randomSize(sizes));
            if (s === '') break;
            split.push(s);
          }
          split.end();
        } else {
          for (let line = await ch.gets(); line !== null; line = await ch.gets()) textCheck.line(line);
        }
      } else {
        const check = byteCheck as ByteVerifier;
        for (;;) {
          const n = randomSize(sizes);
          const chunk = plan.readStyle === 'read' ? Buffer.from(await ch.read(n), 'latin1') : await ch.readBytes(n);
          if (chunk.length === 0) break;
          check.bytes(chunk);
        }
      }
      return finish();
    })();
  }
  return new Promise((resolve, reject) => {
    ch.onReadable(async () => {
      try {
        for (;;) {
          if (textCheck !== undefined) {
            const line = await ch.gets();
            if (line === null) {
              if (!ch.eof()) return; // blocked: wait for more bytes
              break;
            }
            textCheck.line(line);
          } else {
            const chunk = await ch.readBytes(randomSize(sizes));
            if (chunk.length === 0) {
              if (!ch.eof()) return;
              break;
            }
            (byteCheck as ByteVerifier).bytes(chunk);
          }
        }
        ch.onReadable(null);
        resolve(finish());
      } catch (err) {
        ch.onReadable(null);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/**
 * Runs one side of a connection over `ch` (already configured with {@link configureForPlan}):
 * sends and receives at once, then closes the channel. Never rejects: failures are in the result.
 */
export async function runSession(ch: Channel, plan: SessionPlan): Promise<SessionResult> {
  const started = performance.now();
  let error: string | undefined;
  const sending = sendStream(ch, plan).catch((err: unknown) => {
    error ??= `send: ${errorText(err)}`;
    return { sent: 0, writes: 0 };
  });
  const receiving = receiveStream(ch, plan).catch((err: unknown): VerifyResult => {
    error ??= `receive: ${errorText(err)}`;
    return { verifiedBytes: 0, verifiedLines: 0, expectedBytes: plan.recvBytes, error: errorText(err) };
  });
  const [sent, received] = await Promise.all([sending, receiving]);
  try {
    await ch.close();
  } catch (err) {
    error ??= `close: ${errorText(err)}`;
  }
  return { sentBytes: sent.sent, received, writes: sent.writes, error, durationMs: performance.now() - started };
}
