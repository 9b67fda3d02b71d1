// The client and server loops of the channel rows, written once for both implementations whose
// connections are sockchan channels: `@sockchan/core` (core-*.ts: a core `Channel` over a raw
// net.Socket) and `sockchan` (sockchan-*.ts: `socket` / `socket.server`, whose SocketChannel
// extends Channel). A row script only makes the channels (with the workload's options) and hands
// them to these functions, so both rows do the same work on the same traffic.
//
// The `...Client(args)` functions read their parameters first (before the row connects) and
// return the timed part, to be called with the connected, configured channel: the clock starts
// when the channel is ready and stops when the last answer is in.
import type { Channel, ChannelEventHandler } from '@sockchan/core';
import { bulkPlan, fail, intParam, lineBatches, printResult, secondsSince, strParam, warmupParam } from './common.js';
import type { RowArgs } from './common.js';

/** pingpong and lines: ASCII lines, LF, one byte per character (as net-pingpong/net-lines). */
export const lineOptions = { translation: 'lf', encoding: 'iso8859-1' } as const;

/** A client's timed part: runs on the connected channel, prints `RESULT` and closes it. */
export type TimedClient = (ch: Channel) => Promise<void>;

// ---- pingpong -------------------------------------------------------------------------------

/**
 * pingpong server: the tclsh row's server (tcl-pingpong.tcl) line for line: nonblocking,
 * `-buffering line`, and a readable handler that echoes every whole line buffered
 * (`while {[gets $chan line] >= 0} { puts $chan $line }`) and closes at EOF. `tryGets` and
 * `tryPuts` are the synchronous forms of gets and puts, as in Tcl's handler (no promise per line).
 */
export function pingpongServer(ch: Channel): void {
  ch.configure({ blocking: false, buffering: 'line' });
  ch.onReadable((c) => {
    let done: boolean;
    try {
      let line: string | null | undefined;
      while (typeof (line = c.tryGets()) === 'string') c.tryPuts(line);
      done = c.eof();
    } catch {
      done = true; // peer gone
    }
    if (done) {
      c.onReadable(null);
      void c.close().catch(() => undefined);
    }
  });
}

/**
 * pingpong client: sends one short line and waits for its echo (puts, flush, gets), `warmup`
 * times untimed (see warmupParam), then `count` times timed.
 */
export function pingpongClient(args: RowArgs): TimedClient {
  const count = intParam(args, 'count');
  const warmup = warmupParam(args);
  const line = strParam(args, 'line', 'ping');
  const roundTrips = async (ch: Channel, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await ch.puts(line);
      await ch.flush();
      const echo = await ch.gets();
      if (echo !== line) fail(`client: echo differs: ${JSON.stringify(echo)}`);
    }
  };
  return async (ch) => {
    await roundTrips(ch, warmup);
    const start = process.hrtime.bigint();
    await roundTrips(ch, count);
    printResult({ ops: count, seconds: secondsSince(start) });
    await ch.close();
  };
}

// ---- lines ----------------------------------------------------------------------------------

/**
 * How the lines rows take lines: `plain` awaits `gets()` / `puts()` for every line, as most code
 * does; `try` takes buffered lines with `tryGets()` / `tryPuts()` (no promise per line).
 */
export type LinesApi = 'plain' | 'try';

/**
 * lines server: echoes every line with full buffering, flushing whenever no more input is
 * buffered (as a Tcl server does), until EOF; then flushes and closes.
 */
export async function linesServer(ch: Channel, api: LinesApi): Promise<void> {
  try {
    if (api === 'plain') {
      for (;;) {
        // Flush when the input is drained, as a Tcl server does, then wait for more.
        if (ch.pending('input') === 0) await ch.flush();
        const line = await ch.gets();
        if (line === null) break;
        await ch.puts(line);
      }
    } else {
      for (;;) {
        // Buffered lines without a promise each.
        let line = ch.tryGets();
        if (line === undefined) {
          await ch.flush();
          line = await ch.gets();
        }
        if (line === null) break;
        if (!ch.tryPuts(line)) await ch.flush();
      }
    }
    await ch.flush();
  } catch {
    // peer gone
  }
  await ch.close().catch(() => undefined);
}

/**
 * lines client: writes `count` 40-byte lines in ~4 KiB batches of 100 (`puts -nonewline`, then
 * one flush) while it counts the echoed lines.
 */
