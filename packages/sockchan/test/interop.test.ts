import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertTclsh,
  assertTestNames,
  runTclClient,
  sourcePattern,
  startTclEchoServer,
  startTclServer,
  startTclSinkServer,
  startTclSourceServer,
} from '@sockchan/test-support';
import type { TclPeer } from '@sockchan/test-support';
import { socket } from '../src/index.js';
import type { ServerChannel, SocketChannel } from '../src/index.js';
import { deferred, within, writableOnce } from './helpers/wait.js';

// Interop on real sockets with tclsh 8.6 as the peer, both directions: a sockchan client against
// a tclsh server, and a tclsh client against a sockchan server.

const peers: TclPeer[] = [];
const channels: (SocketChannel | ServerChannel)[] = [];
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.close()));
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});
beforeAll(async () => {
  assertTestNames();
  await assertTclsh();
});

function track<T extends SocketChannel | ServerChannel>(ch: T): T {
  channels.push(ch);
  return ch;
}

async function tclServer(script: string, host?: string): Promise<TclPeer> {
  const peer = await startTclServer(script, host === undefined ? {} : { host });
  peers.push(peer);
  return peer;
}

/** A tclsh client script run to completion; returns its stdout lines (fails on a non-zero exit). */
async function tclClient(script: string, args: (string | number)[] = []): Promise<string[]> {
  const r = await runTclClient(script, args.map(String), { timeoutMs: 15_000 });
  if (r.code !== 0 || r.timedOut) throw new Error(`tclsh client failed (${String(r.code)}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** A tclsh server whose accept handler is `body` (with $chan), run once per connection. */
function acceptServer(body: string, host?: string): Promise<TclPeer> {
  return tclServer(String.raw`
proc accept {chan host port} {
    puts "ACCEPT $host $port"
    ${body}
}
sockchan_listen accept
`, host);
}

describe('sockchan client, tclsh server', () => {
  it('line echo (Tcl writes CRLF, we read auto)', async () => {
    const tcl = await startTclEchoServer({ host: '127.0.0.1' });
    peers.push(tcl);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    for (const line of ['one', 'two words', '', 'last']) {
      await ch.puts(line);
      await ch.flush();
      expect(await ch.gets()).toBe(line);
    }
  });

  it('pipelined lines: 2000 lines written before reading', async () => {
    const tcl = await startTclEchoServer({ host: '127.0.0.1' });
    peers.push(tcl);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    for (const l of lines) await ch.puts(l);
    await ch.flush();
    const got: string[] = [];
    for (let i = 0; i < lines.length; i++) got.push((await ch.gets()) ?? '<eof>');
    expect(got).toEqual(lines);
  });

  it('input translations: Tcl sends LF, CR and CRLF lines; auto reads all three', async () => {
    const tcl = await acceptServer(String.raw`
      foreach t {lf cr crlf} { fconfigure $chan -translation [list auto $t]; puts -nonewline $chan "$t-line\n"; flush $chan }
      close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    expect([await ch.gets(), await ch.gets(), await ch.gets(), await ch.gets()]).toEqual(['lf-line', 'cr-line', 'crlf-line', null]);
    expect(ch.eof()).toBe(true);
  });

  it('output translations: Tcl sees the bytes we send for lf, cr and crlf', async () => {
    const tcl = await acceptServer(String.raw`
      fconfigure $chan -translation binary
      set data [read $chan]
      binary scan $data H* hex
      puts "HEX $hex"
      close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    for (const t of ['lf', 'cr', 'crlf'] as const) {
      ch.configure({ translation: ['auto', t] });
      await ch.puts(t);
    }
    await ch.close();
    expect(await tcl.nextLine(/^HEX /)).toBe(`HEX ${Buffer.from('lf\ncr\rcrlf\r\n').toString('hex')}`);
  });

  it.each([
    ['utf-8', 'café € 日本'],
    ['iso8859-1', 'café'],
    ['cp1252', 'café €'],
    ['shiftjis', '日本語のテキスト'],
    ['koi8-r', 'Привет'],
  ])('encoding %s both ways', async (enc, text) => {
    const tcl = await acceptServer(String.raw`
      fconfigure $chan -encoding ${enc} -buffering line
      set line [gets $chan]
      puts $chan "[string length $line] $line"
      close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    ch.configure({ encoding: enc });
    await ch.puts(text);
    await ch.flush();
    expect(await ch.gets()).toBe(`${text.length} ${text}`);
  });

  it('binary: all 256 byte values through a tclsh binary echo', async () => {
    const tcl = await startTclEchoServer({ host: '127.0.0.1', mode: 'binary' });
    peers.push(tcl);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    ch.configure({ translation: 'binary' });
    const bytes = sourcePattern(256 * 8);
    await ch.puts(bytes, { nonewline: true });
    await ch.flush();
    expect(Buffer.from(await ch.readBytes(bytes.length)).equals(bytes)).toBe(true);
  });

  it('a 2 MB stream from tclsh arrives exactly', async () => {
    const n = 2 * 1024 * 1024;
    const tcl = await startTclSourceServer({ bytes: n, host: '127.0.0.1' });
    peers.push(tcl);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    ch.configure({ translation: 'binary' });
    const got = Buffer.from(await ch.read(), 'latin1');
    expect(got.length).toBe(n);
    expect(got.equals(sourcePattern(n))).toBe(true);
    expect(ch.eof()).toBe(true);
  });

  it('a 2 MB stream from us: the tclsh sink counts every byte', async () => {
    const tcl = await startTclSinkServer({ host: '127.0.0.1' });
    peers.push(tcl);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    ch.configure({ translation: 'binary' });
    const n = 2 * 1024 * 1024;
    await ch.puts(sourcePattern(n), { nonewline: true });
    await ch.close();
    expect(await tcl.nextLine(/^SINK /, { timeoutMs: 10_000 })).toBe(`SINK ${n}`);
  });

  it('EOF: a last partial line is returned, then null with eof()', async () => {
    const tcl = await acceptServer(String.raw`puts $chan "whole"; puts -nonewline $chan "partial"; close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    expect(await ch.gets()).toBe('whole');
    expect(await ch.gets()).toBe('partial');
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
  });

  it('half-close from us: Tcl reads to EOF and still answers', async () => {
    const tcl = await acceptServer(String.raw`
      set data [read $chan]
      puts $chan "got [string length $data] chars"
      close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    await ch.puts('1234');
    await ch.close('write');
    expect(await ch.gets()).toBe('got 5 chars');
  });

  it('half-close from Tcl: we see EOF and can still answer', async () => {
    const tcl = await acceptServer(String.raw`
      puts $chan "question"
      close $chan write
      puts "REPLY [gets $chan]"
      close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    expect(await ch.gets()).toBe('question');
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
    await ch.puts('answer after EOF');
    await ch.flush();
    expect(await tcl.nextLine(/^REPLY /)).toBe('REPLY answer after EOF');
  });

  it('async connect: output queued while connecting reaches Tcl', async () => {
    const tcl = await startTclEchoServer({ host: '127.0.0.1' });
    peers.push(tcl);
    const ch = track(socket('127.0.0.1', tcl.port as number, { async: true }));
    await ch.puts('sent while connecting');
    await writableOnce(ch, 'connect', 5000);
    expect(ch.configure('error')).toBe('');
    await ch.flush();
    expect(await ch.gets()).toBe('sent while connecting');
  });

  it('dual-stack tclsh server: we reach it over 127.0.0.1, ::1 and localhost; Tcl sees our addresses', async () => {
    const tcl = await acceptServer(String.raw`puts $chan [fconfigure $chan -peername]; close $chan`);
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      const ch = track(await socket(host, tcl.port as number));
      const [address, , port] = ch.configure('sockname') as [string, string, number];
      const line = await ch.gets();
      expect(line?.split(' ')).toEqual([address, 'localhost', String(port)]);
    }
  });

  it('eofchar: Tcl writes one at close, we stop reading there', async () => {
    const tcl = await acceptServer(String.raw`fconfigure $chan -eofchar {{} x}; puts $chan "before"; close $chan`);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    ch.configure({ eofchar: 'x' });
    expect(await ch.read()).toBe('before\n');
    expect(ch.eof()).toBe(true);
  });

  it('nonblocking reader with readable events reassembles a 1 MB stream', async () => {
    const n = 1024 * 1024;
    const tcl = await startTclSourceServer({ bytes: n, host: '127.0.0.1' });
    peers.push(tcl);
    const ch = track(await socket('127.0.0.1', tcl.port as number));
    ch.configure({ translation: 'binary', blocking: false });
    const parts: Buffer[] = [];
    const done = deferred();
    ch.onReadable(async () => {
      const chunk = await ch.readBytes(100_000);
      expect(chunk.length).toBeLessThanOrEqual(100_000);
      parts.push(Buffer.from(chunk));
      if (ch.eof()) {
        ch.onReadable(null);
        done.resolve();
      }
    });
    await within(done.promise, 10_000, 'stream');
    expect(Buffer.concat(parts).equals(sourcePattern(n))).toBe(true);
  });

  it('20 sockchan clients at once against one tclsh echo server', async () => {
    const tcl = await startTclEchoServer({ host: '127.0.0.1' });
    peers.push(tcl);
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const ch = track(await socket('127.0.0.1', tcl.port as number));
        await ch.puts(`client ${i}`);
        await ch.flush();
        return ch.gets();
      }),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => `client ${i}`));
  });
});

describe('tclsh client, sockchan server', () => {
  /** A sockchan line echo server. */
  async function echoServer(myaddr?: string): Promise<ServerChannel> {
    return track(
      await socket.server(
        async (chan) => {
          channels.push(chan);
          for await (const line of chan) {
            await chan.puts(line);
            await chan.flush();
          }
          await chan.close();
        },
        0,
        myaddr === undefined ? {} : { myaddr },
      ),
    );
  }

  it('line echo', async () => {
    const srv = await echoServer('127.0.0.1');
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      fconfigure $s -buffering line
      foreach l {alpha {two words} {} omega} { puts $s $l; puts [list [gets $s]] }
      close $s`, [srv.port]);
    expect(out).toEqual(['alpha', '{two words}', '{}', 'omega']);
  });

  it('Tcl sends LF, CR and CRLF lines: we read them all as lines', async () => {
    const got: string[] = [];
    const done = deferred();
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        for await (const line of chan) got.push(line);
        done.resolve();
      }, 0),
    );
    await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      foreach t {lf cr crlf} { fconfigure $s -translation [list auto $t]; puts $s "$t-line"; flush $s }
      close $s`, [srv.port]);
    await within(done.promise, 5000, 'lines');
    expect(got).toEqual(['lf-line', 'cr-line', 'crlf-line']);
  });

  it('our CRLF output: Tcl reads the exact bytes', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        await chan.puts('a');
        chan.configure({ translation: 'lf' });
        await chan.puts('b');
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      fconfigure $s -translation binary
      binary scan [read $s] H* hex
      puts $hex`, [srv.port]);
    expect(out).toEqual([Buffer.from('a\r\nb\n').toString('hex')]);
  });

  it.each([
    ['iso8859-1', 'café'],
    ['utf-8', 'naïve €'],
    ['euc-jp', '日本語'],
  ])('encoding %s: Tcl sends, we answer with the length', async (enc, text) => {
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        chan.configure({ encoding: enc });
        const line = (await chan.gets()) ?? '';
        await chan.puts(`${line.length} ${line}`);
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      fconfigure $s -encoding ${enc}
      puts $s [encoding convertfrom utf-8 [binary format H* [lindex $argv 1]]]
      flush $s
      binary scan [encoding convertto utf-8 [gets $s]] H* hex
      puts $hex`, [srv.port, Buffer.from(text, 'utf8').toString('hex')]);
    // Hex both ways: the test does not depend on the system encoding tclsh picks for argv and stdout.
    expect(out.map((h) => Buffer.from(h, 'hex').toString('utf8'))).toEqual([`${text.length} ${text}`]);
  });

  it('binary: Tcl sends every byte value, we echo them unchanged', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        chan.configure({ translation: 'binary' });
        const data = await chan.readBytes();
        await chan.puts(data, { nonewline: true });
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      fconfigure $s -translation binary
      set block ""
      for {set i 0} {$i < 256} {incr i} { append block [format %c $i] }
      puts -nonewline $s [string repeat $block 4]
      close $s write
      set back [read $s]
      puts [expr {$back eq [string repeat $block 4]}]
      puts [string length $back]`, [srv.port]);
    expect(out).toEqual(['1', '1024']);
  });

  it('Tcl half-closes: we read to EOF and answer', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        const all = await chan.read();
        expect(chan.eof()).toBe(true);
        await chan.puts(`got ${all.length} chars`);
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      puts $s "one"; puts $s "two"
      close $s write
      puts [gets $s]`, [srv.port]);
    expect(out).toEqual(['got 8 chars']);
  });

  it('we half-close: Tcl sees EOF and its answer still reaches us', async () => {
    const answer = deferred<string | null>();
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        await chan.puts('question');
        await chan.close('write');
        answer.resolve(await chan.gets());
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      puts [gets $s]
      gets $s
      puts [eof $s]
      puts $s "answer"
      close $s`, [srv.port]);
    expect(out).toEqual(['question', '1']);
    expect(await within(answer.promise, 5000, 'answer')).toBe('answer');
  });

  it('EOF with a partial last line, as Tcl reads it', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        await chan.puts('whole');
        await chan.puts('partial', { nonewline: true });
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      puts [list [gets $s] [eof $s]]
      puts [list [gets $s] [eof $s]]
      puts [list [gets $s line] [eof $s]]`, [srv.port]);
    expect(out).toEqual(['whole 0', 'partial 1', '-1 1']);
  });

  it('Tcl -async connect to our server: writable fires, -error is empty', async () => {
    const srv = await echoServer();
    const out = await tclClient(String.raw`
      set s [socket -async localhost [lindex $argv 0]]
      fileevent $s writable {set ::w 1}
      vwait ::w
      fileevent $s writable {}
      puts [list [fconfigure $s -error] [fconfigure $s -connecting]]
      fconfigure $s -buffering line
      puts $s "after async"
      puts [gets $s]`, [srv.port]);
    expect(out).toEqual(['{} 0', 'after async']);
  });

  it('dual-stack: Tcl reaches our wildcard server over both families, one port', async () => {
    const seen: string[] = [];
    const srv = track(
      await socket.server(async (chan, addr, port) => {
        seen.push(addr);
        await chan.puts(`${addr} ${port}`);
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      foreach h {127.0.0.1 ::1} {
        set s [socket $h [lindex $argv 0]]
        set line [gets $s]
        puts [expr {$line eq "[lindex [fconfigure $s -sockname] 0] [lindex [fconfigure $s -sockname] 2]"}]
        close $s
      }`, [srv.port]);
    expect(out).toEqual(['1', '1']);
    expect(seen).toEqual(['127.0.0.1', '::1']);
  });

  it('Tcl -myaddr dual.test server form vs ours: the same sockname shape', async () => {
    const srv = track(await socket.server(() => undefined, 0, { myaddr: 'dual.test' }));
    await srv.resolveNames();
    const out = await tclClient(String.raw`
      set s [socket -server cmd -myaddr dual.test 0]
      set p [lindex [fconfigure $s -sockname] 2]
      puts [string map [list $p PORT] [fconfigure $s -sockname]]`);
    const ours = srv.configure('sockname').flat().map((x) => (x === srv.port ? 'PORT' : String(x))).join(' ');
    expect(out).toEqual([ours]);
  });

  it('30 tclsh connections at once, each answered', async () => {
    const srv = await echoServer('127.0.0.1');
    const out = await tclClient(String.raw`
      set port [lindex $argv 0]
      for {set i 0} {$i < 30} {incr i} {
        set s($i) [socket 127.0.0.1 $port]
        fconfigure $s($i) -buffering line
        puts $s($i) "conn $i"
      }
      set ok 0
      for {set i 0} {$i < 30} {incr i} { if {[gets $s($i)] eq "conn $i"} { incr ok }; close $s($i) }
      puts $ok`, [srv.port]);
    expect(out).toEqual(['30']);
  });

  it('a 4 MB upload from Tcl: we count every byte', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        chan.configure({ translation: 'binary' });
        let total = 0;
        for (;;) {
          const chunk = await chan.readBytes(65536);
          total += chunk.length;
          if (chunk.length < 65536 && chan.eof()) break;
        }
        await chan.puts(String(total));
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      fconfigure $s -translation binary -buffersize 65536
      set block [string repeat x 65536]
      for {set i 0} {$i < 64} {incr i} { puts -nonewline $s $block }
      close $s write
      puts [gets $s]`, [srv.port]);
    expect(out).toEqual([String(4 * 1024 * 1024)]);
  });

  it('Tcl sees our peer and socket names as we do', async () => {
    const names = deferred<unknown[]>();
    const srv = track(
      await socket.server(async (chan) => {
        channels.push(chan);
        await chan.resolveNames();
        names.resolve([chan.configure('sockname'), chan.configure('peername')]);
        await chan.puts('ok');
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      gets $s
      puts [fconfigure $s -peername]
      puts [fconfigure $s -sockname]`, [srv.port]);
    const [sock, peer] = (await names.promise) as [unknown[], unknown[]];
    expect(out).toEqual([sock.join(' '), peer.join(' ')]);
  });

  it('nonblocking Tcl client with readable events reads our 500 lines', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        for (let i = 0; i < 500; i++) await chan.puts(`line ${i}`);
        await chan.close();
      }, 0),
    );
    const out = await tclClient(String.raw`
      set s [socket 127.0.0.1 [lindex $argv 0]]
      fconfigure $s -blocking 0
      set ::n 0
      proc rd {s} {
        while {[gets $s line] >= 0} { if {$line eq "line $::n"} { incr ::n } }
        if {[eof $s]} { close $s; set ::done 1 }
      }
      fileevent $s readable [list rd $s]
      vwait ::done
      puts $::n`, [srv.port]);
    expect(out).toEqual(['500']);
  });
});
