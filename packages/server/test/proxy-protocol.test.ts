// The PROXY protocol parser, without I/O: hand-written byte vectors from haproxy's
// doc/proxy-protocol.txt, every split of the input, truncations, oversized headers, wrong
// signatures, v2 families and TLVs, and fast-check properties over random headers and mutations.
import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProxyHeaderParser, addressMatcher, crc32c, encodeProxyHeader, parseProxyHeader } from '../src/index.js';
import type { ProxyHeader, ProxyHeaderInit, ProxyParseResult, ProxyTlv } from '../src/index.js';
import { formatIPv6, parseIPv6 } from '../src/address-match.js';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const V2SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function done(r: ProxyParseResult): { header: ProxyHeader; consumed: number; rest: Uint8Array } {
  if (r.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r;
}

function errorOf(r: ProxyParseResult): string {
  if (r.status !== 'error') throw new Error(`expected error, got ${r.status}`);
  return r.reason;
}

/** Feeds `bytes` cut at `points`; returns the last result and how many pushes answered `more` before it. */
function feed(bytes: Uint8Array, points: readonly number[]): ProxyParseResult {
  const parser = new ProxyHeaderParser();
  const cuts = [...new Set(points.map((p) => Math.max(0, Math.min(bytes.length, p))))].sort((a, b) => a - b);
  let prev = 0;
  let result: ProxyParseResult = { status: 'more' };
  const restParts: Uint8Array[] = [];
  for (const end of [...cuts, bytes.length]) {
    const chunk = Buffer.from(bytes.subarray(prev, end));
    prev = end;
    if (result.status === 'done') {
      restParts.push(chunk);
      continue;
    }
    if (result.status === 'error') break;
    result = parser.push(chunk);
    if (result.status === 'done') restParts.push(result.rest);
  }
  if (result.status === 'done') return { ...result, rest: Buffer.concat(restParts) };
  return result;
}

/** A v2 header by hand (independent of encodeProxyHeader): fixed part, then `block`. */
function v2(verCmd: number, fam: number, block: readonly number[]): Buffer {
  return Buffer.from([...V2SIG, verCmd, fam, block.length >> 8, block.length & 0xff, ...block]);
}

/** The header a TCP-over-IPv4 PROXY command without TLVs parses to. */
function tcp4Header(version: 1 | 2, [sa, sp]: [string, number], [da, dp]: [string, number]): ProxyHeader {
  return { version, command: 'proxy', family: 'inet', transport: 'stream', source: { address: sa, port: sp }, destination: { address: da, port: dp }, tlvs: [] };
}

describe('PROXY v1', () => {
  it('parses the specification example and leaves the request after it', () => {
    const r = done(parseProxyHeader(ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n')));
    expect(r.header).toEqual(tcp4Header(1, ['192.168.0.1', 56324], ['192.168.0.11', 443]));
    expect(r.consumed).toBe(47);
    expect(Buffer.from(r.rest).toString('latin1')).toBe('GET / HTTP/1.1\r\n');
  });

  it('parses TCP6 and shows the addresses as Node does', () => {
    const r = done(parseProxyHeader(ascii('PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ::1 1 65535\r\n')));
    expect(r.header.source).toEqual({ address: '2001:db8::1', port: 1 });
    expect(r.header.destination).toEqual({ address: '::1', port: 65535 });
    expect(r.header.family).toBe('inet6');
  });

  it('accepts UNKNOWN, short and with the 107-byte worst case, without addresses', () => {
    expect(done(parseProxyHeader(ascii('PROXY UNKNOWN\r\n'))).header).toMatchObject({ family: 'unspec', command: 'proxy' });
    const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const worst = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
    expect(worst.length).toBe(107);
    const r = done(parseProxyHeader(ascii(worst)));
    expect(r.consumed).toBe(107);
    expect(r.header.source).toBeUndefined();
  });

  it('takes the longest TCP6 line (104 bytes)', () => {
    const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const line = `PROXY TCP6 ${f} ${f} 65535 65535\r\n`;
    expect(line.length).toBe(104);
    expect(done(parseProxyHeader(ascii(line))).header.source).toEqual({ address: f, port: 65535 });
  });

  it.each([
    ['PROXY TCP4 192.168.0.01 1.2.3.4 1 2\r\n', 'source address "192.168.0.01" is not IPv4'],
    ['PROXY TCP4 1.2.3.4 1.2.3.256 1 2\r\n', 'destination address "1.2.3.256" is not IPv4'],
    ['PROXY TCP4 ::1 1.2.3.4 1 2\r\n', 'source address "::1" is not IPv4'],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'source address "1.2.3.4" is not IPv6'],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'is not IPv6'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n', 'source port "01"'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n', 'destination port "65536"'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 -2\r\n', 'destination port "-2"'],
    ['PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n', 'exactly 6 fields'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n', 'exactly 6 fields'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n', 'exactly 6 fields'],
    ['PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n', 'must be TCP4, TCP6 or UNKNOWN, got "UDP4"'],
    ['PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n', 'got "tcp4"'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n', 'LF without CR'],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX', 'CR without LF'],
    ['PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n', 'not printable US-ASCII'],
    ['PROXY UNKNOWN \u00e9\r\n', 'not printable US-ASCII'],
    ['PROXYTCP4 1.2.3.4 1.2.3.4 1 2\r\n', 'not a PROXY protocol header'],
    ['GET / HTTP/1.0\r\n\r\n', 'not a PROXY protocol header'],
  ])('rejects %j', (line, reason) => {
    expect(errorOf(parseProxyHeader(ascii(line)))).toContain(reason);
  });

  it('rejects a line without CRLF in its first 107 bytes, at byte 107 (oversized)', () => {
    const long = `PROXY UNKNOWN ${'a'.repeat(200)}\r\n`;
    const parser = new ProxyHeaderParser();
    for (let i = 0; i < 106; i++) expect(parser.push(ascii(long.slice(i, i + 1))).status).toBe('more');
    expect(errorOf(parser.push(ascii(long.slice(106, 107))))).toBe('PROXY v1 line longer than 107 bytes');
    // A CRLF as bytes 107 and 108 is one byte too late.
    expect(errorOf(parseProxyHeader(ascii(`PROXY UNKNOWN ${'a'.repeat(92)}\r\n`)))).toBe('PROXY v1 line longer than 107 bytes');
  });

  it('fails at the first byte that cannot start a header (no waiting for more)', () => {
    for (let b = 0; b < 256; b++) {
      const r = parseProxyHeader(Uint8Array.of(b));
      expect(r.status).toBe(b === 0x50 || b === 0x0d ? 'more' : 'error');
    }
    expect(errorOf(parseProxyHeader(ascii('PROXZ')))).toBe('not a PROXY protocol header');
  });
});

describe('PROXY v2', () => {
  const inet = [192, 0, 2, 1, 198, 51, 100, 7, 0xc3, 0x50, 0x01, 0xbb]; // 192.0.2.1:50000 -> 198.51.100.7:443

  it('parses TCP over IPv4 and keeps the bytes after it', () => {
    const bytes = Buffer.concat([v2(0x21, 0x11, inet), ascii('hello')]);
    const r = done(parseProxyHeader(bytes));
    expect(r.header).toEqual(tcp4Header(2, ['192.0.2.1', 50000], ['198.51.100.7', 443]));
    expect(r.consumed).toBe(28);
    expect(Buffer.from(r.rest).toString()).toBe('hello');
  });

  it('parses TCP and UDP over IPv6, IPv4-mapped shown as Node shows it', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
    const dst = [...new Array<number>(10).fill(0), 0xff, 0xff, 127, 0, 0, 1];
    const r = done(parseProxyHeader(v2(0x21, 0x22, [...src, ...dst, 0, 80, 0x1f, 0x90])));
    expect(r.header).toMatchObject({ family: 'inet6', transport: 'dgram', source: { address: '2001:db8::1', port: 80 }, destination: { address: '::ffff:127.0.0.1', port: 8080 } });
  });

  it('parses UNIX addresses, abstract ones as @name', () => {
    const path = (s: string, abstract = false): number[] => {
      const b = new Array<number>(108).fill(0);
      [...Buffer.from(s)].forEach((c, i) => (b[i + (abstract ? 1 : 0)] = c));
      return b;
    };
    const r = done(parseProxyHeader(v2(0x21, 0x31, [...path('/run/client.sock'), ...path('front', true)])));
    expect(r.header).toMatchObject({ family: 'unix', source: { address: '/run/client.sock', port: 0 }, destination: { address: '@front', port: 0 } });
    expect(r.consumed).toBe(16 + 216);
  });

  it('LOCAL keeps no addresses and skips whatever block it has, family ignored', () => {
    expect(done(parseProxyHeader(v2(0x20, 0x00, []))).header).toEqual({ version: 2, command: 'local', family: 'unspec', transport: 'unspec', tlvs: [] });
    const r = done(parseProxyHeader(Buffer.concat([v2(0x20, 0xff, inet), ascii('x')])));
    expect(r.header.command).toBe('local');
    expect(r.header.source).toBeUndefined();
    expect(r.consumed).toBe(28);
  });

  it('PROXY with UNSPEC family or transport skips the addresses', () => {
    for (const fam of [0x00, 0x10, 0x01, 0x20, 0x30]) {
      const r = done(parseProxyHeader(v2(0x21, fam, inet)));
      expect(r.header.source).toBeUndefined();
      expect(r.consumed).toBe(28);
    }
  });

  it.each([
    [v2(0x11, 0x11, inet), 'version must be 2, got 1'],
    [v2(0x31, 0x11, inet), 'version must be 2, got 3'],
    [v2(0x22, 0x11, inet), 'command must be LOCAL (0) or PROXY (1), got 2'],
    [v2(0x2f, 0x11, inet), 'got 15'],
    [v2(0x21, 0x41, inet), 'address family must be 0 to 3, got 4'],
    [v2(0x21, 0x13, inet), 'transport must be 0 to 2, got 3'],
    [v2(0x21, 0x11, inet.slice(0, 11)), 'address block of 11 bytes is too short for inet (12)'],
    [v2(0x21, 0x21, inet), 'too short for inet6 (36)'],
    [v2(0x21, 0x31, inet), 'too short for unix (216)'],
    [v2(0x21, 0x11, [...inet, 0x04, 0x00]), 'TLV truncated'],
    [v2(0x21, 0x11, [...inet, 0x04, 0x00, 0x02, 0x00]), 'TLV 0x04 of 2 bytes runs past'],
    [v2(0x21, 0x11, [...inet, 0x05, 0x00, 129, ...new Array<number>(129).fill(7)]), 'UNIQUE_ID TLV longer than 128 bytes'],
    [v2(0x21, 0x11, [...inet, 0x03, 0x00, 0x02, 0, 0]), 'CRC32C TLV must hold 4 bytes'],
    [v2(0x21, 0x11, [...inet, 0x20, 0x00, 0x04, 1, 0, 0, 0]), 'SSL TLV must hold at least 5 bytes'],
    [v2(0x21, 0x11, [...inet, 0x20, 0x00, 0x07, 1, 0, 0, 0, 0, 0x21, 0]), 'SSL sub-TLV truncated'],
  ])('rejects a bad header (%#: %s)', (bytes, reason) => {
    expect(errorOf(parseProxyHeader(bytes))).toContain(reason);
  });

  it('fails on a wrong signature at the first wrong byte, and on a wrong version at byte 13', () => {
    for (let i = 1; i < 12; i++) {
      const bytes = Uint8Array.from(V2SIG.slice(0, i + 1));
      bytes[i] = (bytes[i] as number) ^ 0x40;
      expect(errorOf(parseProxyHeader(bytes))).toBe('wrong PROXY protocol v2 signature');
    }
    expect(parseProxyHeader(Uint8Array.from([...V2SIG])).status).toBe('more');
    expect(errorOf(parseProxyHeader(Uint8Array.from([...V2SIG, 0x10])))).toContain('version must be 2');
  });

  it('reads the registered TLVs: ALPN, AUTHORITY, CRC32C, NOOP, UNIQUE_ID, SSL with sub-TLVs, NETNS, custom', () => {
    const tlv = (type: number, value: Uint8Array): ProxyTlv => ({ type, value });
    const ssl = Buffer.concat([
      Buffer.from([0x07, 0, 0, 0, 0]),
      Buffer.from([0x21, 0, 7]),
      ascii('TLSv1.3'),
      Buffer.from([0x22, 0, 11]),
      ascii('example.com'),
      Buffer.from([0x23, 0, 22]),
      ascii('TLS_AES_256_GCM_SHA384'),
      Buffer.from([0x24, 0, 10]),
      ascii('RSA-SHA256'),
      Buffer.from([0x25, 0, 7]),
      ascii('RSA2048'),
    ]);
    const bytes = encodeProxyHeader({
      source: { address: '192.0.2.1', port: 1 },
      destination: { address: '192.0.2.2', port: 2 },
      tlvs: [tlv(0x01, ascii('h2')), tlv(0x02, ascii('example.test')), tlv(0x04, new Uint8Array(5)), tlv(0x05, new Uint8Array(128).fill(9)), tlv(0x20, ssl), tlv(0x30, ascii('blue')), tlv(0xe0, Uint8Array.of(1, 2))],
      checksum: true,
    });
    const h = done(parseProxyHeader(bytes)).header;
    expect(h.alpn).toBe('h2');
    expect(h.authority).toBe('example.test');
    expect(h.uniqueId).toEqual(new Uint8Array(128).fill(9));
    expect(h.netns).toBe('blue');
    expect(h.ssl).toMatchObject({ client: 7, verify: 0, version: 'TLSv1.3', cn: 'example.com', cipher: 'TLS_AES_256_GCM_SHA384', sigAlg: 'RSA-SHA256', keyAlg: 'RSA2048' });
    expect(h.ssl?.tlvs.map((t) => t.type)).toEqual([0x21, 0x22, 0x23, 0x24, 0x25]);
    expect(h.tlvs.map((t) => t.type)).toEqual([0x01, 0x02, 0x04, 0x05, 0x20, 0x30, 0xe0, 0x03]);
  });

  it('verifies CRC32C: any flipped bit of the header fails it', () => {
    const bytes = encodeProxyHeader({ source: { address: '10.1.2.3', port: 4000 }, destination: { address: '10.0.0.1', port: 80 }, tlvs: [{ type: 0x02, value: ascii('a.test') }], checksum: true });
    expect(parseProxyHeader(bytes).status).toBe('done');
    // Every bit of the addresses, ports, the other TLV and the checksum's value: it catches each.
    // (The CRC32C TLV's own type and length bytes are structure: changed, it is no checksum.)
    for (let i = 16; i < bytes.length; i++) {
      if (i >= bytes.length - 7 && i < bytes.length - 4) continue;
      for (let bit = 0; bit < 8; bit++) {
        const copy = Uint8Array.from(bytes);
        copy[i] = (copy[i] as number) ^ (1 << bit);
        const r = parseProxyHeader(copy);
        expect(r.status, `byte ${i} bit ${bit}`).toBe('error');
      }
    }
  });

  it('computes CRC32C as RFC 4960 (check value of "123456789")', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });
});

