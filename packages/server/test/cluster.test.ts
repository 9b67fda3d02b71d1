// node:cluster: workers that call listen() share the primary's listening sockets, on both
// families, and connections are spread over them.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CleanupList, startProcess } from '@sockchan/test-support';
import { connectTo, freePort, readToEnd } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cluster.mjs', import.meta.url));

interface WorkerReport {
  id: number;
  port: number;
  addresses: [string, string, number][];
}

const cleanup = new CleanupList();
afterEach(async () => {
  await cleanup.closeAll();
});

describe('under node:cluster', () => {
  for (const kind of ['a fixed port', 'port 0'] as const) {
    it(`two workers share the listening sockets on ${kind} and both accept`, async () => {
      const wanted = kind === 'port 0' ? 0 : await freePort();
      // stop() ends the whole process group: the primary and both workers.
      const primary = cleanup.add(await startProcess(process.execPath, [FIXTURE, String(wanted)], { lifetimeMs: 30_000 }));
      const workers = await primary.nextJson<WorkerReport[]>({ timeoutMs: 15_000 });
      const port = workers[0]!.port;
      if (wanted !== 0) expect(port).toBe(wanted);
      expect(workers.map((w) => w.port)).toEqual([port, port]);
      for (const w of workers) {
        expect(w.addresses).toEqual([
          ['0.0.0.0', '0.0.0.0', port],
          ['::', '::', port],
        ]);
      }
      const servedBy = new Set<string>();
      const families = new Set<string>();
      for (let i = 0; i < 8; i += 1) {
        const host = i % 2 === 0 ? '127.0.0.1' : '::1';
        const c = await connectTo(host, port, cleanup);
        const [id, address] = (await readToEnd(c)).trim().split(' ');
        expect(address).toBe(host);
        servedBy.add(id!);
        families.add(address!);
      }
      expect([...servedBy].sort()).toEqual(workers.map((w) => String(w.id)).sort());
      expect(families.size).toBe(2);
    });
  }
});
