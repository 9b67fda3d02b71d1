import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startProcess } from '@sockchan/test-support';
import { withLeakCheck } from './helpers.js';

const { track } = withLeakCheck();
const scenario = fileURLToPath(new URL('../dist/scenarios/emfile-server.js', import.meta.url));

/** Connects and waits for the server's greeting: the line, or `null` when the server closed without one. */
function greet(port: number): Promise<{ sock: net.Socket; hello: string | null }> {
  return new Promise((resolve) => {
    const sock = track(net.connect(port, '127.0.0.1'));
    let buf = '';
    let settled = false;
    const done = (hello: string | null): void => {
      if (settled) return;
      settled = true;
      resolve({ sock, hello });
    };
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\n')) done(buf.split(/\r?\n/)[0] as string);
    });
    sock.on('end', () => done(null));
    sock.on('close', () => done(null));
    sock.on('error', () => done(null));
  });
}

describe('faults: out of file descriptors while accepting (EMFILE)', () => {
  it('connections beyond the limit are dropped, the listener lives on and accepts again once descriptors are free', async () => {
    const server = await startProcess('prlimit', ['--nofile=64:64', process.execPath, scenario], { lifetimeMs: 60_000, label: 'emfile server' });
    track({ close: () => server.dispose() });
    const ready = await server.nextJson<{ type: string; port: number }>({ timeoutMs: 10_000 });
    expect(ready.type).toBe('ready');

    const accepted: net.Socket[] = [];
    let dropped = 0;
    for (let i = 0; i < 120 && dropped < 3; i++) {
      const { sock, hello } = await greet(ready.port);
      if (hello === null) {
        dropped += 1;
        sock.destroy();
      } else {
        expect(hello).toBe(`HELLO ${accepted.length + 1}`);
        accepted.push(sock);
      }
    }
    // 64 descriptors: some are the runtime's own, the rest hold connections; then drops.
    expect(dropped).toBe(3);
    expect(accepted.length).toBeGreaterThan(20);
    expect(accepted.length).toBeLessThan(64);
    const acceptedAtLimit = accepted.length;

    // Free ten descriptors: the server sees EOF on ten channels and closes them.
    for (const s of accepted.splice(0, 10)) s.end();
    for (let closed = 0; closed < 10; ) {
      const line = await server.nextLine(/"type":"closed"/, { timeoutMs: 5_000 });
      if (line !== '') closed += 1;
    }
    // New connections are accepted again.
    for (let i = 0; i < 5; i++) {
      const { sock, hello } = await greet(ready.port);
      expect(hello).toMatch(/^HELLO \d+$/);
      accepted.push(sock);
    }
    for (const s of accepted) s.end();
    server.endInput();
    const done = JSON.parse(await server.nextLine(/"type":"done"/, { timeoutMs: 10_000 })) as { type: string; leaked: string[] };
    const errors = server.lines.filter((l) => l.includes('"type":"error"')).map((l) => JSON.parse(l) as { message: string; code: string });
    console.log(`figures: emfile accepted at limit ${acceptedAtLimit}, dropped ${dropped}, accept errors reported ${errors.length}: ${errors[0]?.message ?? ''}`);
    // Running out is reported once a second at most, with what the listener saw (see @sockchan/server).
    for (const e of errors) {
      expect(e.message).toMatch(/^couldn't accept connection: too many open files \((the process has no descriptor left for new connections|\d+ connections? closed at once)\)$/);
    }
    expect(done.leaked).toEqual([]);
    const exit = await server.exited;
    expect(exit.code).toBe(0);
  });
});
