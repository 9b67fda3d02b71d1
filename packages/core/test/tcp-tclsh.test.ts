import net from 'node:net';
import { CleanupList, startTclServer, type TclPeer } from '@sockchan/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../src/index.js';
import { fromCp, inputVectors, outputVectors, toCp } from './helpers/vectors.js';
import type { GetsResult } from './helpers/vectors.js';

/**
 * Real TCP on loopback with `tclsh` 8.6 as the peer, both directions: tclsh sends the recorded
 * input vectors' bytes (same chunking, flushed apart) and a core Channel over a net.Socket reads
 * them; a Channel writes the output vectors and tclsh reports the bytes it received; and tclsh
 * reads what a Channel writes with its own gets (encodings and translations on both ends).
 */

const cleanup: (() => unknown)[] = [];
const peers = new CleanupList();
afterEach(async () => {
  try {
    for (const f of cleanup.splice(0).reverse()) await f();
  } finally {
    await peers.closeAll();
  }
});

/** A running one-shot tclsh server and the port it listens on. */
interface OneShotServer {
  peer: TclPeer;
  port: number;
}

/**
 * Starts a tclsh server on 127.0.0.1 (ephemeral port) that accepts one connection, runs `body`
 * with `$c` the channel (a Tcl error is printed as `TCLERROR: <message>`), then exits.
 */
async function startOneShotServer(body: string): Promise<OneShotServer> {
  const script = `
proc accept {c a p} {
  if {[catch {
${body}
  } msg]} { puts "TCLERROR: $msg" }
  set ::sockchan_done 1
}
sockchan_listen accept
`;
  // A UTF-8 system encoding, as in an ordinary locale: it is the default of unconfigured channels.
  const peer = peers.add(await startTclServer(script, { host: '127.0.0.1', lifetimeMs: 15_000, env: { ...process.env, LANG: 'C.UTF-8' } }));
  if (peer.port === undefined) throw new Error('tclsh server announced no port');
  return { peer, port: peer.port };
}

