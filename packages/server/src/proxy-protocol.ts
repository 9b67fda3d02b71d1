import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address-match.js';

/**
 * The PROXY protocol (haproxy's `doc/proxy-protocol.txt`, versions 1 and 2) as a pure,
 * incremental parser: feed it the first bytes of a connection however they were split, and it
 * says "need more", "done" (the header, and how many bytes it took) or "error" (why). No I/O,
 * no timers: {@link readProxyHeader} drives it over a socket.
 */

/** One end of the original connection. For `unix` headers `address` is the path and `port` 0. */
export interface ProxyAddress {
  /** Numeric address as Node shows one (`'192.0.2.1'`, `'2001:db8::1'`), or a Unix path (`'@name'` for an abstract one). */
  readonly address: string;
  /** Port, 0..65535 (0 for Unix paths). */
  readonly port: number;
}

/** A v2 Type-Length-Value field, as sent (`value` is the raw bytes). */
export interface ProxyTlv {
  /** The type byte (`0x01` ALPN, `0x02` AUTHORITY, `0x03` CRC32C, `0x04` NOOP, `0x05` UNIQUE_ID, `0x20` SSL, `0x30` NETNS, ...). */
  readonly type: number;
  /** The value bytes. */
  readonly value: Uint8Array;
}

/** The v2 `PP2_TYPE_SSL` field: what the proxy knew of the client's TLS session. */
export interface ProxySslInfo {
  /** `PP2_CLIENT_*` bits: 0x01 the client connected over TLS, 0x02 it sent a certificate on this connection, 0x04 on this session. */
  readonly client: number;
  /** 0 when the client's certificate was presented and verified, non-zero otherwise. */
  readonly verify: number;
  /** `PP2_SUBTYPE_SSL_VERSION` (0x21): the TLS version (`'TLSv1.3'`). */
  readonly version?: string;
  /** `PP2_SUBTYPE_SSL_CN` (0x22): the client certificate's Common Name. */
  readonly cn?: string;
  /** `PP2_SUBTYPE_SSL_CIPHER` (0x23): the cipher's name. */
  readonly cipher?: string;
  /** `PP2_SUBTYPE_SSL_SIG_ALG` (0x24): the signature algorithm of the proxy's certificate. */
  readonly sigAlg?: string;
  /** `PP2_SUBTYPE_SSL_KEY_ALG` (0x25): the key algorithm of the proxy's certificate. */
  readonly keyAlg?: string;
  /** Every sub-TLV, known or not, in order. */
  readonly tlvs: readonly ProxyTlv[];
}

/**
 * A parsed PROXY protocol header.
 *
 * `source` and `destination` are set when the header carries the original connection's
 * addresses: command `proxy` with family `inet`, `inet6` or `unix` and a known transport. They
 * are absent for `local` (a health check from the proxy itself), for v1 `UNKNOWN` and for v2
 * `unspec` family or transport: the connection's own addresses stand then.
 */
export interface ProxyHeader {
  /** 1 (the text line) or 2 (binary). */
  readonly version: 1 | 2;
  /** `proxy`: relayed for a client; `local`: made by the proxy itself (v2 only). */
  readonly command: 'proxy' | 'local';
  /** Address family: v1 `TCP4` is `inet`, `TCP6` `inet6`, `UNKNOWN` `unspec`. */
  readonly family: 'inet' | 'inet6' | 'unix' | 'unspec';
  /** Transport: always `stream` for v1 `TCP4`/`TCP6`. */
  readonly transport: 'stream' | 'dgram' | 'unspec';
  /** The original client. */
  readonly source?: ProxyAddress;
  /** The address the client connected to (the proxy's front). */
  readonly destination?: ProxyAddress;
  /** Every v2 TLV in order (empty for v1 and `local`); a CRC32C one has been verified. */
  readonly tlvs: readonly ProxyTlv[];
  /** `PP2_TYPE_ALPN` (0x01): the application protocol the client negotiated (`'h2'`). */
  readonly alpn?: string;
  /** `PP2_TYPE_AUTHORITY` (0x02): the host name the client asked for (TLS SNI). */
  readonly authority?: string;
  /** `PP2_TYPE_UNIQUE_ID` (0x05): the proxy's opaque id of the connection (at most 128 bytes). */
  readonly uniqueId?: Uint8Array;
  /** `PP2_TYPE_SSL` (0x20). */
  readonly ssl?: ProxySslInfo;
  /** `PP2_TYPE_NETNS` (0x30): the network namespace's name. */
  readonly netns?: string;
}

