import { describe, expect, it } from 'vitest';
import { ConnectHistory } from '../src/index.js';

describe('ConnectHistory', () => {
  it('remembers the winner per host, case-insensitively', () => {
    const h = new ConnectHistory();
    h.record('Dual.Test', { family: 4, address: '127.0.0.1' }, 0);
    expect(h.get('dual.test', 10)).toEqual({ family: 4, address: '127.0.0.1' });
    expect(h.get('other.test', 10)).toBeUndefined();
  });

  it('forgets entries older than the ttl', () => {
    const h = new ConnectHistory({ ttl: 1000 });
    h.record('a', { family: 6, address: '::1' }, 0);
    expect(h.get('a', 1000)).toBeDefined();
    expect(h.get('a', 1001)).toBeUndefined();
    expect(h.size).toBe(0);
  });

  it('keeps at most maxHosts, dropping the least recently recorded', () => {
    const h = new ConnectHistory({ maxHosts: 2 });
    h.record('a', { family: 6, address: '::1' }, 0);
    h.record('b', { family: 6, address: '::1' }, 1);
    h.record('a', { family: 4, address: '127.0.0.1' }, 2);
    h.record('c', { family: 6, address: '::1' }, 3);
    expect(h.size).toBe(2);
    expect(h.get('b', 4)).toBeUndefined();
    expect(h.get('a', 4)).toEqual({ family: 4, address: '127.0.0.1' });
    expect(h.get('c', 4)).toBeDefined();
  });

  it('forget and clear', () => {
    const h = new ConnectHistory();
    h.record('a', { family: 6, address: '::1' }, 0);
    h.record('b', { family: 6, address: '::1' }, 0);
    h.forget('A');
    expect(h.get('a', 0)).toBeUndefined();
    h.clear();
    expect(h.size).toBe(0);
  });
});
