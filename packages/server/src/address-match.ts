import { SockchanError, valueText } from '@sockchan/base';

/**
 * Numeric IP addresses as bytes, and matching of addresses against lists of addresses and CIDR
 * blocks (`proxyProtocol.from`). Pure: no I/O, no name lookups.
 */

/** Parses dotted-quad IPv4 (`1.2.3.4`, no leading zeros) into 4 bytes; `undefined` if it is not one. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/**
 * Parses an IPv6 address (hex groups, one `::` at most, an IPv4 tail such as `::ffff:1.2.3.4`)
 * into 16 bytes; `undefined` if it is not one. Zone indexes (`%eth0`) are not addresses here.
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    // Keep the colon(s) before the IPv4 part: `::1.2.3.4` leaves `::`.
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = tail === undefined ? 8 : 6;
  const double = head.indexOf('::');
  if (double >= 0 && head.indexOf('::', double + 1) >= 0) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (double >= 0) {
    const left = parseGroups(head.slice(0, double));
    const right = parseGroups(head.slice(double + 2));
    if (left === undefined || right === undefined) return undefined;
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (all === undefined || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** 4 bytes as dotted-quad text. */
export function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/**
 * 16 bytes as IPv6 text the way Node shows a peer's address (RFC 5952: lower case, the longest
 * run of two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:1.2.3.4`).
 */
export function formatIPv6(b: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[offset + 2 * i] as number) << 8) | (b[offset + 2 * i + 1] as number));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIPv4(b, offset + 12)}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * An address as 16 bytes, IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so that an
 * IPv4 peer and the same peer seen on a dual-stack socket are one address; `undefined` if the
 * text is not a numeric address.
 */
function addressBytes(text: string): Uint8Array | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return mapped(v4);
  return parseIPv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
}

function mapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

/** One entry of an address list: the network's 16 bytes and its prefix length in bits. */
interface Block {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

function prefixMatches(block: Block, address: Uint8Array): boolean {
  const whole = block.bits >> 3;
  for (let i = 0; i < whole; i++) if (block.bytes[i] !== address[i]) return false;
  const rest = block.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((block.bytes[whole] as number) & mask) === ((address[whole] as number) & mask);
}

function badEntry(entry: unknown, name: string): SockchanError {
  return new SockchanError(
    `bad address "${typeof entry === 'string' ? entry : valueText(entry)}" in ${name}: must be an IPv4 or IPv6 address, or a CIDR block such as 10.0.0.0/8 or fd00::/8`,
    { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] },
  );
}

function parseBlock(entry: unknown, name: string): Block {
  if (typeof entry !== 'string') throw badEntry(entry, name);
  const slash = entry.indexOf('/');
  const addressText = slash < 0 ? entry : entry.slice(0, slash);
  const v4 = parseIPv4(addressText);
  const bytes = v4 === undefined ? addressBytes(addressText) : mapped(v4);
  if (bytes === undefined) throw badEntry(entry, name);
  // IPv4 blocks are the IPv4-mapped IPv6 block: 10.0.0.0/8 is ::ffff:10.0.0.0/104.
  const offset = v4 === undefined ? 0 : 96;
  let bits = 128;
  if (slash >= 0) {
    const prefix = entry.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > 128 - offset) throw badEntry(entry, name);
    bits = offset + Number(prefix);
  }
  // Host bits set under the prefix (10.1.2.3/8) are ignored, as most CIDR parsers do.
  return { bytes, bits };
}

/** Answers an address matcher keeps (then it starts over): far more than a server has proxies. */
const KNOWN_ANSWERS = 1024;

/**
 * A predicate over numeric peer addresses, made from a list of addresses and CIDR blocks
 * (`'127.0.0.1'`, `'10.0.0.0/8'`, `'::1'`, `'fd00::/8'`). An IPv4 address and its IPv4-mapped
 * IPv6 form are the same address (as `net.BlockList` has it): `::ffff:10.1.2.3`, how a
 * dual-stack socket reports an IPv4 peer, matches the entry `10.0.0.0/8`, and IPv6 blocks that
 * cover `::ffff:0:0/96` (such as `::/0`) match IPv4 peers. A name or any other text is not an address: the
 * list is checked at once and a bad entry throws a `SockchanError` (`ERR_SOCKCHAN_BAD_VALUE`)
 * naming it. `name` is how messages call the list (default `proxyProtocol.from`).
 */
export function addressMatcher(list: readonly string[], name = 'proxyProtocol.from'): (address: string) => boolean {
  if (!Array.isArray(list)) {
    throw new SockchanError(`bad value for ${name}: expected a list of addresses or CIDR blocks but got ${valueText(list)}`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  const blocks = list.map((entry: unknown) => parseBlock(entry, name));
  // A server asks for every connection, and its peers are few (the load balancers): answers
  // are kept, so the address text is parsed once per peer, not once per connection.
  const known = new Map<string, boolean>();
  return (address: string): boolean => {
    const answer = known.get(address);
    if (answer !== undefined) return answer;
    const bytes = addressBytes(address);
    const matches = bytes !== undefined && blocks.some((block) => prefixMatches(block, bytes));
    if (known.size >= KNOWN_ANSWERS) known.clear();
    known.set(address, matches);
    return matches;
  };
}
