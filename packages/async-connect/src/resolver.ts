import { lookup } from 'node:dns';
import type { Family } from './types.js';

/**
 * Resolves `host` for one family, in the resolver's order of preference. Rejects with an error
 * whose `code` is the resolver's (`'ENOTFOUND'`, `'EAI_AGAIN'`, ...); an empty list is a negative
 * answer too.
 */
export type Resolver = (host: string, family: Family) => Promise<readonly string[]>;

function lookupFamily(host: string, family: 0 | Family): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // getaddrinfo on the libuv thread pool: /etc/hosts and nsswitch apply, the event loop never waits.
    // No AI_ADDRCONFIG, as in Tcl: loopback-only hosts and namespaces resolve too.
    lookup(host, { family, all: true, order: 'verbatim' }, (err, addresses) => {
      if (err !== null) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });
}

/**
 * The system resolver, one family at a time (RFC 8305 asks for AAAA and A in parallel).
 *
 * glibc's hosts file backend answers an IPv4-only query for a name listed only as `::1` with
 * 127.0.0.1 (it maps the IPv6 loopback). Tcl asks for both families at once and never sees that
 * address, so when an IPv4 answer holds 127.0.0.1 once it is checked against a query for both
 * families and dropped when that one does not list it. (An answer that holds it twice has it
 * from a 127.0.0.1 entry as well: `localhost` needs no second query.)
 */
export const systemResolver: Resolver = async (host, family) => {
  if (host === '') {
    // Tcl: `socket "" 80` fails with "Name or service not known"; Node's lookup would answer [] with a deprecation warning.
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
  }
  const addresses = await lookupFamily(host, family);
  if (family !== 4) return addresses;
  // Listed twice (glibc: once from a 127.0.0.1 line, once mapped from ::1), at least one is real.
  const loopbacks = addresses.filter((a) => a === '127.0.0.1').length;
  if (loopbacks !== 1) return addresses;
  let both: string[];
  try {
    both = await lookupFamily(host, 0);
  } catch {
    return addresses;
  }
  return both.includes('127.0.0.1') ? addresses : addresses.filter((a) => a !== '127.0.0.1');
};