export function linesClient(args: RowArgs, api: LinesApi): TimedClient {
  const count = intParam(args, 'count');
  const perBatch = 100;
  const batches = lineBatches(perBatch);
  return async (ch) => {
    const start = process.hrtime.bigint();
    const writer = (async () => {
      let sent = 0;
      while (sent < count) {
        const n = Math.min(perBatch, count - sent);
        const batch = batches[(sent / perBatch) % batches.length | 0]!;
        await ch.puts(n === perBatch ? batch : batch.slice(0, n * 40), { nonewline: true });
        sent += n;
      }
      await ch.flush();
    })();
    let received = 0;
    // The api is chosen once, outside the per-line loop.
    if (api === 'plain') {
      while (received < count) {
        if ((await ch.gets()) === null) fail(`client: EOF after ${received} lines`);
        received += 1;
      }
    } else {
      while (received < count) {
        if ((ch.tryGets() ?? (await ch.gets())) === null) fail(`client: EOF after ${received} lines`);
        received += 1;
      }
    }
    await writer;
    printResult({ ops: received, seconds: secondsSince(start) });
    await ch.close();
  };
}

// ---- bulk -----------------------------------------------------------------------------------

/**
 * How the bulk sink's readable handler takes everything buffered (like Tcl's [read $chan]; a
 * nonblocking `tryReadBytes()` hands over one queued chunk per call, and one chunk per event would
 * let the backlog grow while the socket delivers several per turn): `until-empty` calls it until
 * it gives nothing; `until-drained` also stops as soon as `pending('input')` is 0 after a chunk
 * (one call fewer per event). The two rows have always differed here; each keeps its own.
 */
export type BulkDrain = 'until-empty' | 'until-drained';

/**
 * bulk sink on a nonblocking binary channel: a readable handler counts the bytes; at EOF it
 * answers with the count as one line (blocking again) and closes. The handler is synchronous, as
 * a Tcl `fileevent` script with `read` is: `tryReadBytes()` takes buffered chunks without a
 * promise each (an `async` handler awaiting `readBytes()` per chunk did the same work with a
 * promise resolution and an await per 16 KiB TLS record).
 */
export function bulkSink(ch: Channel, drain: BulkDrain): void {
  const stopWhenDrained = drain === 'until-drained';
  let received = 0;
  ch.onReadable((c) => {
    for (let chunk = c.tryReadBytes(); chunk !== undefined && chunk.length > 0; chunk = c.tryReadBytes()) {
      received += chunk.length;
      if (stopWhenDrained && c.pending('input') === 0) break;
    }
    if (!c.eof()) return undefined;
    c.onReadable(null);
    c.configure({ blocking: true });
    return c.puts(String(received)).then(() => c.close());
  });
}

/**
 * bulk client on a binary channel: writes `bytes` bytes with `puts -nonewline` of `chunk`-byte
 * Buffers, half-closes (close write) and waits for the sink's count.
 */
export function bulkClient(args: RowArgs): TimedClient {
  const { timed, warmup, total, piece: pieceAfter } = bulkPlan(args);
  return async (ch) => {
    let start = 0n;
    let sent = 0;
    while (sent < total) {
      // Read on every warm-up write, the last time at the warm-up's end (see warmupParam).
      if (sent <= warmup) start = process.hrtime.bigint();
      const piece = pieceAfter(sent);
      sent += piece.length;
      await ch.puts(piece, { nonewline: true });
    }
    await ch.close('write');
    const reply = await ch.gets();
    const seconds = secondsSince(start);
    if (Number(reply) !== total) fail(`client: sink counted ${String(reply)} bytes, ${total} were sent`);
    printResult({ bytes: timed, seconds });
    await ch.close();
  };
}

// ---- idle -----------------------------------------------------------------------------------

/**
 * The readable handler of an idle server's channels (nonblocking), made once per server so the
 * measured cost is the channel's, not that of a closure per channel. Idle connections carry no
 * data; at EOF `closing` (if given) sees the channel, then it is closed.
 */
export function idleReadable(closing?: (ch: Channel) => unknown): ChannelEventHandler {
  return (ch) =>
    ch.read().then(() => {
      if (ch.eof()) {
        closing?.(ch);
        return ch.close();
      }
      return undefined;
    });
}