/** What a server printed after its `PORT <n>` line, once it has exited; rejects unless it exited 0. */
async function outputOf({ peer }: OneShotServer): Promise<string> {
  const { code, signal } = await peer.exited;
  if (code !== 0) throw new Error(`tclsh exited with ${String(code ?? signal)}: ${peer.stderr}`);
  return peer.stdout.slice(peer.stdout.indexOf('\n') + 1);
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function channelTo(port: number, config: Record<string, string>): Promise<Channel> {
  const sock = await connect(port);
  const ch = new Channel(sock);
  cleanup.push(async () => {
    await ch.close().catch(() => undefined);
    sock.destroy();
  });
  for (const [k, v] of Object.entries(config)) ch.configure({ [k]: v });
  return ch;
}

const INPUT_IDS = [
  'lf-basic',
  'auto-mixed',
  'auto-crlf-split',
  'auto-cr-pause-cr',
  'crlf-split',
  'crlf-cr-end',
  'cr-mode',
  'binary-mode',
  'split-line',
  'utf8-3b-split1',
  'utf8-split-read',
  'long-line',
  'eofchar-split',
  'iso8859-15',
  'sjis-split-lead',
  'unicode-split',
  'buffersize-small',
  'cp1252-special',
];

describe('tclsh sends, Channel reads (input vectors over TCP)', () => {
  const vectors = inputVectors().filter((v) => INPUT_IDS.includes(v.id));
  it('has every chosen vector', () => expect(vectors.map((v) => v.id).sort()).toEqual([...INPUT_IDS].sort()));
  for (const v of vectors) {
    it(`${v.id}: gets`, async () => {
      const tcl = await startOneShotServer(
        `
    fconfigure $c -translation binary
    foreach h {${v.chunks.join(' ')}} { puts -nonewline $c [binary format H* $h]; flush $c; after 25 }
    close $c`,
      );
      const ch = await channelTo(tcl.port, v.config);
      const got: GetsResult[] = [];
      for (let i = 0; i < 100; i++) {
        const line = await ch.gets();
        got.push(line === null ? { n: -1, eof: ch.eof() ? 1 : 0 } : { n: line.length, cp: toCp(line), eof: ch.eof() ? 1 : 0 });
        if (line === null) break;
      }
      const want = v.gets.map((g) => (g.n < 0 ? { n: -1, eof: g.eof ?? 0 } : { n: g.n, cp: g.cp ?? [], eof: g.eof ?? 0 }));
      expect(got).toEqual(want);
      expect(await outputOf(tcl)).toBe('');
    });
  }
});

const OUTPUT_IDS = [
  'default-puts',
  'default-embedded',
  'cr',
  'crlf',
  'binary',
  'utf8-multi',
  'latin1',
  'cp1251',
  'iso2022jp-puts2',
  'unicode-crlf',
  'eofchar-out',
  'buffersize-4-crlf',
  'buffering-line-2puts',
];

describe('Channel writes, tclsh reads (output vectors over TCP)', () => {
  const vectors = outputVectors().filter((v) => OUTPUT_IDS.includes(v.id));
  it('has every chosen vector', () => expect(vectors.map((v) => v.id).sort()).toEqual([...OUTPUT_IDS].sort()));
  for (const v of vectors) {
    it(`${v.id}: wire bytes`, async () => {
      const tcl = await startOneShotServer(
        `
    fconfigure $c -translation binary
    puts [binary encode hex [read $c]]
    close $c`,
      );
      const ch = await channelTo(tcl.port, v.config);
      for (const op of v.ops) {
        if (op.op === 'flush') await ch.flush();
        else await ch.puts(fromCp(op.arg?.cp ?? []), { nonewline: op.op === 'putsn' });
      }
      await ch.close();
      expect((await outputOf(tcl)).trim()).toBe(v.wireHex);
    });
  }
});

describe('Channel and tclsh talk lines (encodings and translations on both ends)', () => {
  const cases: { enc: string; ours: string; theirs: string; lines: string[] }[] = [
    { enc: 'utf-8', ours: 'crlf', theirs: 'auto', lines: ['héllo', 'wörld €', '😀 x', ''] },
    { enc: 'iso8859-1', ours: 'lf', theirs: 'lf', lines: ['café', 'naïve', 'ÿ'] },
    { enc: 'cp1252', ours: 'cr', theirs: 'cr', lines: ['€ sign', '“quotes”'] },
    { enc: 'shiftjis', ours: 'crlf', theirs: 'crlf', lines: ['日本語', 'ｱｲｳ'] },
    { enc: 'unicode', ours: 'lf', theirs: 'lf', lines: ['wide ✓', 'two'] },
  ];
  for (const c of cases) {
    it(`echo through tclsh: ${c.enc}, ours ${c.ours}, theirs ${c.theirs}`, async () => {
      const tcl = await startOneShotServer(
        `
    fconfigure $c -encoding ${c.enc} -translation ${c.theirs}
    while {[gets $c line] >= 0} { puts $c "<$line>"; flush $c }
    close $c`,
      );
      const ch = await channelTo(tcl.port, { encoding: c.enc, translation: c.ours });
      const got: string[] = [];
      for (const line of c.lines) {
        await ch.puts(line);
        await ch.flush();
        got.push((await ch.gets()) ?? '<eof>');
      }
      await ch.close('write');
      expect(await ch.gets()).toBeNull();
      expect(ch.eof()).toBe(true);
      expect(got).toEqual(c.lines.map((l) => `<${l}>`));
    });
  }
});

describe('TCP edge cases with tclsh', () => {
  it('nonblocking puts and close deliver every byte (16 MiB to a slow reader), then EOF', async () => {
    const tcl = await startOneShotServer(
      `
    fconfigure $c -translation binary
    after 300
    set d [read $c]
    puts "[string length $d] [string range $d 0 9] [string range $d end-9 end]"
    close $c`,
    );
    const ch = await channelTo(tcl.port, { translation: 'binary', blocking: 'false' });
    const block = Buffer.alloc(64 * 1024, 0x61);
    block.write('0123456789', 0, 'latin1');
    for (let i = 0; i < 256; i++) {
      if (i === 255) block.write('ABCDEFGHIJ', block.length - 10, 'latin1');
      await ch.puts(block, { nonewline: true });
    }
    expect(ch.pending('output')).toBeGreaterThan(0);
    await ch.close();
    expect((await outputOf(tcl)).trim()).toBe(`${256 * 65536} 0123456789 ABCDEFGHIJ`);
  });

  it('half-close: FIN reaches tclsh, which still answers', async () => {
    const tcl = await startOneShotServer(
      `
    set n 0
    while {[gets $c line] >= 0} { incr n }
    puts $c "got $n lines"
    close $c`,
    );
    const ch = await channelTo(tcl.port, {});
    await ch.puts('one');
    await ch.puts('two');
    await ch.close('write');
    await expect(ch.puts('three')).rejects.toThrow(`channel "${ch.name}" wasn't opened for writing`);
    await expect(ch.close('write')).rejects.toThrow('Half-close of write-side not possible, side not opened or already closed');
    expect(await ch.gets()).toBe('got 2 lines');
    expect(await ch.gets()).toBeNull();
  });

  it('a reset peer reads as EOF; writing to it fails with broken pipe or reset, once per call', async () => {
    const tcl = await startOneShotServer(
      `
    fconfigure $c -translation binary -blocking 1
    puts -nonewline $c "partial"
    flush $c
    after 100
    # Unread input makes close send RST.
    close $c`,
    );
    const ch = await channelTo(tcl.port, { translation: 'binary' });
    await ch.puts('unread data that triggers a reset', { nonewline: true });
    await ch.flush();
    expect(await ch.read()).toBe('partial');
    expect(ch.eof()).toBe(true);
    let error: unknown;
    for (let i = 0; i < 50 && error === undefined; i++) {
      try {
        await ch.puts(Buffer.alloc(1024), { nonewline: true });
        await ch.flush();
      } catch (err) {
        error = err;
      }
    }
    expect(error).toBeDefined();
    const e = error as { message: string; errorCode: string[] };
    expect(e.message).toMatch(new RegExp(`^error (flushing|writing) "${ch.name}": (broken pipe|connection reset by peer)$`));
    expect(e.errorCode[0]).toBe('POSIX');
    await outputOf(tcl);
  });
});
