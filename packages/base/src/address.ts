import { isIP } from 'node:net';

/**
 * One socket address as Tcl's `-sockname`/`-peername` show it: the numeric address (IPv6
 * without brackets), the host name (from a reverse lookup, or the address again when none is
 * known), and the port.
 */
export type AddressTriple = readonly [address: string, hostName: string, port: number];

/** Address family of a numeric address: 4, 6, or 0 when it is not a numeric address. */
export function addressFamily(address: string): 0 | 4 | 6 {
  return isIP(stripBrackets(address)) as 0 | 4 | 6;
}

/** `[::1]` gives `::1`; anything else is returned unchanged. */
export function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/**
 * Normalises an address Node reports (`::ffff:127.0.0.1` on a dual-stack socket) to the form
 * Tcl shows. IPv4-mapped IPv6 addresses become plain IPv4.
 */
export function displayAddress(address: string): string {
  const a = stripBrackets(address);
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m?.[1] ?? a;
}
