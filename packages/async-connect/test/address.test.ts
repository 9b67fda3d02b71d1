// The spellings of one address, checked against Node's own parser (SocketAddress: inet_pton and
// inet_ntop) on random addresses written every way IPv6 allows.
import { SocketAddress } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addressKey, mappedIPv4 } from '../src/address.js';

/** Node's canonical text of an IPv6 address. */
function canonical(address: string): string {
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/** `groups` written in full, with the longest run of zeros as `::`, or with a dotted IPv4 tail. */
function spellings(groups: readonly number[]): string[] {
  const hex = groups.map((g) => g.toString(16));
  const full = hex.join(':');
  const padded = groups.map((g) => g.toString(16).padStart(4, '0').toUpperCase()).join(':');
  const tail = `${hex.slice(0, 6).join(':')}:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  return [full, padded, tail, canonical(full)];
}

describe('address spellings', () => {
  it('every spelling of an IPv6 address has one key; mapped ones give their IPv4 address', () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const mappedPrefix = fc.constant([0, 0, 0, 0, 0, 0xffff]);
    const groups = fc.oneof(
      fc.array(group, { minLength: 8, maxLength: 8 }),
      fc.tuple(mappedPrefix, fc.array(group, { minLength: 2, maxLength: 2 })).map(([p, t]) => [...p, ...t]),
    );
    fc.assert(
      fc.property(groups, (g) => {
        const names = spellings(g);
        const keys = new Set(names.map(addressKey));
        expect(keys.size).toBe(1);
        const isMapped = g.slice(0, 6).join(',') === '0,0,0,0,0,65535';
        const v4 = `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
        for (const name of names) expect(mappedIPv4(name)).toBe(isMapped ? v4 : undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('examples: mapped forms, zones kept apart, IPv4 and other text left as they are', () => {
    expect(mappedIPv4('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(mappedIPv4('::FFFF:C000:0201')).toBe('192.0.2.1');
    expect(mappedIPv4('::192.0.2.1')).toBeUndefined(); // IPv4-compatible, not mapped
    expect(mappedIPv4('::ffff:0:192.0.2.1')).toBeUndefined(); // IPv4-translated, not mapped
    expect(mappedIPv4('::ffff:192.0.2.1%eth0')).toBeUndefined();
    expect(mappedIPv4('192.0.2.1')).toBeUndefined();
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0:0:0:0:1%eth0');
    expect(addressKey('fe80::1%eth0')).not.toBe(addressKey('fe80::1%eth1'));
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('Not:An::Address::')).toBe('not:an::address::');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '::12345', '::1.2.3.256', ':::']) {
      expect(mappedIPv4(bad)).toBeUndefined();
      expect(addressKey(bad)).toBe(bad);
    }
  });
});
