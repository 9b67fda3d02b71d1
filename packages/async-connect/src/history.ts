import type { HistoryEntry } from './types.js';

/** Bounds of a {@link ConnectHistory}. */
export interface ConnectHistoryOptions {
  /** How many hosts are remembered; the least recently used is forgotten first (default 256). */
  maxHosts?: number;
  /** How long an entry is trusted, in ms (default 600000: ten minutes). */
  ttl?: number;
}

interface Stored extends HistoryEntry {
  readonly at: number;
}

/**
 * Per-destination memory (RFC 8305 section 5 allows it): which address and family won the last
 * connect to a host, for a bounded time and a bounded number of hosts. The next connect tries that
 * family and address first, so a host whose other family is black-holed costs one round trip
 * instead of the Connection Attempt Delay. Pure: every call takes `now` (ms, monotonic).
 */
export class ConnectHistory {
  readonly #maxHosts: number;
  readonly #ttl: number;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recent.
  readonly #entries = new Map<string, Stored>();

  /** Makes an empty history. */
  constructor(options: ConnectHistoryOptions = {}) {
    this.#maxHosts = Math.max(1, Math.floor(options.maxHosts ?? 256));
    this.#ttl = Math.max(0, options.ttl ?? 600_000);
  }

  /** Number of hosts remembered (expired entries included until next touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** The winner remembered for `host`, unless older than the ttl. */
  get(host: string, now: number): HistoryEntry | undefined {
    const key = host.toLowerCase();
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.at > this.#ttl) {
      this.#entries.delete(key);
      return undefined;
    }
    return { family: entry.family, address: entry.address };
  }

  /** Remembers that `address` won for `host`. */
  record(host: string, entry: HistoryEntry, now: number): void {
    const key = host.toLowerCase();
    this.#entries.delete(key);
    this.#entries.set(key, { family: entry.family, address: entry.address, at: now });
    while (this.#entries.size > this.#maxHosts) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Forgets `host` (after a connect to it failed altogether). */
  forget(host: string): void {
    this.#entries.delete(host.toLowerCase());
  }

  /** Forgets every host. */
  clear(): void {
    this.#entries.clear();
  }
}
