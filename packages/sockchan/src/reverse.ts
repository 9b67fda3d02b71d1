import dns from 'node:dns';

/**
 * Reverse lookups for `-sockname` and `-peername`, never blocking the caller.
 *
 * Tcl calls `getnameinfo` on every query and blocks while the resolver works. sockchan starts the
 * lookup as soon as a connection exists and answers queries with the address until the name is
 * known. `dns.lookupService` is `getnameinfo` on libuv's thread pool, so `/etc/hosts` (and the
 * test names wrapper) apply as they do for Tcl.
 *
 * Answers are cached per address for a short while: a server accepting thousands of connections
 * from one client address (or on one local address) asks the thread pool once, not twice per
 * connection.
 */

/** Finds the host name of a numeric address; rejects or gives the address when there is none. */
export type ReverseLookup = (address: string) => Promise<string>;

/** How long an answer is reused. Names of local and loopback addresses rarely change. */
const CACHE_TTL_MS = 30_000;
/** Bound on the cache: beyond it, the oldest entries go first. */
const CACHE_MAX = 1024;

interface CacheEntry {
  readonly name: Promise<string>;
  readonly expires: number;
}

const cache = new Map<string, CacheEntry>();

async function systemReverse(address: string): Promise<string> {
  const { hostname } = await dns.promises.lookupService(address, 0);
  return hostname;
}

let lookupImpl: ReverseLookup = systemReverse;

/**
 * The host name of `address` (the address itself when none is known); never rejects.
 * @internal
 */
export function reverseName(address: string, now: number = Date.now()): Promise<string> {
  const hit = cache.get(address);
  if (hit !== undefined && hit.expires > now) return hit.name;
  if (hit !== undefined) cache.delete(address);
  const name = lookupImpl(address).then(
    (found) => (typeof found === 'string' && found !== '' ? found : address),
    () => address,
  );
  if (cache.size >= CACHE_MAX) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(address, { name, expires: now + CACHE_TTL_MS });
  return name;
}

/**
 * Replaces the reverse resolver (default: the system's `getnameinfo`) and clears the cache.
 * `undefined` restores the default. For tests and for hosts with an unusual resolver setup.
 */
export function setReverseLookup(lookup: ReverseLookup | undefined): void {
  lookupImpl = lookup ?? systemReverse;
  cache.clear();
}
