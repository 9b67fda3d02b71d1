/**
 * A channel's event scheduler: Tcl's level-triggered `chan event readable`/`writable`. The
 * conditions (`readableNow`, `writableNow`), one deferred run per turn (`deferEvents` →
 * `runEvents`), the readable handler run at once on a socket read, and handlers that return a
 * promise (not run again until it settles) or throw (reported and removed).
 */
import process from 'node:process';
import { Conn } from './channel-state.js';
import type { Channel, ChannelEventHandler } from './channel.js';
import { ChannelInput } from './channel-input.js';

/**
 * Reads of at least this many bytes may be followed by more in the same event loop turn: libuv
 * reads again after a read that filled its 64 KiB buffer, and a TLS socket emits one read per
 * record (at most 16 KiB of data each).
 */
const BURST_READ_BYTES = 16 * 1024;

/** The event scheduler of a {@link Channel} (see the module comment). */
export abstract class EventScheduler extends ChannelInput {
  /** @internal */
  protected readableNow(): boolean {
    if (!this.canRead || this.conn === Conn.Connecting) return false;
    if (this.conn === Conn.Failed) return false;
    if (this.streamEnded || this.readError !== undefined) return true;
    // No input buffer yet: no byte has arrived.
    const input = this.inputBuffer;
    if (input === undefined) return false;
    if (input.exhausted) return true;
    return input.hasBufferedInput && !this.needMoreData;
  }

  /** @internal */
  protected writableNow(): boolean {
    if (!this.canWrite) return false;
    if (this.connectOutcomePending) return true;
    if (this.conn !== Conn.Open) return false;
    const s = this.stream;
    return s !== undefined && !s.writableNeedDrain && !s.destroyed;
  }

  /** @internal */
  protected scheduleEvents(): void {
    if (this.eventScheduled || this.closed) return;
    const r = this.readableHandler !== null && !this.readableRunning && this.readableNow();
    const w = this.writableHandler !== null && !this.writableRunning && this.writableNow();
    if (!r && !w) return;
    this.deferEvents();
  }

  /** @internal Runs the handlers on the next turn (runEvents looks at their conditions then). */
  protected deferEvents(): void {
    this.eventScheduled = true;
    setImmediate(runEvents, this);
  }

  /**
   * @internal Runs the readable handler now (new input from a socket read of `bytes` bytes);
   * level-triggered re-runs stay deferred.
   */
  protected runReadable(bytes: number): void {
    this.runReadableHandler();
    if (this.eventScheduled || this.closed) return;
    // A full read (libuv's 64 KiB, a whole 16 KiB TLS record) is likely one of a burst: the rest
    // of this turn's reads wait for the deferred run, which sees them all at once (one run per
    // chunk of a bulk sink would cost far more than one run per burst). A shorter read emptied
    // the socket (a TLS socket may give several short records of one read in a row: the handler
    // then runs for each, as a 'data' listener would): a deferred run is only needed if the
    // handler left something to do, and skipping it saves an immediate per message on a
    // request/response connection.
    if (bytes >= BURST_READ_BYTES) this.deferEvents();
    else this.scheduleEvents();
  }

  /** @internal Runs the readable handler if its condition holds and it is not still running. */
  protected runReadableHandler(): void {
    const rh = this.readableHandler;
    if (rh !== null && !this.readableRunning && this.readableNow()) {
      this.invoke(rh, true);
      // A handler that returned (or threw) at once had its turn: hold it to the plain bound.
      if (!this.readableRunning && !this.closed && this.inputBuffer !== undefined) this.boundInput(1);
    }
  }

  /** @internal One turn of the event loop: runs the handlers whose condition holds. */
  runEvents(): void {
    this.eventScheduled = false;
    if (this.closed) return;
    this.runReadableHandler();
    const wh = this.writableHandler;
    if (!this.closed && wh !== null && wh === this.writableHandler && !this.writableRunning && this.writableNow()) {
      if (this.connectOutcomePending) this.connectOutcomePending = false;
      this.invoke(wh, false);
    }
    this.scheduleEvents();
  }

  /** @internal */
  protected invoke(handler: ChannelEventHandler, readable: boolean): void {
    let result: unknown;
    try {
      // Every instance is a Channel (the layers are abstract).
      result = handler(this as unknown as Channel);
    } catch (err) {
      this.handlerFailed(err, readable);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      if (readable) this.readableRunning = true;
      else this.writableRunning = true;
      (result as Promise<unknown>).then(
        () => this.handlerSettled(readable),
        (err: unknown) => {
          this.handlerSettled(readable);
          this.handlerFailed(err, readable);
        },
      );
    }
  }

  /** @internal */
  protected handlerSettled(readable: boolean): void {
    if (readable) {
      this.readableRunning = false;
      if (!this.closed && this.inputBuffer !== undefined) this.boundInput(1);
    } else this.writableRunning = false;
    this.scheduleEvents();
  }

  /**
   * A handler threw: reported on stderr like Tcl's default background error handler, and the
   * handler is removed (Tcl keeps it, which loops forever when the error repeats).
   * @internal
   */
  protected handlerFailed(err: unknown, readable: boolean): void {
    if (readable) this.readableHandler = null;
    else this.writableHandler = null;
    process.stderr.write(`${this.name} ${readable ? 'readable' : 'writable'} handler: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}

function runEvents(ch: EventScheduler): void {
  ch.runEvents();
}
