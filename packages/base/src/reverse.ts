import process from 'node:process';
import dns from 'node:dns';
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { SocketAddress, isIP } from 'node:net';

/**
 * Reverse lookups (address to host name) for `sockname`/`peername`, shared by every channel and
 * listener of the process: one cache, one bound on lookups in flight, one reader of `/etc/hosts`.
 *
 * Tcl calls `getnameinfo` when `-peername` or `-sockname` is queried and blocks meanwhile. Node
 * runs `getnameinfo` (`dns.lookupService`) on libuv's thread pool, which `dns.lookup`, `fs` and
 * `crypto` share: a DNS that never answers holds a pool thread for the resolver's whole timeout
 * (10 s and more). So lookups here are lazy (started by a query), answered from `/etc/hosts`
 * at once when it has the address (read on the caller's thread, never the pool), bounded in
 * number on the pool (default 1: libuv gives DNS work 2 of its 4 threads, and `dns.lookup` keeps one), bounded in time (a waiter gets the
 * address after `timeoutMs`; the pool thread stays counted until `getnameinfo` returns), cached
 * (30 s; a stale name is served while it is looked up again), and queued in a bounded queue
 * (beyond it the address stands for itself).
 */

/** Finds the host name of a numeric address; rejects, or gives `''` or the address, when there is none. */
export type ReverseLookup = (address: string) => Promise<string>;

/** Options of {@link ReverseNames}. */
export interface ReverseNamesOptions {
  /** The lookup to run for addresses not in the hosts file; default `getnameinfo` (`dns.lookupService`). */
  lookup?: ReverseLookup;
  /**
   * The hosts file read before any lookup (re-read when it changes), `null` for none. Default
   * `/etc/hosts` with the system lookup, `null` with a `lookup` of your own (it replaces both).
   */
  hostsFile?: string | null;
  /**
   * Lookups running at once, at least 1. Default: one less than the threads libuv gives DNS work
   * (half its pool, `UV_THREADPOOL_SIZE`, rounded up), at least 1: 1 with the default pool of 4.
   */
  maxInFlight?: number;
  /** Lookups waiting for a free slot, at most; beyond, the address is the answer. Default 1024. */
  maxQueued?: number;
  /** After this many milliseconds a lookup's waiters get the address (default 5000). */
  timeoutMs?: number;
  /** How long an answer is reused before it is looked up again (default 30,000 ms). */
  cacheTtlMs?: number;
  /** Addresses kept in the cache at most; the oldest go first (default 1024). */
  cacheMax?: number;
}

/** Counters of a {@link ReverseNames}, for tests and diagnostics. */
export interface ReverseNamesStats {
  /** Lookups running now (each holds a thread of libuv's pool until it returns, timed out or not). */
  readonly inFlight: number;
  /** The most that ever ran at once. */
  readonly maxInFlightSeen: number;
  /** Lookups waiting for a slot. */
  readonly queued: number;
  /** Lookups started since creation (or the last {@link ReverseNames.reset}). */
  readonly started: number;
  /** Answers taken from the hosts file. */
  readonly fromHostsFile: number;
  /** Lookups whose waiters got the address because they took longer than `timeoutMs`. */
  readonly timedOut: number;
  /** Queries answered with the address because the queue was full. */
  readonly overflowed: number;
}

interface CacheEntry {
  /** The name once known (the address when there is none). */
  name: string | undefined;
  /** Settles with the name; shared by every waiter of this address. */
  promise: Promise<string> | undefined;
  expires: number;
}

interface Job {
  readonly address: string;
  readonly deadline: number;
  readonly entry: CacheEntry;
  resolve: ((name: string) => void) | undefined;
  running: boolean;
}

interface HostsTable {
  readonly key: string;
  readonly names: ReadonlyMap<string, string>;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_CACHE_TTL_MS = 30_000;
const DEFAULT_CACHE_MAX = 1024;
const DEFAULT_MAX_QUEUED = 1024;
const HOSTS_FILE = '/etc/hosts';

async function systemLookup(address: string): Promise<string> {
  const { hostname } = await dns.promises.lookupService(address, 0);
  return hostname;
}

/**
 * libuv runs DNS work (`getaddrinfo`, `getnameinfo`) on at most half its pool's threads, rounded
 * up: 2 of the default 4. Reverse lookups take one less, so that `dns.lookup` (every connect by
 * name) always finds a slot, however slow the reverse zone.
 */
function defaultMaxInFlight(): number {
  const pool = Number(process.env['UV_THREADPOOL_SIZE']);
  const size = Number.isInteger(pool) && pool > 0 ? Math.min(pool, 1024) : 4;
  return Math.max(1, Math.floor((size + 1) / 2) - 1);
}

/** The form an address is compared in: IPv6 canonical (`::1`), IPv4 as given. */
function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new SocketAddress({ address, family: 'ipv6' }).address;
  } catch {
    return address;
  }
}

/**
 * Parses a hosts file: each address gives the first name of the first line that lists it, as
 * glibc's `files` backend answers `getnameinfo`.
 * @internal
 */