describe('splits, truncations, repeated pushes', () => {
  const samples: [string, Uint8Array][] = [
    ['v1 TCP4', ascii('PROXY TCP4 127.0.0.2 127.0.0.1 40000 8080\r\n')],
    ['v1 TCP6', ascii('PROXY TCP6 ::1 ::1 1 2\r\n')],
    ['v1 UNKNOWN', ascii('PROXY UNKNOWN\r\n')],
    ['v2 INET + TLVs', encodeProxyHeader({ source: { address: '127.0.0.3', port: 5 }, destination: { address: '127.0.0.1', port: 6 }, tlvs: [{ type: 1, value: ascii('h2') }], checksum: true })],
    ['v2 INET6', encodeProxyHeader({ source: { address: '::1', port: 5 }, destination: { address: '::1', port: 6 } })],
    ['v2 UNIX', encodeProxyHeader({ family: 'unix', source: { address: '/tmp/a', port: 0 }, destination: { address: '@b', port: 0 } })],
    ['v2 LOCAL', encodeProxyHeader({ command: 'local' })],
  ];

  it.each(samples)('%s: every two-piece split, and one byte at a time, give the same header and rest', (_name, header) => {
    const bytes = Buffer.concat([header, ascii('after\r\n')]);
    const whole = done(parseProxyHeader(bytes));
    expect(Buffer.from(whole.rest).toString()).toBe('after\r\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = done(feed(bytes, [cut]));
      expect(r.header).toEqual(whole.header);
      expect(r.consumed).toBe(header.length);
      expect(Buffer.from(r.rest).toString()).toBe('after\r\n');
    }
    const each = done(feed(bytes, Array.from({ length: bytes.length }, (_, i) => i)));
    expect(each.header).toEqual(whole.header);
  });

  it.each(samples)('%s: every strict prefix (truncated) needs more, never fails or finishes', (_name, header) => {
    for (let n = 0; n < header.length; n++) expect(parseProxyHeader(header.subarray(0, n)).status).toBe('more');
  });

  it('does not depend on the caller keeping its buffers (bytes are copied while incomplete)', () => {
    const bytes = encodeProxyHeader({ source: { address: '192.0.2.5', port: 7 }, destination: { address: '192.0.2.6', port: 8 } });
    const parser = new ProxyHeaderParser();
    const reused = Buffer.alloc(10);
    bytes.subarray(0, 10).forEach((b, i) => (reused[i] = b));
    expect(parser.push(reused).status).toBe('more');
    reused.fill(0xee);
    expect(done(parser.push(bytes.subarray(10))).header.source).toEqual({ address: '192.0.2.5', port: 7 });
  });

  it('after done or error, further pushes fail (the parser is for one header)', () => {
    const p = new ProxyHeaderParser();
    done(p.push(ascii('PROXY UNKNOWN\r\n')));
    expect(p.push(ascii('PROXY UNKNOWN\r\n')).status).toBe('error');
    const q = new ProxyHeaderParser();
    const reason = errorOf(q.push(ascii('X')));
    expect(errorOf(q.push(ascii('PROXY UNKNOWN\r\n')))).toBe(reason);
    expect(q.received).toBe(1);
  });
});

