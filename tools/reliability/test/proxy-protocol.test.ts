import { describe, expect, it, vi } from 'vitest';
import net from 'node:net';
import { SockchanError, encodeProxyHeader, socket } from 'sockchan';
import type { SocketChannel } from 'sockchan';
import { deferred, withLeakCheck } from './helpers.js';

const { track } = withLeakCheck();

/** Waits event-loop turns (real setImmediate, bounded) until `cond` holds: no clock involved. */
async function turnsUntil(cond: () => boolean, what: string, maxTurns = 200_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`${what}: not after ${maxTurns} turns`);
}

function connected(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = track(net.connect({ host: '127.0.0.1', port, localAddress }));
    s.once('connect', () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
    s.once('error', reject);
  });
}

describe('PROXY protocol under hostile proxies', () => {
  it('300 slow-header connections (silent, or stalled inside the header) hold up nobody, never reach the callback, and are all closed at the timeout', async () => {
    const SLOW = 300;
    const TIMEOUT = 10_000;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const errors: unknown[] = [];
      const served: string[] = [];
      const srv = track(
        await socket.server(
          async (ch: SocketChannel, addr) => {
            track(ch);
            ch.configure({ translation: 'lf', buffering: 'line' });
            const line = await ch.gets();
            served.push(`${addr} ${line ?? ''}`);
            await ch.puts(`${addr} ${line ?? ''}`);
            await ch.close();
          },
          0,
          { myaddr: '127.0.0.1', reverseLookup: false, proxyProtocol: { from: ['127.0.0.0/8'], timeout: TIMEOUT }, onError: (err) => errors.push(err) },
        ),
      );
      const header = encodeProxyHeader({ source: { address: '192.0.2.1', port: 1 }, destination: { address: '127.0.0.1', port: 2 }, tlvs: [{ type: 2, value: Buffer.from('slow.test') }] });
      const v1 = Buffer.from('PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\n');
      const slow: net.Socket[] = [];
      for (let i = 0; i < SLOW; i++) {
        // From 127.0.0.2 .. 127.0.0.201: a third silent, the rest stalled after a strict prefix.
        const s = await connected(srv.port, `127.0.0.${2 + (i % 200)}`);
        const whole = i % 2 === 0 ? header : v1;
        if (i % 3 !== 0) s.write(whole.subarray(0, 1 + (i % (whole.length - 1))));
        slow.push(s);
      }
      // Every slow connection has its header timer: all accepted, none handed over.
      await turnsUntil(() => vi.getTimerCount() >= SLOW, 'the server to accept every slow connection');
      // Normal proxied clients are served meanwhile, one after another.
      for (let i = 0; i < 20; i++) {
        const c = await connected(srv.port, '127.0.0.1');
        const answer = deferred<string>();
        let text = '';
        c.setEncoding('latin1');
        c.on('data', (d: string) => {
          text += d;
          if (text.endsWith('\n')) answer.resolve(text);
        });
        c.write(Buffer.concat([encodeProxyHeader({ source: { address: `198.51.100.${i + 1}`, port: 1000 + i }, destination: { address: '127.0.0.1', port: 1 } }), Buffer.from(`hello ${i}\n`)]));
        expect(await answer.promise).toBe(`198.51.100.${i + 1} hello ${i}\n`);
        c.destroy();
      }
      expect(served).toHaveLength(20);
      expect(errors).toEqual([]);
      // The timeout, on the virtual clock: every slow connection is closed and reported, once.
      const closes = slow.map((s) => new Promise((resolve) => (s.closed ? resolve(undefined) : s.once('close', resolve))));
      for (const s of slow) s.resume();
      vi.advanceTimersByTime(TIMEOUT);
      await Promise.all(closes);
      await turnsUntil(() => errors.length >= SLOW, 'every slow connection to be reported');
      expect(errors).toHaveLength(SLOW);
      for (const e of errors) {
        expect(e).toBeInstanceOf(SockchanError);
        expect((e as SockchanError).code).toBe('ERR_SOCKCHAN_TIMEOUT');
        expect((e as SockchanError).message).toMatch(/^no complete PROXY protocol header from 127\.0\.0\.\d+ port \d+ within 10000 ms \(\d+ bytes received\)$/);
      }
      expect(served).toHaveLength(20);
      expect(vi.getTimerCount()).toBe(0);
      console.log(`figures: ${SLOW} slow-header connections held while 20 clients were served; all ${SLOW} closed at the ${TIMEOUT} ms timeout, 0 reached the callback`);
    } finally {
      vi.useRealTimers();
    }
  });
});
