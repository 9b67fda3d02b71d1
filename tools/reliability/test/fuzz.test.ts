import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertTestNames, freePort } from '@sockchan/test-support';
import { offlineProperties, serverCallProperty, socketCallProperty, unixCallProperty } from '../src/index.js';
import type { FuzzProperty } from '../src/index.js';
import { withLeakCheck } from './helpers.js';

withLeakCheck();
beforeAll(() => assertTestNames());

/** Short in-suite budget; `pnpm fuzz` runs the same properties with many more inputs. */
const BASE_RUNS = 300;

async function expectHolds(p: FuzzProperty): Promise<void> {
  const r = await p.check(Math.max(20, Math.round(BASE_RUNS / p.weight)));
  expect(r.report ?? '').toBe('');
  expect(r.failed).toBe(false);
  expect(r.runs).toBeGreaterThanOrEqual(20);
}

describe('fuzz (fast-check): random input gives a SockchanError or a result, never anything else; cuts change nothing', () => {
  for (const p of offlineProperties) {
    it(p.name, () => expectHolds(p));
  }
  it('socket(host, port, options) arguments', async () => {
    await expectHolds(socketCallProperty(await freePort('127.0.0.1')));
  });
  it(serverCallProperty.name, () => expectHolds(serverCallProperty));
  it('socket.unix and socket.unixServer arguments (no socket file left behind)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockchan-fuzz-unix-'));
    try {
      await expectHolds(unixCallProperty(dir));
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