/**
 * What {@link ProxyHeaderParser.push} says: more bytes needed, the header (with the number of
 * bytes it took from the start of the stream, and the bytes of the last chunk after it), or an
 * error with its reason (the connection must then be closed).
 */
export type ProxyParseResult =
  | { readonly status: 'more' }
  | { readonly status: 'done'; readonly header: ProxyHeader; readonly consumed: number; readonly rest: Uint8Array }
  | { readonly status: 'error'; readonly reason: string };

/** The 12-byte v2 signature. */
const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
/** `PROXY ` */
const V1_PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20);
/** The longest v1 line the specification allows, CRLF included. */
export const PROXY_V1_MAX_LENGTH = 107;
/** The fixed part of a v2 header (signature, version and command, family, length). */
const V2_FIXED = 16;
/** Address block sizes of v2's families (both addresses and, for IP, both ports). */
const V2_INET = 12;
const V2_INET6 = 36;
const V2_UNIX = 216;
const UNIQUE_ID_MAX = 128;

const MORE: { readonly status: 'more' } = Object.freeze({ status: 'more' });
const NO_TLVS: readonly ProxyTlv[] = Object.freeze([]);

function fail(reason: string): { readonly status: 'error'; readonly reason: string } {
  return { status: 'error', reason };
}

let crcTable: Uint32Array | undefined;

