import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setReverseLookup, socket } from 'sockchan';
import type { SocketChannel } from 'sockchan';
import { assertTestNames } from '@sockchan/test-support';
import { deferred, withLeakCheck } from './helpers.js';

const { track } = withLeakCheck();
beforeAll(() => assertTestNames());
afterEach(() => setReverseLookup(undefined));

describe('security review: what RELIABILITY.md says, shown', () => {
  it('a server listens on every address by default (as Tcl): the wildcards of both families', async () => {
    const srv = track(await socket.server(() => undefined, 0, { reverseLookup: false }));
    const port = srv.port;
    expect(srv.configure('sockname')).toEqual([
      ['0.0.0.0', '0.0.0.0', port],
      ['::', '::', port],
    ]);
  });

  it('myaddr binds to loopback only: `localhost` gives 127.0.0.1 and ::1, a numeric address exactly one', async () => {
    const both = track(await socket.server(() => undefined, 0, { myaddr: 'localhost', reverseLookup: false }));
    const names = (both.configure('sockname') as [string, string, number][]).map((t) => t[0]).sort();
    expect(names).toEqual(['127.0.0.1', '::1']);
    const one = track(await socket.server(() => undefined, 0, { myaddr: '127.0.0.1', reverseLookup: false }));
    expect((one.configure('sockname') as [string, string, number][]).map((t) => t[0])).toEqual(['127.0.0.1']);
  });

  it('reverse-lookup names are whatever the resolver says: the numeric address is what to authorise on', async () => {
    // A hostile PTR record, simulated: the resolver claims the client is a trusted host.
    setReverseLookup(() => Promise.resolve('trusted.example.com'));
    const seen = deferred<{ clientAddr: string; peername: unknown }>();
    // Reverse lookups on (the default), unlike the other tests' servers.
    const srv = track(
      await socket.server(
        async (ch: SocketChannel, clientAddr: string) => {
          track(ch);
          await ch.resolveNames();
          seen.resolve({ clientAddr, peername: ch.configure('peername') });
          await ch.close();
        },
        0,
        { myaddr: '127.0.0.1' },
      ),
    );
    const port = srv.port;
    const c = track(await socket('127.0.0.1', port, { reverseLookup: false }));
    const r = await seen.promise;
    expect(r.clientAddr).toBe('127.0.0.1');
    const peer = r.peername as [string, string, number];
    expect(peer[0]).toBe('127.0.0.1');
    expect(peer[1]).toBe('trusted.example.com');
    await c.close();
  });
});