export function parseHostsFile(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).trim().split(/\s+/);
    const [address, name] = fields;
    if (address === undefined || name === undefined || isIP(address) === 0) continue;
    const key = addressKey(address);
    if (!names.has(key)) names.set(key, name);
  }
  return names;
}

const NO_HOSTS: HostsTable = { key: '', names: new Map() };

function sanitizeCount(value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`expected a number of at least ${min} but got ${String(value)}`);
  }
  return Math.floor(value);
}

/**
 * A pool of reverse lookups: cache, hosts file, bounded queue and in-flight limit (see the
 * module comment). `reverseNames` is the process-wide one every channel and listener uses.
 */
export class ReverseNames {
  readonly #lookup: ReverseLookup;
  readonly #hostsFile: string | null;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #timeoutMs: number;
  readonly #cacheTtlMs: number;
  readonly #cacheMax: number;
  readonly #cache = new Map<string, CacheEntry>();
  /** Jobs not running yet, oldest first. */
  #queue: Job[] = [];
  #queueHead = 0;
  /** Jobs whose waiters have not been answered, oldest first (deadline order). */
  readonly #waiting = new Set<Job>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #hosts: HostsTable = NO_HOSTS;
  #hostsCheckedAt = -Infinity;
  #inFlight = 0;
  #maxInFlightSeen = 0;
  #started = 0;
  #fromHostsFile = 0;
  #timedOut = 0;
  #overflowed = 0;

  /** A pool with its own cache and bounds; options as {@link ReverseNamesOptions}. */
  constructor(options: ReverseNamesOptions = {}) {
    this.#lookup = options.lookup ?? systemLookup;
    this.#hostsFile = options.hostsFile !== undefined ? options.hostsFile : options.lookup === undefined ? HOSTS_FILE : null;
    this.#maxInFlight = sanitizeCount(options.maxInFlight, defaultMaxInFlight(), 1);
    this.#maxQueued = sanitizeCount(options.maxQueued, DEFAULT_MAX_QUEUED, 0);
    this.#timeoutMs = sanitizeCount(options.timeoutMs, DEFAULT_TIMEOUT_MS, 0);
    this.#cacheTtlMs = sanitizeCount(options.cacheTtlMs, DEFAULT_CACHE_TTL_MS, 0);
    this.#cacheMax = sanitizeCount(options.cacheMax, DEFAULT_CACHE_MAX, 1);
  }

  /**
   * The host name of `address` if it is known now (hosts file, cache), else `undefined` after
   * starting its lookup (unless one runs or waits already). Never blocks, never throws.
   */
  query(address: string): string | undefined {
    const answer = this.lookup(address);
    return typeof answer === 'string' ? answer : undefined;
  }

