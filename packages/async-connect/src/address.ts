// How the state machine tells two answers apart: one host is one attempt, whatever its spelling.
// Pure text work (no validation: an address the resolver gives is taken as it comes).

/** `a.b.c.d` as four numbers, or `undefined`. */
function dottedQuad(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : 256));
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function hexGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16) : -1));
  return groups.every((g) => g >= 0) ? groups : undefined;
}

/** The eight 16-bit groups of an IPv6 address without a zone (`::`, an IPv4 tail allowed), or `undefined`. */
function ipv6Groups(text: string): number[] | undefined {
  let body = text;
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (body.includes('.', lastColon)) {
    const quad = dottedQuad(body.slice(lastColon + 1));
    if (quad === undefined) return undefined;
    tail.push(quad[0]! * 256 + quad[1]!, quad[2]! * 256 + quad[3]!);
    body = body.slice(0, lastColon);
    if (body.endsWith(':')) body += ':'; // `::1.2.3.4`: keep the `::`
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = hexGroups(halves[0]!);
  const rest = halves.length === 2 ? hexGroups(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  const missing = 8 - head.length - rest.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...new Array<number>(Math.max(0, missing)).fill(0), ...rest, ...tail];
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address stands for (`::ffff:192.0.2.1`, also written
 * `::ffff:c000:201` or `0:0:0:0:0:ffff:192.0.2.1`), or `undefined` for any other address.
 */
export function mappedIPv4(address: string): string | undefined {
  if (address.includes('%')) return undefined;
  const g = ipv6Groups(address);
  if (g?.slice(0, 6).join(',') !== '0,0,0,0,0,65535') return undefined;
  return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.');
}

/**
 * The same text for every spelling of one address: IPv6 as eight lower-case hex groups (its zone
 * kept), anything else lower-cased. Two answers with one key are one host.
 */
export function addressKey(address: string): string {
  const lower = address.toLowerCase();
  const zone = lower.indexOf('%');
  const g = ipv6Groups(zone < 0 ? lower : lower.slice(0, zone));
  if (g === undefined) return lower;
  return g.map((n) => n.toString(16)).join(':') + (zone < 0 ? '' : lower.slice(zone));
}
