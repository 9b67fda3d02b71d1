import dns from 'node:dns/promises';
import { existsSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NAMES, TestSupportError, assertTestNames, runCommand, underTestNames, withTestNamesPath } from '../src/index.js';

const savedEnv = { names: process.env['SOCKCHAN_TEST_NAMES'] };
function restore(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}
afterEach(() => {
  restore('SOCKCHAN_TEST_NAMES', savedEnv.names);
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

  it("withTestNamesPath is the repository's own scripts/with-test-names", () => {
    const path = withTestNamesPath();
    expect(path).toBe(fileURLToPath(new URL('../../../scripts/with-test-names', import.meta.url)));
    expect(existsSync(path)).toBe(true);
  });

  it('a nested call of the wrapper runs the command in the same sandbox', async () => {
    // Inside the sandbox the wrapper only runs its command: same hosts table, same network.
    const inner = await runCommand(withTestNamesPath(), ['sh', '-c', 'readlink /proc/self/ns/net; getent hosts v4only.test']);
    expect(inner.stdout.split('\n')[0]).toBe(readlinkSync('/proc/self/ns/net'));
    expect(inner.stdout).toMatch(/^127\.0\.0\.1\s+v4only\.test$/m);
  });

  it('the sandbox has its own network: lo with 127.0.0.1 and ::1 and nothing else', () => {
    const addresses = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).map((a) => `${name} ${a.address}`));
    expect(addresses.sort()).toEqual(['lo 127.0.0.1', 'lo ::1']);
  });
});