// ------------------------------------------------------------------ properties

const port = fc.integer({ min: 0, max: 65535 });
const v4 = fc.ipV4().map((a) => ({ address: a }));
const v6bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
const tlvArb = fc.record({ type: fc.integer({ min: 0, max: 255 }).filter((t) => ![0x03, 0x05, 0x20].includes(t)), value: fc.uint8Array({ maxLength: 40 }) });

/** Random valid headers: v1 TCP4/TCP6/UNKNOWN, v2 every family and transport, LOCAL, TLVs, CRC32C. */
const headerInit: fc.Arbitrary<ProxyHeaderInit> = fc.oneof(
  fc.record({ version: fc.constant(1 as const), family: fc.constant('inet' as const), s: v4, d: v4, sp: port, dp: port }).map(({ version, family, s, d, sp, dp }) => ({
    version,
    family,
    source: { address: s.address, port: sp },
    destination: { address: d.address, port: dp },
  })),
  fc.record({ version: fc.constant(1 as const), s: v6bytes, d: v6bytes, sp: port, dp: port }).map(({ version, s, d, sp, dp }) => ({
    version,
    family: 'inet6' as const,
    source: { address: formatIPv6(s), port: sp },
    destination: { address: formatIPv6(d), port: dp },
  })),
  fc.constant({ version: 1 as const, family: 'unspec' as const }),
  fc
    .record({
      family: fc.constantFrom('inet' as const, 'inet6' as const, 'unix' as const, 'unspec' as const),
      transport: fc.constantFrom('stream' as const, 'dgram' as const),
      s4: v4,
      d4: v4,
      s6: v6bytes,
      d6: v6bytes,
      sp: port,
      dp: port,
      path: fc.stringMatching(/^[a-z/._-]{1,60}$/),
      tlvs: fc.array(tlvArb, { maxLength: 4 }),
      checksum: fc.boolean(),
      local: fc.boolean(),
    })
    .map((r): ProxyHeaderInit => {
      const ends =
        r.family === 'inet'
          ? { source: { address: r.s4.address, port: r.sp }, destination: { address: r.d4.address, port: r.dp } }
          : r.family === 'inet6'
            ? { source: { address: formatIPv6(r.s6), port: r.sp }, destination: { address: formatIPv6(r.d6), port: r.dp } }
            : r.family === 'unix'
              ? { source: { address: r.path, port: 0 }, destination: { address: `@${r.path}`, port: 0 } }
              : {};
      return { version: 2, command: r.local ? 'local' : 'proxy', family: r.family, transport: r.transport, ...ends, tlvs: r.tlvs, checksum: r.checksum };
    }),
);
const cutPoints = fc.array(fc.nat({ max: 400 }), { maxLength: 10 });
const payload = fc.uint8Array({ maxLength: 64 });

