import net from 'node:net';
import { waitForTcpState } from '@sockchan/test-support';
import { describe, expect, it } from 'vitest';
import { socket } from '../src/index.js';
import type { SocketChannel } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';
import { normaliseNames, runTclsh } from './helpers/tcl.js';

/**
 * Issue 15, write side, through the umbrella: a server-side channel that is not reading, whose
 * peer closed, fails the very puts/flush whose bytes failed, once, as tclsh's does; and a
 * nonblocking channel's background write failure is reported once, by configure('error').
 */

const { cleanup, track } = useChannelCleanup();

/** A socket.server whose one accepted channel is handed over; `peer` is the raw client. */
async function acceptedPair(pausePeer: boolean): Promise<{ ch: SocketChannel; peer: net.Socket; port: number }> {
  let give!: (c: SocketChannel) => void;
  const accepted = new Promise<SocketChannel>((resolve) => (give = resolve));
  const srv = track(await socket.server((c) => void give(track(c)), 0, { myaddr: '127.0.0.1' }));
  const port = srv.port;
  const peer = net.connect({ host: '127.0.0.1', port });
  if (pausePeer) peer.pause();
  cleanup.add(peer);
  return { ch: await accepted, peer, port };
}

/** What tclsh's server-side channel does in the same steps (peer closed; FIN, then our bytes get the RST). */
function tclServerSide(buffering: string): string {
  return normaliseNames(
    runTclsh([
      'proc report {what script} { if {[catch {uplevel #0 $script} r o]} { puts "$what ERR $r" } else { puts "$what OK" } }',
      'proc accept {c a p} { set ::acc $c }',
      'set srv [socket -server accept -myaddr 127.0.0.1 0]',
      'set port [lindex [fconfigure $srv -sockname] 2]',
      'set peer [socket 127.0.0.1 $port]; vwait acc; close $srv; close $peer',
      'proc ss {} { string trim [exec ss -Htn "( sport = :$::port or dport = :$::port )"] }',
      'for {set i 0} {$i < 1000 && ![string match *CLOSE-WAIT* [ss]]} {incr i} { after 5 }',
      `fconfigure $acc -buffering ${buffering}`,
      'report puts1 {puts -nonewline $acc "hello\\n"}',
      'report flush1 {flush $acc}',
      'for {set i 0} {$i < 1000 && [ss] ne ""} {incr i} { after 5 }',
      'report puts2 {puts -nonewline $acc "world\\n"}',
      'report flush2 {flush $acc}',
      'report close {close $acc}',
      'exit',
    ]),
  ).trim();
}

async function step(lines: string[], what: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
    lines.push(`${what} OK`);
  } catch (err) {
    lines.push(`${what} ERR ${(err as Error).message}`);
  }
}

describe('a server-side channel not reading, its peer gone', () => {
  for (const buffering of ['full', 'line', 'none'] as const) {
    it(`fails the call whose bytes failed, once, as tclsh (buffering ${buffering})`, async () => {
      const tcl = tclServerSide(buffering);
      expect(tcl).toMatch(/ERR .*broken pipe/);
      const { ch, peer, port } = await acceptedPair(false);
      peer.destroy();
      await waitForTcpState(port, 'the FIN', (ss) => ss.includes('CLOSE-WAIT'));
      ch.configure({ buffering });
      const lines: string[] = [];
      await step(lines, 'puts1', () => ch.puts('hello\n', { nonewline: true }));
      await step(lines, 'flush1', () => ch.flush());
      await waitForTcpState(port, 'the RST', (ss) => ss === '');
      await step(lines, 'puts2', () => ch.puts('world\n', { nonewline: true }));
      await step(lines, 'flush2', () => ch.flush());
      await step(lines, 'close', () => ch.close());
      expect(normaliseNames(lines.join('\n'))).toBe(tcl);
    }, 30_000);
  }
});

describe("configure('error') reports a background write failure", () => {
  it('once; later writes say broken pipe; close is silent', async () => {
    const { ch, peer, port } = await acceptedPair(true);
    ch.configure({ blocking: false, translation: 'binary' });
    await ch.puts(new Uint8Array(8 * 1024 * 1024), { nonewline: true });
    await ch.flush();
    expect(ch.configure('error')).toBe('');
    // The peer resets with our bytes unread (the kernel buffers are full, the rest is queued).
    await waitForTcpState(port, 'our queued bytes', (ss) => /ESTAB\s+[1-9]/.test(ss));
    peer.resetAndDestroy();
    await waitForTcpState(port, 'the RST', (ss) => ss === '');
    // Bounded: the reset reaches the channel within a few turns of the event loop.
    let text = '';
    for (let i = 0; i < 100 && text === ''; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      text = ch.configure('error');
    }
    expect(text).toBe('connection reset by peer');
    expect(ch.configure('error')).toBe('');
    await expect(ch.puts('x', { nonewline: true }).then(() => ch.flush())).rejects.toThrow(/^error flushing "sock\d+": broken pipe$/);
    await expect(ch.close()).resolves.toBeUndefined();
  }, 30_000);
});
