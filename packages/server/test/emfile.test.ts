// Out of descriptors: connections that cannot be accepted are shed, the listener lives on.
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
  it('sheds connections it cannot accept, never crashes, and accepts again once descriptors are free', async () => {
    const server = cleanup.add(
      await startProcess('prlimit', ['--nofile=40:40', process.execPath, FIXTURE], { lifetimeMs: 30_000 }),
    );
    const port = Number(/^PORT (\d+)$/.exec(await server.nextLine(/^PORT /, { timeoutMs: 15_000 }))![1]);
    // 60 connections against a limit of 40 descriptors: the kernel completes every handshake,
    // the server holds what it can and libuv closes the rest (its EMFILE reserve-descriptor trick).
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
    server.writeLine('free');
    const held = Number(/^FREED (\d+)$/.exec(await server.nextLine(/^FREED /))![1]);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(40);
    const c = cleanup.add(net.connect({ host: '127.0.0.1', port }));
    expect(await readToEnd(c)).toBe('served\n');
    expect(server.exitStatus).toBeUndefined();
    expect(server.stderr).toBe('');
    expect(server.stdout).not.toMatch(/ERROR/);
  });
});