describe('properties (fast-check)', () => {
  it('any split of header + payload gives the header that was encoded and the payload untouched', () => {
    fc.assert(
      fc.property(headerInit, payload, cutPoints, (init, after, cuts) => {
        const header = encodeProxyHeader(init);
        const r = done(feed(Buffer.concat([header, after]), cuts));
        expect(r.consumed).toBe(header.length);
        expect(Buffer.from(r.rest).equals(Buffer.from(after))).toBe(true);
        const h = r.header;
        expect(h.version).toBe(init.version);
        if (init.command === 'local') {
          expect(h.command).toBe('local');
          expect(h.source).toBeUndefined();
        } else if (init.family === 'unspec') {
          expect(h.source).toBeUndefined();
        } else {
          expect(h.family).toBe(init.family);
          expect(h.source).toEqual(init.source);
          expect(h.destination).toEqual(init.destination);
          if (init.version === 2) {
            const sent = [...(init.tlvs ?? []).map((t) => t.type), ...(init.checksum === true ? [0x03] : [])];
            expect(h.tlvs.map((t) => t.type)).toEqual(sent);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('every strict prefix of a valid header needs more', () => {
    fc.assert(
      fc.property(headerInit, fc.nat(), (init, n) => {
        const header = encodeProxyHeader(init);
        expect(parseProxyHeader(header.subarray(0, n % header.length)).status).toBe('more');
      }),
      { numRuns: 300 },
    );
  });

  it('mutated, truncated or random bytes never throw, and any split gives the same verdict', () => {
    fc.assert(
      fc.property(
        headerInit,
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.nat(),
        cutPoints,
        (init, flips, cutEnd, cuts) => {
          const bytes = Uint8Array.from(encodeProxyHeader(init));
          for (const f of flips) bytes[f.at % bytes.length] = f.value;
          const input = bytes.subarray(0, bytes.length - (cutEnd % 3 === 0 ? cutEnd % bytes.length : 0));
          const whole = parseProxyHeader(input);
          const split = feed(input, cuts);
          expect(split.status).toBe(whole.status);
          if (whole.status === 'done' && split.status === 'done') {
            expect(split.header).toEqual(whole.header);
            expect(split.consumed).toBe(whole.consumed);
          }
          if (whole.status === 'error' && split.status === 'error') expect(split.reason).toBe(whole.reason);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random garbage is never a header unless it starts with a signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        const r = parseProxyHeader(bytes);
        if (bytes[0] !== 0x50 && bytes[0] !== 0x0d) expect(r.status).toBe('error');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('addresses', () => {
  it('formats and parses IPv6 as Node does (round trip, and net.isIPv6 agrees)', () => {
    fc.assert(
      fc.property(v6bytes, (b) => {
        const text = formatIPv6(b);
        expect(net.isIPv6(text)).toBe(true);
        expect(parseIPv6(text)).toEqual(b);
        expect(parseIPv6(text.toUpperCase())).toEqual(b);
      }),
    );
    expect(formatIPv6(parseIPv6('1:0:0:1:0:0:0:1') as Uint8Array)).toBe('1:0:0:1::1');
    expect(formatIPv6(parseIPv6('1:0:1:1:1:1:1:1') as Uint8Array)).toBe('1:0:1:1:1:1:1:1');
    for (const bad of ['1::2::3', ':1::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', '::1.2.3', '::g', '']) expect(parseIPv6(bad)).toBeUndefined();
  });

  it('matches addresses and CIDR blocks as net.BlockList does, IPv4-mapped peers included', () => {
    const entry = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, n]) => ({ text: `${a}/${n}`, family: 'ipv4' as const, a, n })),
      fc.tuple(v6bytes, fc.integer({ min: 0, max: 128 })).map(([b, n]) => ({ text: `${formatIPv6(b)}/${n}`, family: 'ipv6' as const, a: formatIPv6(b), n })),
    );
    const peer = fc.oneof(
      fc.ipV4(),
      fc.ipV4().map((a) => `::ffff:${a}`),
      v6bytes.map((b) => formatIPv6(b)),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), fc.array(peer, { minLength: 1, maxLength: 8 }), (entries, peers) => {
        const list = new net.BlockList();
        for (const e of entries) list.addSubnet(e.a, e.n, e.family);
        const match = addressMatcher(entries.map((e) => e.text));
        for (const p of peers) {
          const family = net.isIPv4(p) ? 'ipv4' : 'ipv6';
          expect(match(p), p).toBe(list.check(p, family));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps its answers right when asked again, past the answers it keeps (1,024)', () => {
    const m = addressMatcher(['10.0.0.0/20', '::1']);
    const list = new net.BlockList();
    list.addSubnet('10.0.0.0', 20, 'ipv4');
    list.addAddress('::1', 'ipv6');
    // 3,000 distinct peers (inside and outside the block), asked twice, then the first ones again.
    const peers = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    for (const round of [1, 2]) for (const p of peers) expect(m(p), `${p} round ${round}`).toBe(list.check(p, 'ipv4'));
    for (const p of peers.slice(0, 50)) expect(m(p), p).toBe(list.check(p, 'ipv4'));
    for (let i = 0; i < 3; i++) {
      expect(m('::1')).toBe(true);
      expect(m('::2')).toBe(false);
      expect(m('localhost')).toBe(false);
    }
  });

  it('IPv4 entries match IPv4-mapped peers, mapped entries match IPv4 peers', () => {
    const m = addressMatcher(['127.0.0.1', '10.0.0.0/8', '::ffff:192.168.0.0/112', '[::1]', 'fd00::/8']);
    for (const yes of ['127.0.0.1', '::ffff:127.0.0.1', '10.200.3.4', '::FFFF:10.0.0.1', '192.168.7.7', '::1', 'fd12::5']) expect(m(yes), yes).toBe(true);
    for (const no of ['127.0.0.2', '11.0.0.1', '192.169.0.1', '::2', 'fe00::1', 'localhost', '']) expect(m(no), no).toBe(false);
    expect(addressMatcher([])('127.0.0.1')).toBe(false);
    expect(addressMatcher(['0.0.0.0/0'])('::ffff:1.2.3.4')).toBe(true);
  });

  it.each([['localhost'], ['10.0.0.0/33'], ['::/129'], ['10.0.0.0/08'], ['1.2.3'], ['10.0.0.0/'], [''], [7]])('rejects the entry %j with a message naming it', (bad) => {
    expect(() => addressMatcher([bad as string])).toThrow(`bad address "${String(bad)}" in proxyProtocol.from: must be an IPv4 or IPv6 address, or a CIDR block`);
  });

  it('rejects a from that is not a list', () => {
    expect(() => addressMatcher('127.0.0.1' as unknown as string[])).toThrow('bad value for proxyProtocol.from: expected a list of addresses or CIDR blocks but got 127.0.0.1');
  });
});
