import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { Channel, createEncoder, posixError, systemEncoding } from 'sockchan';
import type { Encoder, SockchanError } from 'sockchan';

/**
 * The shell's side of the CLI: stdin as a Tcl channel (so Tcl's `auto` input translation and the
 * system encoding apply, or bytes as they are), stdout as a byte sink with backpressure, and the
 * copy loop between them and a socket channel.
 */

/** Where copied data goes: `write` may wait (backpressure), `flush` sends what is buffered. */
export interface Sink {
  /** Writes text (encoded by the sink) or bytes (as they are). */
  write(data: string | Uint8Array): Promise<void>;
  /** Sends what is buffered. */
  flush(): Promise<void>;
}

/**
 * stdin as a read-only Tcl channel named `stdin`, in nonblocking mode (the copy loop reads what is
 * there). `raw` gives Tcl's `-translation binary`; otherwise Tcl's stdin defaults (system encoding,
 * `auto`).
 */
export function stdinChannel(stdin: Readable, raw: boolean): Channel {
  // A duplex whose writable side is absent: the channel only ever reads from it.
  const stream = Duplex.from({ readable: stdin });
  return new Channel(stream, { name: 'stdin', blocking: false, translation: raw ? 'binary' : 'auto' });
}

/**
 * stdout as a {@link Sink}: text is encoded in the system encoding (Tcl's stdout, translation
 * `lf`), bytes go as they are. `write` waits for `drain` when the pipe is full. A failed write
 * (a closed pipe: `sockchan ... | head -1`) rejects with Tcl's `error writing "stdout": broken pipe`.
 */
export class StdoutSink implements Sink {
  readonly #out: Writable;
  readonly #encoder: Encoder;
  #error: SockchanError | undefined;

  /** Wraps `out` (normally `process.stdout`). */
  constructor(out: Writable) {
    this.#out = out;
    this.#encoder = createEncoder(systemEncoding());
    out.on('error', (err: unknown) => {
      this.#error ??= posixError('error writing "stdout": ', (err as NodeJS.ErrnoException).code ?? 'EPIPE', err);
    });
  }

  /** Writes and waits while the pipe is full. */
  write(data: string | Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const bytes = typeof data === 'string' ? this.#encoder.encode(data) : data;
    if (bytes.length === 0 || this.#out.write(bytes)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.#out.off('drain', done);
        this.#out.off('error', done);
        this.#out.off('close', done);
        if (this.#error === undefined) resolve();
        else reject(this.#error);
      };
      this.#out.on('drain', done);
      this.#out.on('error', done);
      this.#out.on('close', done);
    });
  }

  /** stdout is unbuffered here: nothing to do but report a failed write. */
  flush(): Promise<void> {
    return this.#error === undefined ? Promise.resolve() : Promise.reject(this.#error);
  }
}

/** A socket channel as a {@link Sink}: `puts -nonewline` and `flush`. */
export function channelSink(chan: Channel): Sink {
  return {
    write: (data) => chan.puts(data, { nonewline: true }),
    flush: () => chan.flush(),
  };
}

/** A running copy: `done` settles when the source reached EOF (and the sink was flushed) or failed. */
export interface Copy {
  /** Resolves at the source's EOF, after the last flush; rejects with the first I/O error. */
  readonly done: Promise<void>;
  /** Stops copying (the handler is removed; `done` resolves). Safe to call at any time. */
  stop(): void;
}

/**
 * Tcl's `fcopy` in the background, the event-driven way: a readable handler on `source`
 * (nonblocking) reads what is there and writes it to `sink`. The handler returns a promise, so it
 * is not run again until the sink took the data: a slow sink stops the reads, and the channel
 * stops reading from the OS (backpressure end to end). The sink is flushed whenever the source
 * has nothing more right now, so interactive lines go out at once whatever `-buffering` says
 * (as netcat does); `-buffering` still decides how bursts are cut into writes.
 *
 * Each read takes what is there now (a nonblocking read) but the source's blocking mode is left as
 * it was: a socket is read here and written by the other copy, and in blocking mode its `puts`
 * waits while the kernel's queue is full. A socket left nonblocking would queue without bound.
 *
 * `raw` copies bytes (`readBytes`) instead of text.
 */
export function startCopy(source: Channel, sink: Sink, raw: boolean): Copy {
  let stopped = false;
  let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const finish = (err?: unknown): void => {
    if (stopped) return;
    stopped = true;
    try {
      source.onReadable(null);
    } catch {
      // The source was closed meanwhile: no handler left to remove.
    }
    if (err === undefined) settle?.resolve();
    else settle?.reject(err);
  };
  source.onReadable(async () => {
    if (stopped) return;
    try {
      const data = await readAvailable(source, raw);
      if (data.length > 0) await sink.write(data);
      if (source.eof()) {
        await sink.flush();
        finish();
      } else if (source.pending('input') === 0) {
        await sink.flush();
      }
    } catch (err) {
      finish(err);
    }
  });
  return { done, stop: () => finish() };
}

/**
 * Tcl's nonblocking `read`: what is there now, without waiting. The channel is switched to
 * nonblocking only for the call (the mode is taken when the read starts), so its writes keep
 * blocking mode's backpressure.
 */
function readAvailable(source: Channel, raw: boolean): Promise<string | Uint8Array> {
  const wasBlocking = source.configure('blocking') === true;
  if (wasBlocking) source.configure({ blocking: false });
  try {
    return raw ? source.readBytes() : source.read();
  } finally {
    if (wasBlocking) source.configure({ blocking: true });
  }
}
