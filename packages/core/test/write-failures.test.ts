import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { runTclClient } from '@sockchan/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../src/index.js';
import type { Buffering } from '../src/index.js';

/**
 * Issue 15, write side: a write that fails is reported by the very call whose bytes failed, once,
 * with the kernel's errno, as tclsh 8.6 does. Each case runs the same steps in tclsh
 * (test/fixtures/write-failures/steps.tcl) and with a core Channel on real loopback sockets, and
 * the two transcripts must be equal (channel names aside).
 */

const STEPS = readFileSync(new URL('./fixtures/write-failures/steps.tcl', import.meta.url), 'utf8');

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The TCP sockets of `port` as `ss` lists them (state and queues). */
function sockets(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-Htn', `( sport = :${port} or dport = :${port} )`], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
  });
}

/** Polls `ss` until `cond` holds: bounded (at most 1000 looks), never a fixed sleep. */
async function waitFor(what: string, port: number, cond: (ss: string) => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond(await sockets(port))) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Kind = 'fin' | 'rst';
type Side = 'client' | 'server';

async function tclTranscript(kind: Kind, side: Side, buffering: Buffering, blocking: boolean): Promise<string> {
  const r = await runTclClient(STEPS, [kind, side, buffering, blocking ? '1' : '0'], { timeoutMs: 20_000 });
  expect(r.stderr).toBe('');
  return r.stdout.replace(/sock[0-9a-f]+/g, 'CH').trim();
}

async function report(lines: string[], what: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
    lines.push(`${what} -> ok`);
  } catch (err) {
    const e = err as { message: string; errorCode: string[] };
    // errorCode as Tcl prints a list: a word with a space is braced.
    lines.push(`${what} -> ERROR {${e.message}} ${e.errorCode.map((w) => (w.includes(' ') ? `{${w}}` : w)).join(' ')}`);
  }
}

async function channelTranscript(kind: Kind, side: Side, buffering: Buffering, blocking: boolean): Promise<string> {
  let accepted!: (s: net.Socket) => void;
  const got = new Promise<net.Socket>((resolve) => (accepted = resolve));
  // The peer never reads: on the server side it is paused from the start (an RST needs unread bytes).
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: side === 'client' }, (s) => accepted(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as net.AddressInfo).port;
  const cli = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, ...(side === 'client' ? { onread: Channel.onread } : {}) });
  if (side === 'server') cli.pause();
  const acc = await got;
  cleanup.push(() => {
    cli.destroy();
    acc.destroy();
  });
  const [mine, peer] = side === 'client' ? [cli, acc] : [acc, cli];
  const ch = new Channel(mine);
  cleanup.push(() => ch.close().catch(() => undefined));
  const ended = new Promise((resolve) => mine.once('end', resolve));
  if (kind === 'rst') {
    await ch.puts('unread');
    await ch.flush();
    await waitFor("the peer's unread bytes", port, (ss) => /ESTAB\s+[1-9]/.test(ss));
  }
  peer.destroy();
  if (kind === 'fin') await ended;
  else await waitFor('the RST', port, (ss) => ss === '');
  ch.configure({ buffering, blocking });
  const lines: string[] = [];
  await report(lines, 'puts1', () => ch.puts('hello\n', { nonewline: true }));
  await report(lines, 'flush1', () => ch.flush());
  if (kind === 'fin') await waitFor('the RST', port, (ss) => ss === '');
  await report(lines, 'puts2', () => ch.puts('world\n', { nonewline: true }));
  await report(lines, 'flush2', () => ch.flush());
  await report(lines, 'puts3', () => ch.puts('again\n', { nonewline: true }));
  await report(lines, 'flush3', () => ch.flush());
  await report(lines, 'close', () => ch.close());
  return lines.join('\n').replace(/sock[0-9a-f]+/g, 'CH');
}

describe('a failed write, as tclsh reports it', () => {
  for (const kind of ['fin', 'rst'] as const) {
    for (const side of ['client', 'server'] as const) {
      for (const buffering of ['full', 'line', 'none'] as const) {
        for (const blocking of [true, false]) {
          it(`${kind === 'fin' ? 'peer closed (FIN), our write provokes RST' : 'peer reset with our bytes unread'}: ${side} side, buffering ${buffering}, ${blocking ? 'blocking' : 'nonblocking'}`, async () => {
            const tcl = await tclTranscript(kind, side, buffering, blocking);
            // tclsh must have failed somewhere, or the case tests nothing.
            expect(tcl).toMatch(/ERROR/);
            const ours = await channelTranscript(kind, side, buffering, blocking);
            expect(ours).toBe(tcl);
          }, 30_000);
        }
      }
    }
  }
});
