import dns from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NAMES, TestSupportError, assertTestNames, underTestNames, withTestNamesPath } from '../src/index.js';

const savedEnv = { names: process.env['SOCKCHAN_TEST_NAMES'], wrapper: process.env['SOCKCHAN_WITH_TEST_NAMES'] };
function restore(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}
afterEach(() => {
  restore('SOCKCHAN_TEST_NAMES', savedEnv.names);
  restore('SOCKCHAN_WITH_TEST_NAMES', savedEnv.wrapper);
});

describe('name isolation', () => {
  // This suite resolves names: outside the wrapper it must fail here, before any lookup.
  beforeAll(() => assertTestNames());

  it('runs under the wrapper', () => {
    expect(underTestNames()).toBe(true);
    expect(() => assertTestNames()).not.toThrow();
  });

  it('resolves dual.test to both ::1 and 127.0.0.1, and the single-family names to one', async () => {
    const dual = await dns.lookup('dual.test', { all: true });
    expect(dual.map((a) => a.address).sort()).toEqual(['127.0.0.1', '::1']);
    for (const [name, addresses] of Object.entries(TEST_NAMES)) {
      const found = await dns.lookup(name, { all: true });
      expect(found.map((a) => a.address).sort(), name).toEqual([...addresses].sort());
    }
  });

  it('fails at once for any other name', async () => {
    await expect(dns.lookup('no-such-host.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('assertTestNames throws without SOCKCHAN_TEST_NAMES', () => {
    delete process.env['SOCKCHAN_TEST_NAMES'];
    expect(underTestNames()).toBe(false);
    const error = (() => {
      try {
        assertTestNames();
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TestSupportError);
    expect(error).toMatchObject({ code: 'ERR_TEST_SUPPORT_NO_TEST_NAMES' });
    expect((error as Error).message).toContain('SOCKCHAN_TEST_NAMES is not set');
  });

  it('withTestNamesPath finds the wrapper next to the repository', () => {
    delete process.env['SOCKCHAN_WITH_TEST_NAMES'];
    const path = withTestNamesPath();
    expect(path).toMatch(/\/shared\/tools\/with-test-names$/);
    expect(existsSync(path)).toBe(true);
  });

  it('withTestNamesPath honours SOCKCHAN_WITH_TEST_NAMES and fails loudly when it is missing', () => {
    process.env['SOCKCHAN_WITH_TEST_NAMES'] = '/bin/sh';
    expect(withTestNamesPath()).toBe('/bin/sh');
    process.env['SOCKCHAN_WITH_TEST_NAMES'] = '/nonexistent/with-test-names';
    expect(() => withTestNamesPath()).toThrow(expect.objectContaining({ code: 'ERR_TEST_SUPPORT_MISSING_TOOL' }));
  });
});