  /**
   * The host name of `address`: a string when known now, else a promise of it (settling with the
   * address itself when there is no name, the lookup failed, the queue was full, or `timeoutMs`
   * passed). Never rejects.
   */
  lookup(address: string, now: number = Date.now()): string | Promise<string> {
    const key = addressKey(address);
    const fromHosts = this.#fromHosts(key, now);
    if (fromHosts !== undefined) {
      this.#fromHostsFile += 1;
      return fromHosts;
    }
    let entry = this.#cache.get(key);
    if (entry !== undefined) {
      if (entry.expires > now || entry.promise !== undefined) {
        return entry.name ?? (entry.promise as Promise<string>);
      }
      // Stale: look it up again, the old name answers meanwhile.
    } else {
      if (this.#cache.size >= this.#cacheMax) this.#evictOne();
      entry = { name: undefined, promise: undefined, expires: now + this.#cacheTtlMs };
      this.#cache.set(key, entry);
    }
    const queued = this.#queue.length - this.#queueHead;
    if (this.#inFlight >= this.#maxInFlight && queued >= this.#maxQueued) {
      this.#overflowed += 1;
      return entry.name ?? address;
    }
    let resolve: ((name: string) => void) | undefined;
    const promise = new Promise<string>((r) => (resolve = r));
    entry.promise = promise;
    const job: Job = { address, deadline: now + this.#timeoutMs, entry, resolve, running: false };
    this.#waiting.add(job);
    if (this.#inFlight < this.#maxInFlight) this.#run(job);
    else this.#queue.push(job);
    this.#armTimer(now);
    return entry.name ?? promise;
  }

  /**
   * Starts the lookups of `addresses` (those not known yet) and waits until all are answered,
   * at most `timeoutMs`; never rejects.
   */
  async resolve(addresses: readonly string[], timeoutMs: number): Promise<void> {
    const pending: Promise<string>[] = [];
    for (const address of addresses) {
      const answer = this.lookup(address);
      if (typeof answer !== 'string') pending.push(answer);
    }
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, timeoutMs));
      timer.unref();
    });
    try {
      await Promise.race([Promise.all(pending), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Counters: in flight, queued, started, answered from the hosts file, timed out, overflowed. */
  stats(): ReverseNamesStats {
    return {
      inFlight: this.#inFlight,
      maxInFlightSeen: this.#maxInFlightSeen,
      queued: this.#queue.length - this.#queueHead,
      started: this.#started,
      fromHostsFile: this.#fromHostsFile,
      timedOut: this.#timedOut,
      overflowed: this.#overflowed,
    };
  }

  /**
   * Forgets the cache and the hosts file and resets the counters (lookups still running keep
   * their slots until they return); waiters get the address now.
   */
  reset(): void {
    for (const job of this.#waiting) this.#answer(job, job.address);
    this.#waiting.clear();
    this.#queue = [];
    this.#queueHead = 0;
    this.#cache.clear();
    this.#hosts = NO_HOSTS;
    this.#hostsCheckedAt = -Infinity;
    this.#maxInFlightSeen = this.#inFlight;
    this.#started = 0;
    this.#fromHostsFile = 0;
    this.#timedOut = 0;
    this.#overflowed = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #evictOne(): void {
    for (const [key, entry] of this.#cache) {
      // A lookup still running keeps its entry: its answer lands there.
      if (entry.promise !== undefined) continue;
      this.#cache.delete(key);
      return;
    }
  }

  #run(job: Job): void {
    job.running = true;
    this.#inFlight += 1;
    this.#started += 1;
    if (this.#inFlight > this.#maxInFlightSeen) this.#maxInFlightSeen = this.#inFlight;
    let result: Promise<string>;
    try {
      result = Promise.resolve(this.#lookup(job.address));
    } catch (err) {
      result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    result.then(
      (found) => this.#done(job, typeof found === 'string' && found !== '' ? found : job.address),
      () => this.#done(job, job.address),
    );
  }

  #done(job: Job, name: string): void {
    this.#inFlight -= 1;
    const entry = job.entry;
    entry.name = name;
    entry.promise = undefined;
    entry.expires = Date.now() + this.#cacheTtlMs;
    this.#answer(job, name);
    this.#pump();
  }

  #answer(job: Job, name: string): void {
    const resolve = job.resolve;
    if (resolve === undefined) return;
    job.resolve = undefined;
    this.#waiting.delete(job);
    resolve(name);
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queueHead < this.#queue.length) {
      const job = this.#queue[this.#queueHead] as Job;
      this.#queueHead += 1;
      // Answered already (timed out while waiting): its address is known not to be worth a thread now.
      if (job.resolve === undefined) continue;
      this.#run(job);
    }
    if (this.#queueHead > 64 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #armTimer(now: number): void {
    const first = this.#waiting.values().next();
    if (first.done === true) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    const at = first.value.deadline;
    if (this.#timer !== undefined && this.#timerAt === at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - now));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const job of this.#waiting) {
      if (job.deadline > now) break;
      this.#timedOut += 1;
      if (!job.running) {
        // Never started: the next query of this address may try again.
        job.entry.promise = undefined;
        if (job.entry.name === undefined) job.entry.expires = now;
      }
      this.#answer(job, job.entry.name ?? job.address);
    }
    this.#armTimer(now);
  }

  /** The name the hosts file gives `key`, re-reading the file when it changed (checked at most once a second). */
  #fromHosts(key: string, now: number): string | undefined {
    const file = this.#hostsFile;
    if (file === null) return undefined;
    if (now - this.#hostsCheckedAt >= 1000 || now < this.#hostsCheckedAt) {
      this.#hostsCheckedAt = now;
      this.#hosts = readHosts(file, this.#hosts);
    }
    return this.#hosts.names.get(key);
  }
}

/** Reads `file` unless its identity (device, inode, size, mtime) is that of `previous`; synchronous on purpose (never the thread pool). */
function readHosts(file: string, previous: HostsTable): HostsTable {
  try {
    const st = statSync(file, { bigint: true });
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    if (key === previous.key) return previous;
    const fd = openSync(file, 'r');
    try {
      // Size from the open file: the stat above may be of a file replaced since.
      const again = fstatSync(fd, { bigint: true });
      return { key: `${again.dev}:${again.ino}:${again.size}:${again.mtimeNs}`, names: parseHostsFile(readFileSync(fd, 'utf8')) };
    } finally {
      closeSync(fd);
    }
  } catch {
    return NO_HOSTS;
  }
}

let shared = new ReverseNames();

/**
 * The process-wide pool every `SocketChannel` and listener uses (see {@link ReverseNames}).
 * {@link setReverseLookup} replaces it.
 */
export function reverseNames(): ReverseNames {
  return shared;
}

/**
 * Replaces the process-wide reverse lookup: a function of yours (it then replaces the hosts file
 * too), or options for a new pool; `undefined` restores the default (`/etc/hosts`, then
 * `getnameinfo`). The cache starts empty. For tests and for hosts with an unusual resolver setup.
 */
export function setReverseLookup(lookup: ReverseLookup | ReverseNamesOptions | undefined): void {
  shared.reset();
  shared = new ReverseNames(typeof lookup === 'function' ? { lookup } : (lookup ?? {}));
}
