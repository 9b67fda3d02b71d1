import { closeSync, openSync } from 'node:fs';

/**
 * Running out of descriptors, made visible.
 *
 * When `accept()` fails with `EMFILE`, libuv closes its reserve descriptor, accepts and closes
 * every waiting connection with it, and reopens it: the peers see their connection closed and
 * the program hears nothing. This watch keeps a reserve descriptor of its own and checks, once a
 * second while a listener is open, whether one more descriptor could be opened. When none can,
 * it gives its reserve up: the next connection is then accepted by libuv into that slot and
 * reaches the listener, which asks {@link DescriptorWatch.stillFull} (one `open()` attempt): if
 * the process is still full, the listener closes that connection itself and counts it (the slot
 * is free again for the next one); otherwise the watch takes a new reserve and the connection is
 * served. So the connections closed for want of descriptors are counted and reported, and
 * accepting goes on as soon as descriptors are free. Connections that arrive between the table
 * filling up and the next check (at most a second) are still shed by libuv unseen.
 */

/** What the watch tells each listener: once a second, so that it reports what it counted. */
export interface DescriptorClient {
  /** Called on each check while the client is registered. */
  onDescriptorCheck(full: boolean): void;
}

const CHECK_INTERVAL_MS = 1000;
const PROBE_PATH = '/dev/null';

function isOutOfDescriptors(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Opens a descriptor, or gives `undefined` when the process (or system) has none left. */
function tryOpen(): number | undefined {
  try {
    return openSync(PROBE_PATH, 'r');
  } catch (err) {
    if (isOutOfDescriptors(err)) return undefined;
    throw err;
  }
}

/** The process-wide watch (descriptors are per process). @internal */
export class DescriptorWatch {
  readonly #clients = new Set<DescriptorClient>();
  #timer: NodeJS.Timeout | undefined;
  /** The reserve descriptor, `undefined` while given up (full) or before the first listener. */
  #reserve: number | undefined;
  #full = false;

  /** True while the process has no descriptor to spare (the reserve given up). */
  get full(): boolean {
    return this.#full;
  }

  /** Starts watching for `client` (the first one takes the reserve and starts the checks). */
  add(client: DescriptorClient): void {
    this.#clients.add(client);
    if (this.#timer !== undefined) return;
    if (!this.#full && this.#reserve === undefined) {
      try {
        this.#reserve = tryOpen();
      } catch {
        // No /dev/null to open: the checks find nothing either (see check()).
      }
    }
    this.#timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops watching for `client`; with none left, the checks stop and the reserve is closed. */
  delete(client: DescriptorClient): void {
    this.#clients.delete(client);
    if (this.#clients.size > 0) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#reserve !== undefined) closeSync(this.#reserve);
    this.#reserve = undefined;
    this.#full = false;
  }

  /**
   * Called for a connection accepted while {@link DescriptorWatch.full}: true when the process
   * is still out of descriptors (the caller closes the connection), false when there are some
   * again (the watch took its reserve back; serve the connection).
   */
  stillFull(): boolean {
    const fd = tryOpen();
    if (fd === undefined) return true;
    this.#reserve = fd;
    this.#full = false;
    return false;
  }

  /** One check: can one more descriptor be opened? Gives the reserve up when not. Exposed for tests. */
  check(): void {
    let full: boolean;
    try {
      full = this.#full ? this.#recheckWhileFull() : this.#checkWithReserve();
    } catch {
      full = this.#full;
    }
    for (const client of [...this.#clients]) client.onDescriptorCheck(full);
  }

  #checkWithReserve(): boolean {
    const probe = tryOpen();
    if (probe !== undefined) {
      closeSync(probe);
      if (this.#reserve === undefined) this.#reserve = tryOpen();
      return false;
    }
    // Full: give the reserve up, so that the next connection reaches the listener.
    if (this.#reserve !== undefined) closeSync(this.#reserve);
    this.#reserve = undefined;
    this.#full = true;
    return true;
  }

  #recheckWhileFull(): boolean {
    // Two free descriptors mean the process has room again: one becomes the reserve.
    const first = tryOpen();
    if (first === undefined) return true;
    const second = tryOpen();
    if (second === undefined) {
      closeSync(first);
      return true;
    }
    closeSync(second);
    this.#reserve = first;
    this.#full = false;
    return false;
  }
}

/** The watch of this process. @internal */
export const descriptorWatch = new DescriptorWatch();
