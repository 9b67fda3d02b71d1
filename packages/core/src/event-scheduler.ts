/**
 * A channel's event scheduler: Tcl's level-triggered `chan event readable`/`writable`. The
 * conditions (`readableNow`, `writableNow`), one deferred run per turn (`deferEvents` →
 * `runEvents`), the readable handler run at once on a socket read, and handlers that return a
 * promise (not run again until it settles) or throw (reported and removed).
 */
import { Conn } from './channel-state.js';
import type { Channel, ChannelEventHandler } from './channel.js';
import { ChannelInput } from './channel-input.js';

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

  /** @internal Runs the readable handler now (new input from a socket read); level-triggered re-runs stay deferred. */
  protected runReadable(): void {
    this.runReadableHandler();
    // The rest of this turn's reads wait for the deferred run, which sees them all at once: one
    // run per 64 KiB chunk (a bulk sink) would cost far more than the one run per burst before.
    if (!this.eventScheduled && !this.closed) this.deferEvents();
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