/** CRC32C (Castagnoli, RFC 4960 appendix B) of `bytes`, with `zeroAt..zeroAt+4` read as zeros. */
export function crc32c(bytes: Uint8Array, zeroAt = -8): number {
  const table = (crcTable ??= makeCrcTable());
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    const b = i >= zeroAt && i < zeroAt + 4 ? 0 : (bytes[i] as number);
    crc = (table[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/**
 * The incremental PROXY protocol parser. Push each chunk of a connection's first bytes; the
 * answer is `more` until the header is complete, then `done` once (later pushes answer the same
 * `error`), or `error` as soon as the bytes cannot be a valid header: a wrong first byte fails
 * at once, a v1 line without its CRLF within 107 bytes fails at byte 108, v2 fails on its fixed
 * part or once its announced length has arrived.
 *
 * ```ts
 * const p = new ProxyHeaderParser();
 * p.push(Buffer.from('PROXY TCP4 192.0.2.1 '));      // { status: 'more' }
 * p.push(Buffer.from('192.0.2.9 5000 80\r\nGET /')); // { status: 'done', header, consumed: 37, rest: 'GET /' }
 * ```
 */
export class ProxyHeaderParser {
  /** Bytes received so far that are (or may be) part of the header: `#held[0..#heldLength)`. */
  #held: Uint8Array | undefined;
  #heldLength = 0;
  #total = 0;
  #finished: ProxyParseResult | undefined;

  /** Bytes pushed so far. */
  get received(): number {
    return this.#total;
  }

  /** Feeds the next chunk of the connection. */
  push(chunk: Uint8Array): ProxyParseResult {
    if (this.#finished !== undefined) {
      return this.#finished.status === 'error' ? this.#finished : fail('the header was already complete');
    }
    const before = this.#heldLength;
    this.#total += chunk.length;
    const data = before === 0 ? chunk : this.#append(chunk);
    const result = parseFrom(data);
    if (result.status === 'more') {
      // Keep a copy: the caller may reuse its buffer (Node's onread does).
      if (before === 0) this.#append(chunk);
      return result;
    }
    this.#held = undefined;
    this.#heldLength = 0;
    if (result.status === 'error') {
      this.#finished = result;
      return result;
    }
    const finished: ProxyParseResult = { status: 'done', header: result.header, consumed: result.length, rest: chunk.subarray(result.length - before) };
    this.#finished = finished;
    return finished;
  }

  /** Appends to the held bytes (capacity doubling: a header split into single bytes costs linear time). */
  #append(chunk: Uint8Array): Uint8Array {
    const need = this.#heldLength + chunk.length;
    let held = this.#held;
    if (held === undefined || held.length < need) {
      const grown = new Uint8Array(Math.max(need, 2 * (held?.length ?? 0), 64));
      if (held !== undefined) grown.set(held.subarray(0, this.#heldLength));
      held = grown;
      this.#held = grown;
    }
    held.set(chunk, this.#heldLength);
    this.#heldLength = need;
    return held.subarray(0, need);
  }
}

/**
 * Parses a complete header at the start of `bytes` in one call (the whole of what is known):
 * `more` when `bytes` is a valid but incomplete start.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyParseResult {
  return new ProxyHeaderParser().push(bytes);
}

type Parsed = { readonly status: 'more' } | { readonly status: 'error'; readonly reason: string } | { readonly status: 'done'; readonly header: ProxyHeader; readonly length: number };

/** Whether `data` starts like `prefix` as far as it goes. */
function startsLike(data: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(data.length, prefix.length);
  for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

function parseFrom(data: Uint8Array): Parsed {
  if (data.length === 0) return MORE;
  if (data[0] === 0x0d) {
    if (!startsLike(data, V2_SIGNATURE)) return fail('wrong PROXY protocol v2 signature');
    return parseV2(data);
  }
  if (data[0] === 0x50) {
    if (!startsLike(data, V1_PREFIX)) return fail('not a PROXY protocol header');
    return parseV1(data);
  }
  return fail('not a PROXY protocol header');
}

// ---------------------------------------------------------------- version 1

function parseV1(data: Uint8Array): Parsed {
  const limit = Math.min(data.length, PROXY_V1_MAX_LENGTH);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const b = data[i];
    if (b === 0x0d) {
      if (i + 2 > PROXY_V1_MAX_LENGTH) return fail(`PROXY v1 line longer than ${PROXY_V1_MAX_LENGTH} bytes`);
      if (i + 1 >= data.length) return MORE;
      if (data[i + 1] !== 0x0a) return fail('PROXY v1 line has a CR without LF');
      end = i;
      break;
    }
    if (b === 0x0a) return fail('PROXY v1 line ends in LF without CR');
    if (b === 0 || b === undefined || b > 0x7e || (b < 0x20 && b !== 0x0d)) return fail('PROXY v1 line has a byte that is not printable US-ASCII');
  }
  if (end < 0) return data.length >= PROXY_V1_MAX_LENGTH ? fail(`PROXY v1 line longer than ${PROXY_V1_MAX_LENGTH} bytes`) : MORE;
  let line = '';
  for (let i = 0; i < end; i++) line += String.fromCharCode(data[i] as number);
  const length = end + 2;
  const words = line.split(' ');
  const proto = words[1];
  if (proto === 'UNKNOWN') {
    // The sender may add anything before the CRLF; the receiver ignores it.
    return done({ version: 1, command: 'proxy', family: 'unspec', transport: 'unspec', tlvs: NO_TLVS }, length);
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return fail(`PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN, got "${proto ?? ''}"`);
  if (words.length !== 6) return fail('PROXY v1 line must have exactly 6 fields separated by single spaces');
  const [, , src = '', dst = '', sport = '', dport = ''] = words;
  const parse = proto === 'TCP4' ? parseIPv4 : parseIPv6;
  const format = proto === 'TCP4' ? formatIPv4 : formatIPv6;
  const srcBytes = parse(src);
  const dstBytes = parse(dst);
  if (srcBytes === undefined) return fail(`PROXY v1 source address "${src}" is not ${proto === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  if (dstBytes === undefined) return fail(`PROXY v1 destination address "${dst}" is not ${proto === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  const srcPort = parseV1Port(sport);
  const dstPort = parseV1Port(dport);
  if (srcPort === undefined) return fail(`PROXY v1 source port "${sport}" is not 0 to 65535 without leading zeros`);
  if (dstPort === undefined) return fail(`PROXY v1 destination port "${dport}" is not 0 to 65535 without leading zeros`);
  return done(
    {
      version: 1,
      command: 'proxy',
      family: proto === 'TCP4' ? 'inet' : 'inet6',
      transport: 'stream',
      source: { address: format(srcBytes), port: srcPort },
      destination: { address: format(dstBytes), port: dstPort },
      tlvs: NO_TLVS,
    },
    length,
  );
}

function parseV1Port(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function done(header: ProxyHeader, length: number): Parsed {
  return { status: 'done', header, length };
}

// ---------------------------------------------------------------- version 2

const FAMILIES = ['unspec', 'inet', 'inet6', 'unix'] as const;
const TRANSPORTS = ['unspec', 'stream', 'dgram'] as const;

function parseV2(data: Uint8Array): Parsed {
  if (data.length < V2_FIXED) {
    // Check what has arrived of the fixed part already: a bad version fails at once.
    if (data.length > 12 && (data[12] as number) >> 4 !== 2) return fail(`PROXY v2 version must be 2, got ${(data[12] as number) >> 4}`);
    return MORE;
  }
  const verCmd = data[12] as number;
  if (verCmd >> 4 !== 2) return fail(`PROXY v2 version must be 2, got ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return fail(`PROXY v2 command must be LOCAL (0) or PROXY (1), got ${cmd}`);
  const fam = data[13] as number;
  const family = FAMILIES[fam >> 4];
  const transport = TRANSPORTS[fam & 0x0f];
  if (cmd === 1 && family === undefined) return fail(`PROXY v2 address family must be 0 to 3, got ${fam >> 4}`);
  if (cmd === 1 && transport === undefined) return fail(`PROXY v2 transport must be 0 to 2, got ${fam & 0x0f}`);
  const blockLength = ((data[14] as number) << 8) | (data[15] as number);
  const length = V2_FIXED + blockLength;
  if (data.length < length) return MORE;
  if (cmd === 0) {
    // LOCAL: the proxy's own connection (health checks): the block, family included, is ignored.
    return done({ version: 2, command: 'local', family: 'unspec', transport: 'unspec', tlvs: NO_TLVS }, length);
  }
  // With TLVs, a compact copy: their values must not keep the reader's (possibly large) chunk alive.
  const header = blockLength > V2_INET ? new Uint8Array(data.subarray(0, length)) : data.subarray(0, length);
  if (family === 'unspec' || transport === 'unspec' || family === undefined || transport === undefined) {
    // The receiver uses the connection's own addresses; the block's layout is unknown, so is skipped.
    return done({ version: 2, command: 'proxy', family: family ?? 'unspec', transport: transport ?? 'unspec', tlvs: NO_TLVS }, length);
  }
  const need = family === 'inet' ? V2_INET : family === 'inet6' ? V2_INET6 : V2_UNIX;
  if (blockLength < need) return fail(`PROXY v2 address block of ${blockLength} bytes is too short for ${family} (${need})`);
  let source: ProxyAddress;
  let destination: ProxyAddress;
  const a = V2_FIXED;
  if (family === 'inet') {
    source = { address: formatIPv4(header, a), port: readU16(header, a + 8) };
    destination = { address: formatIPv4(header, a + 4), port: readU16(header, a + 10) };
  } else if (family === 'inet6') {
    source = { address: formatIPv6(header, a), port: readU16(header, a + 32) };
    destination = { address: formatIPv6(header, a + 16), port: readU16(header, a + 34) };
  } else {
    source = { address: unixPath(header.subarray(a, a + 108)), port: 0 };
    destination = { address: unixPath(header.subarray(a + 108, a + 216)), port: 0 };
  }
  const tlvs = parseTlvs(header, a + need, length);
  if (typeof tlvs === 'string') return fail(tlvs);
  const result: Mutable<ProxyHeader> = { version: 2, command: 'proxy', family, transport, source, destination, tlvs };
  const extra = interpretTlvs(result, tlvs, header);
  if (extra !== undefined) return fail(extra);
  return done(result, length);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readU16(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

/** A `sun_path`: up to the first NUL; a leading NUL is a Linux abstract name, shown as `@name`. */
function unixPath(b: Uint8Array): string {
  if (b[0] === 0) {
    let end = b.length;
    while (end > 1 && b[end - 1] === 0) end--;
    return end <= 1 ? '' : `@${utf8(b.subarray(1, end))}`;
  }
  const nul = b.indexOf(0);
  return utf8(nul < 0 ? b : b.subarray(0, nul));
}

const decoder = new TextDecoder('utf-8');
function utf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** TLVs between `from` and `to`, or the reason they are malformed. */
function parseTlvs(b: Uint8Array, from: number, to: number): ProxyTlv[] | string {
  const out: ProxyTlv[] = [];
  let at = from;
  while (at < to) {
    if (to - at < 3) return `PROXY v2 TLV truncated: ${to - at} bytes left where a TLV needs at least 3`;
    const type = b[at] as number;
    const len = readU16(b, at + 1);
    if (at + 3 + len > to) return `PROXY v2 TLV 0x${hex(type)} of ${len} bytes runs past the header's end`;
    out.push({ type, value: b.subarray(at + 3, at + 3 + len) });
    at += 3 + len;
  }
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Fills the named fields from the TLVs and checks the ones with rules; returns a failure reason. */
function interpretTlvs(h: Mutable<ProxyHeader>, tlvs: readonly ProxyTlv[], header: Uint8Array): string | undefined {
  for (const t of tlvs) {
    switch (t.type) {
      case 0x01:
        h.alpn = utf8(t.value);
        break;
      case 0x02:
        h.authority = utf8(t.value);
        break;
      case 0x03: {
        if (t.value.length !== 4) return `PROXY v2 CRC32C TLV must hold 4 bytes, got ${t.value.length}`;
        const sent = ((t.value[0] as number) * 0x1000000 + ((t.value[1] as number) << 16) + ((t.value[2] as number) << 8) + (t.value[3] as number)) >>> 0;
        const at = t.value.byteOffset - header.byteOffset;
        const computed = crc32c(header, at);
        if (sent !== computed) return `PROXY v2 CRC32C mismatch: header says 0x${sent.toString(16).padStart(8, '0')}, bytes give 0x${computed.toString(16).padStart(8, '0')}`;
        break;
      }
      case 0x05:
        if (t.value.length > UNIQUE_ID_MAX) return `PROXY v2 UNIQUE_ID TLV longer than ${UNIQUE_ID_MAX} bytes (${t.value.length})`;
        h.uniqueId = t.value;
        break;
      case 0x20: {
        const ssl = parseSsl(t.value);
        if (typeof ssl === 'string') return ssl;
        h.ssl = ssl;
        break;
      }
      case 0x30:
        h.netns = utf8(t.value);
        break;
      default:
        // NOOP (0x04), custom and unknown types: kept in `tlvs`, otherwise ignored.
        break;
    }
  }
  return undefined;
}

function parseSsl(v: Uint8Array): ProxySslInfo | string {
  if (v.length < 5) return `PROXY v2 SSL TLV must hold at least 5 bytes, got ${v.length}`;
  const client = v[0] as number;
  const verify = ((v[1] as number) * 0x1000000 + ((v[2] as number) << 16) + ((v[3] as number) << 8) + (v[4] as number)) >>> 0;
  const subs = parseTlvs(v, 5, v.length);
  if (typeof subs === 'string') return subs.replace('PROXY v2 TLV', 'PROXY v2 SSL sub-TLV');
  const info: Mutable<ProxySslInfo> = { client, verify, tlvs: subs };
  for (const s of subs) {
    const text = utf8(s.value);
    if (s.type === 0x21) info.version = text;
    else if (s.type === 0x22) info.cn = text;
    else if (s.type === 0x23) info.cipher = text;
    else if (s.type === 0x24) info.sigAlg = text;
    else if (s.type === 0x25) info.keyAlg = text;
  }
  return info;
}
