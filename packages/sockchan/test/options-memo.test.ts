import { describe, expect, it } from 'vitest';
import { OptionsMemo } from '../src/options-memo.js';

/**
 * OptionsMemo (internal to tls.socket): a kept check is given back only while the options object
 * holds what was checked. Each case changes one thing a new check would see and expects a miss.
 */
describe('OptionsMemo', () => {
  const files = ['cafile', 'certfile', 'keyfile'];

  it('gives the kept result back for the same object, host and port, values unchanged', () => {
    const memo = new OptionsMemo<string>(files);
    const o = { nodelay: true, servername: 'localhost', ca: Buffer.from('PEM bytes'), alpn: ['h2'] };
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    memo.set(o, 'h', 1, 'checked');
    expect(memo.get(o, 'h', 1)).toBe('checked');
    // Another object with equal values is another options object: checked on its own.
    expect(memo.get({ ...o }, 'h', 1)).toBeUndefined();
  });

  it('misses when the host or port differ', () => {
    const memo = new OptionsMemo<string>(files);
    const o = { nodelay: true };
    memo.set(o, 'h', 1, 'checked');
    expect(memo.get(o, 'other', 1)).toBeUndefined();
    expect(memo.get(o, 'h', '1')).toBeUndefined();
  });

  it('misses when a value is replaced, added, removed or the keys are reordered', () => {
    const memo = new OptionsMemo<string>(files);
    const o: Record<string, unknown> = { a: 1, b: 'x' };
    memo.set(o, 'h', 1, 'checked');
    o['b'] = 'y';
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    o['b'] = 'x';
    expect(memo.get(o, 'h', 1)).toBe('checked');
    o['c'] = true;
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    delete o['c'];
    delete o['a'];
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    o['a'] = 1; // now b, a: the same values in another order
    expect(memo.get(o, 'h', 1)).toBeUndefined();
  });

  it('misses when bytes or an array were changed in place', () => {
    const memo = new OptionsMemo<string>(files);
    const ca = Buffer.from('CA one');
    const list = [Buffer.from('CA two'), 'PEM text'];
    const alpn = ['h2', 'http/1.1'];
    const o = { ca, alpn, more: list };
    memo.set(o, 'h', 1, 'checked');
    expect(memo.get(o, 'h', 1)).toBe('checked');
    ca[0] = 0x63; // 'c'
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    ca[0] = 0x43; // back to 'C'
    expect(memo.get(o, 'h', 1)).toBe('checked');
    alpn[1] = 'spdy/3';
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    alpn[1] = 'http/1.1';
    (list[0] as Buffer)[0] = 0x63;
    expect(memo.get(o, 'h', 1)).toBeUndefined();
    (list[0] as Buffer)[0] = 0x43;
    list.push('another');
    expect(memo.get(o, 'h', 1)).toBeUndefined();
  });

  it('keeps nothing for options that name files, or for objects with a prototype of their own', () => {
    const memo = new OptionsMemo<string>(files);
    const withFile = { cafile: '/some/ca.pem', nodelay: true };
    memo.set(withFile, 'h', 1, 'checked');
    expect(memo.get(withFile, 'h', 1)).toBeUndefined();
    // An absent file option (undefined) names no file.
    const noFile = { cafile: undefined, nodelay: true };
    memo.set(noFile, 'h', 1, 'checked');
    expect(memo.get(noFile, 'h', 1)).toBe('checked');
    const inherited = Object.create({ ca: 'inherited PEM' }) as Record<string, unknown>;
    inherited['nodelay'] = true;
    memo.set(inherited, 'h', 1, 'checked');
    expect(memo.get(inherited, 'h', 1)).toBeUndefined();
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { nodelay: true });
    memo.set(bare, 'h', 1, 'checked');
    expect(memo.get(bare, 'h', 1)).toBe('checked');
  });
});
