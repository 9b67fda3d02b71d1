// The system resolver against the private hosts table (run under with-test-names).
import { describe, expect, it } from 'vitest';
import { systemResolver } from '../src/index.js';

async function codeOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return 'resolved';
}

describe('systemResolver', () => {
  it('answers one family per call from /etc/hosts', async () => {
    expect(await systemResolver('dual.test', 6)).toEqual(['::1']);
    expect(new Set(await systemResolver('dual.test', 4))).toEqual(new Set(['127.0.0.1']));
    expect(await systemResolver('v4only.test', 4)).toEqual(['127.0.0.1']);
  });

  it("drops the 127.0.0.1 that glibc makes up for a name listed only as ::1, as Tcl's lookup never has it", async () => {
    expect(await systemResolver('v6only.test', 4)).toEqual([]);
    expect(await systemResolver('v6only.test', 6)).toEqual(['::1']);
  });

  it('unknown and empty names reject with ENOTFOUND', async () => {
    expect(await codeOf(systemResolver('nosuch.test', 4))).toBe('ENOTFOUND');
    expect(await codeOf(systemResolver('v4only.test', 6))).toBe('ENOTFOUND');
    expect(await codeOf(systemResolver('', 6))).toBe('ENOTFOUND');
  });
});
