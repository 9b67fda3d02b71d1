import { readFileSync } from 'node:fs';
import { SockchanError } from './errors.js';
import { tryParseTclInteger, notAnInteger, valueText } from './values.js';

/**
 * Port parsing as Tcl's `TclSockGetPort`: a Tcl integer first, else a TCP service name from the
 * services database (case-sensitive, like `getservbyname(name, "tcp")`), else Tcl's integer error.
 */

let servicesCache: Map<string, number> | undefined;

/** Where the services database is read from; tests and unusual systems may point elsewhere. */
let servicesPath = '/etc/services';

/**
 * Reads the TCP service names of `/etc/services` (once; cached). Missing file: no names.
 * @internal
 */
function tcpServices(): Map<string, number> {
  if (servicesCache !== undefined) return servicesCache;
  const map = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(servicesPath, 'latin1');
  } catch {
    // No services database: only numeric ports work, as with a libc that finds none.
  }
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const m = /^(\d+)\/tcp$/.exec(fields[1] ?? '');
    if (m === null) continue;
    const port = Number(m[1]);
    for (const name of [fields[0], ...fields.slice(2)]) {
      if (name !== undefined && !map.has(name)) map.set(name, port);
    }
  }
  servicesCache = map;
  return map;
}

/**
 * Looks up a TCP service name (`'http'` gives 80), or `undefined` when the name is unknown.
 */
export function lookupTcpService(name: string): number | undefined {
  return tcpServices().get(name);
}

/**
 * Points service-name lookups at another services file (and clears the cache).
 * Meant for tests and systems without `/etc/services`.
 */
export function setServicesPath(path: string): void {
  servicesPath = path;
  servicesCache = undefined;
}

/** What a port parse may meet beyond Tcl 8.6's rules. */
export interface ParsePortOptions {
  /**
   * Whether a negative number is an error here (default true). Tcl 8.6 passes a negative client
   * port to `getaddrinfo`, which fails with an obscure text; sockchan rejects it clearly.
   */
  rejectNegative?: boolean;
}

/**
 * Parses a port as Tcl does: a number (or Tcl integer text such as `'0x50'`), or a TCP service
 * name. Fails with Tcl's texts: `expected integer but got "x"`, and
 * `couldn't open socket: port number too high` above 65535.
 */
export function parsePort(value: string | number, options: ParsePortOptions = {}): number {
  let port: number | undefined;
  // JavaScript callers can pass anything: a wrong type is a bad value too, never a TypeError.
  if (typeof value !== 'string' && typeof value !== 'number') throw notAnInteger(valueText(value));
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw notAnInteger(String(value));
    port = value;
  } else {
    port = tryParseTclInteger(value) ?? lookupTcpService(value);
    if (port === undefined) throw notAnInteger(value);
  }
  if (port > 0xffff) {
    throw new SockchanError("couldn't open socket: port number too high", {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  if (port < 0 && options.rejectNegative !== false) {
    throw new SockchanError(`couldn't open socket: port number ${port} is negative: must be 0 to 65535`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  return port;
}
