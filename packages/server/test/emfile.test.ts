// Out of descriptors: connections that cannot be accepted are reported to onError (once a
// second, with a count), never silently; the listener lives on and accepts again once
// descriptors are free.
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CleanupList, startProcess } from '@sockchan/test-support';
import { readToEnd } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/emfile.mjs', import.meta.url));

const cleanup = new CleanupList();
afterEach(async () => {
  await cleanup.closeAll();
});

describe('running out of descriptors', () => {
  it('reports running out and every connection it closes for it, never crashes, and accepts again once descriptors are free', async () => {
    const server = cleanup.add(
      await startProcess('prlimit', ['--nofile=40:40', process.execPath, FIXTURE], { lifetimeMs: 30_000 }),
    );
    const port = Number(/^PORT (\d+)$/.exec(await server.nextLine(/^PORT /, { timeoutMs: 15_000 }))![1]);
    // Connections against a limit of 40 descriptors: the kernel completes every handshake, the
    // server holds what it can, and the rest are closed (by libuv at first, unseen).
    let firstShed: () => void = () => undefined;
    const someShed = new Promise<void>((resolve) => (firstShed = resolve));
    for (let i = 0; i < 60; i += 1) {
      const s = cleanup.add(net.connect({ host: '127.0.0.1', port }));
      s.on('error', () => undefined);
      s.on('close', () => firstShed());
      s.resume();
      await new Promise((resolve) => s.once('connect', resolve).once('error', resolve));
    }
    await someShed;
    // The listener's check (once a second) finds the process out of descriptors and says so.
    expect(await server.nextLine(/^ERROR /, { timeoutMs: 15_000 })).toBe(
      "ERROR couldn't accept connection: too many open files (the process has no descriptor left for new connections)",
    );
    // From then on each connection it cannot keep is closed by the listener itself, and counted.
    const shed = cleanup.add(net.connect({ host: '127.0.0.1', port }));
    expect(await readToEnd(shed)).toBe('');
    expect(await server.nextLine(/^ERROR /, { timeoutMs: 15_000 })).toBe(
      "ERROR couldn't accept connection: too many open files (1 connection closed at once)",
    );
    server.writeLine('free');
    const held = Number(/^FREED (\d+)$/.exec(await server.nextLine(/^FREED /))![1]);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(40);
    const c = cleanup.add(net.connect({ host: '127.0.0.1', port }));
    expect(await readToEnd(c)).toBe('served\n');
    expect(server.exitStatus).toBeUndefined();
    expect(server.stderr).toBe('');
    // Nothing else was reported: no error once descriptors were free again.
    expect(server.lines.filter((l) => l.startsWith('ERROR '))).toHaveLength(2);
  });
});
