import { SockchanError } from '@sockchan/base';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address-match.js';
import { crc32c } from './proxy-protocol.js';
import type { ProxyAddress, ProxyTlv } from './proxy-protocol.js';

/** What {@link encodeProxyHeader} writes. */
export interface ProxyHeaderInit {
  /** 1 (text) or 2 (binary, the default). */
  version?: 1 | 2;
  /** `proxy` (default) or `local` (v2 only: a connection of the proxy's own, such as a health check). */
  command?: 'proxy' | 'local';
  /**
   * Default: `inet` or `inet6` from the addresses, `unspec` without them. `unix` takes paths
   * (v2 only; `@name` for an abstract one).
   */
  family?: 'inet' | 'inet6' | 'unix' | 'unspec';
  /** v2 only: `stream` (default) or `dgram`. */
  transport?: 'stream' | 'dgram';
  /** The original client (required unless the family is `unspec` or the command `local`). */
  source?: ProxyAddress;
  /** The address the client connected to. */
  destination?: ProxyAddress;
  /** v2 only: TLVs to append, in order. */
  tlvs?: readonly ProxyTlv[];
  /** v2 only: append a CRC32C TLV over the whole header (default false). */
  checksum?: boolean;
}

function bad(message: string): SockchanError {
  return new SockchanError(`can't encode PROXY protocol header: ${message}`, { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] });
}

function ipBytes(a: ProxyAddress | undefined, family: 'inet' | 'inet6', which: string): Uint8Array {
  const bytes = a === undefined ? undefined : family === 'inet' ? parseIPv4(a.address) : parseIPv6(a.address);
  if (bytes === undefined) throw bad(`${which} must be an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  if (!Number.isInteger(a?.port) || (a?.port ?? -1) < 0 || (a?.port ?? 65536) > 65535) throw bad(`${which} port must be 0 to 65535`);
  return bytes;
}

function inferFamily(init: ProxyHeaderInit): 'inet' | 'inet6' | 'unix' | 'unspec' {
  if (init.family !== undefined) return init.family;
  if (init.source === undefined) return 'unspec';
  return parseIPv4(init.source.address) !== undefined ? 'inet' : 'inet6';
}

/**
 * Writes a PROXY protocol header, as a proxy sends it: v1 (`PROXY TCP4 ... \r\n`) or v2
 * (binary, with TLVs and an optional CRC32C). For tests, benchmarks and Node programs that
 * forward connections to a server that expects the header. Throws a `SockchanError`
 * (`ERR_SOCKCHAN_BAD_VALUE`) for what the chosen version cannot carry.
 */
export function encodeProxyHeader(init: ProxyHeaderInit): Uint8Array {
  const version = init.version ?? 2;
  const family = inferFamily(init);
  const command = init.command ?? 'proxy';
  if (version === 1) {
    if (command === 'local') throw bad('v1 has no LOCAL command');
    if (family === 'unspec') return new TextEncoder().encode('PROXY UNKNOWN\r\n');
    if (family === 'unix') throw bad('v1 carries TCP4 and TCP6 only');
    const src = ipBytes(init.source, family, 'source');
    const dst = ipBytes(init.destination, family, 'destination');
    const show = family === 'inet' ? formatIPv4 : formatIPv6;
    const line = `PROXY ${family === 'inet' ? 'TCP4' : 'TCP6'} ${show(src)} ${show(dst)} ${init.source?.port ?? 0} ${init.destination?.port ?? 0}\r\n`;
    return new TextEncoder().encode(line);
  }
  const parts: Uint8Array[] = [];
  let famByte = 0;
  if (command === 'proxy' && family !== 'unspec') {
    const transport = init.transport === 'dgram' ? 2 : 1;
    if (family === 'unix') {
      famByte = 0x30 | transport;
      parts.push(unixBytes(init.source?.address ?? ''), unixBytes(init.destination?.address ?? ''));
    } else {
      famByte = (family === 'inet' ? 0x10 : 0x20) | transport;
      const ports = new Uint8Array(4);
      const sp = init.source?.port ?? 0;
      const dp = init.destination?.port ?? 0;
      parts.push(ipBytes(init.source, family, 'source'), ipBytes(init.destination, family, 'destination'));
      ports.set([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff]);
      parts.push(ports);
    }
  }
  for (const t of init.tlvs ?? []) {
    if (t.value.length > 0xffff) throw bad(`TLV 0x${t.type.toString(16)} longer than 65535 bytes`);
    parts.push(Uint8Array.of(t.type & 0xff, t.value.length >> 8, t.value.length & 0xff), t.value);
  }
  if (init.checksum === true) parts.push(Uint8Array.of(0x03, 0, 4, 0, 0, 0, 0));
  const blockLength = parts.reduce((n, p) => n + p.length, 0);
  if (blockLength > 0xffff) throw bad('header longer than 65551 bytes');
  const out = new Uint8Array(16 + blockLength);
  out.set([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, command === 'local' ? 0x20 : 0x21, famByte, blockLength >> 8, blockLength & 0xff]);
  let at = 16;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (init.checksum === true) {
    const crc = crc32c(out);
    out.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], out.length - 4);
  }
  return out;
}

function unixBytes(path: string): Uint8Array {
  const out = new Uint8Array(108);
  const abstract = path.startsWith('@');
  const bytes = new TextEncoder().encode(abstract ? path.slice(1) : path);
  if (bytes.length > 107) throw bad("Unix path longer than 107 bytes");
  out.set(bytes, abstract ? 1 : 0);
  return out;
}
