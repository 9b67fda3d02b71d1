import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, freePort, runCommand, runTclClient, startTclServer, startTclEchoServer, startTclSourceServer, sourcePattern } from '@sockchan/test-support';
import type { Netns, TclPeer } from '@sockchan/test-support';
import { CLI, CliProcess, runCli } from './run-cli.js';

// Drives the real `sockchan` binary (dist/cli.js), with tclsh 8.6 as the other end where it can be.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function track<T extends CliProcess | TclPeer>(p: T): T {
  cleanups.push(() => (p instanceof CliProcess ? p.kill() : p.stop()));
  return p;
}

/** A port nobody listens on. */
const closedPort = (): Promise<number> => freePort('127.0.0.1');

/** A tclsh server that records what one client sends until EOF (printing `GOT <hex>`), then answers `bye <n>` and closes. */
const TCL_RECORDER = String.raw`
proc accept {chan host port} {
    fconfigure $chan -translation binary -blocking 0
    set ::data($chan) ""
    fileevent $chan readable [list rd $chan]
}
proc rd {chan} {
    append ::data($chan) [read $chan]
    if {[eof $chan]} {
        binary scan $::data($chan) H* hex
        puts "GOT $hex"
        fconfigure $chan -blocking 1
        puts -nonewline $chan "bye [string length $::data($chan)]\n"
        close $chan
    }
}
sockchan_listen accept
`;

describe('command line', () => {
  it('no arguments: Tcl wrong # args text, exit 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sockchan: wrong # args: should be "sockchan ?-myaddr addr? ?-myport myport? ?-async? host port" or "sockchan -server echo|cat|time ?-myaddr addr? port"\n',
    );
    expect(r.stdout.length).toBe(0);
  });

  it.each([
    [['-foo', 'localhost', '1'], 'bad option "-foo": must be -alpn, -async, -buffering, -cafile, -certfile, -encoding, -keyfile, -myaddr, -myport, -proxy-from, -server, -servername, -tls, -translation, or -unix'],
    [['-proxy-from', '127.0.0.1', 'localhost', '1'], 'option -proxy-from is only valid for servers'],
    [['-server', 'echo', '-proxy-from', '127.0.0.1,proxy.test', '1'], 'bad address "proxy.test" in -proxy-from: must be an IPv4 or IPv6 address, or a CIDR block such as 10.0.0.0/8 or fd00::/8'],
    [['-server', 'echo', '-proxy-from'], 'no argument given for -proxy-from option'],
    [['-server', 'echo', '-myport', '3', '1'], 'option -myport is not valid for servers'],
    [['-server', 'echo', '-async', '1'], 'cannot set -async option for server sockets'],
    [['-server', 'daytime', '1'], 'bad server command "daytime": must be cat, echo, or time'],
    [['localhost', '99999'], "couldn't open socket: port number too high"],
    [['localhost', 'x1'], 'expected integer but got "x1"'],
    [['-translation', 'unix', 'localhost', '1'], 'bad value for -translation: must be one of auto, binary, cr, lf, crlf, or platform'],
    [['-buffering', 'some', 'localhost', '1'], 'bad value for -buffering: must be one of full, line, or none'],
    [['-encoding', 'latin1', 'localhost', '1'], 'unknown encoding "latin1"'],
    [['-myaddr'], 'no argument given for -myaddr option'],
  ])('%j: one line, exit 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.stderr).toBe(`sockchan: ${message}\n`);
    expect(r.code).toBe(2);
  });

  it('--help prints the syntax and examples on stdout, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.toString('utf8');
    expect(text).toContain('sockchan ?-myaddr addr? ?-myport myport? ?-async?');
    expect(text).toContain('sockchan -server echo|cat|time');
    expect(text).toMatch(/Examples:\n {2}sockchan /);
    expect(r.stderr).toBe('');
  });
});

describe('client', () => {
  it('connection refused: Tcl text, exit 1 (blocking and -async)', async () => {
    const port = String(await closedPort());
    for (const args of [['127.0.0.1', port], ['-async', '127.0.0.1', port]]) {
      const r = await runCli(args, 'never sent\n');
      expect(r.stderr).toBe("sockchan: couldn't open socket: connection refused\n");
      expect(r.code).toBe(1);
    }
  });

  it('sends stdin with Tcl default translation (CRLF), half-closes at EOF, prints the reply, exit 0 (tclsh server)', async () => {
    const tcl = track(await startTclServer(TCL_RECORDER, { host: '127.0.0.1' }));
    const r = await runCli(['127.0.0.1', String(tcl.port)], 'hello\nworld\n');
    // tclsh saw EOF only because the CLI half-closed; its answer came back after that.
    expect(await tcl.nextLine(/^GOT /)).toBe(`GOT ${Buffer.from('hello\r\nworld\r\n').toString('hex')}`);
    expect(r.stdout.toString('utf8')).toBe('bye 14\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('-translation binary is byte-transparent both ways (tclsh binary echo)', async () => {
    const tcl = track(await startTclEchoServer({ mode: 'binary', host: '127.0.0.1' }));
    const data = Buffer.concat([sourcePattern(256 * 1024), Buffer.from('\r\n\r tail without newline')]);
    const r = await runCli(['-translation', 'binary', '127.0.0.1', String(tcl.port)], data);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('-encoding iso8859-1 -translation lf: UTF-8 stdin goes out as Latin-1 bytes', async () => {
    const tcl = track(await startTclServer(TCL_RECORDER, { host: '127.0.0.1' }));
    const r = await runCli(['-encoding', 'iso8859-1', '-translation', 'lf', '127.0.0.1', String(tcl.port)], 'café\n');
    expect(r.code).toBe(0);
    expect(await tcl.nextLine(/^GOT /)).toBe('GOT 636166e90a');
  });

  it('reads with Tcl defaults (auto: CR, LF, CRLF all end a line) and -encoding decodes what the peer sends', async () => {
    const tcl = track(
      await startTclServer(
        String.raw`
proc accept {chan host port} {
    fconfigure $chan -translation binary
    puts -nonewline $chan "caf\xe9\r\nx\ry\n"
    close $chan
}
sockchan_listen accept
`,
        { host: '127.0.0.1' },
      ),
    );
    const latin1 = await runCli(['-encoding', 'iso8859-1', '127.0.0.1', String(tcl.port)]);
    expect(latin1.code).toBe(0);
    expect(latin1.stdout.toString('utf8')).toBe('café\nx\ny\n');
    // As bytes: the same input, untouched.
    const raw = await runCli(['-translation', 'binary', '127.0.0.1', String(tcl.port)]);
    expect(raw.stdout).toEqual(Buffer.from('caf\xe9\r\nx\ry\n', 'latin1'));
  });

  it('-myaddr and -myport bind the local end (tclsh sees that address and port)', async () => {
    const tcl = track(await startTclEchoServer({ host: '127.0.0.1' }));
    const myport = await freePort('127.0.0.1');
    const r = await runCli(['-myaddr', '127.0.0.1', '-myport', String(myport), '127.0.0.1', String(tcl.port)], 'x\n');
    expect(r.code).toBe(0);
    expect(await tcl.nextLine(/^ACCEPT /)).toBe(`ACCEPT 127.0.0.1 ${myport}`);
  });

  it('-async connects in the background and still delivers input given before the connect', async () => {
    const tcl = track(await startTclServer(TCL_RECORDER, { host: '127.0.0.1' }));
    const r = await runCli(['-async', '-translation', 'lf', '127.0.0.1', String(tcl.port)], 'early\n');
    expect(r.code).toBe(0);
    expect(await tcl.nextLine(/^GOT /)).toBe(`GOT ${Buffer.from('early\n').toString('hex')}`);
    expect(r.stdout.toString()).toBe('bye 6\n');
  });

  it('interactive: each line goes out at once, the answer comes back while stdin stays open', async () => {
    const tcl = track(await startTclEchoServer({ host: '127.0.0.1' }));
    const cli = track(new CliProcess(['127.0.0.1', String(tcl.port)]));
    cli.child.stdin.write('one\n');
    await cli.stdoutContains('one\n');
    cli.child.stdin.write('two\n');
    await cli.stdoutContains('one\ntwo\n');
    cli.child.stdin.end();
    expect((await cli.exit()).code).toBe(0);
  });

  it('backpressure: a peer that does not read stops the CLI reading stdin; everything arrives once it reads', async () => {
    // Reads nothing until it gets `go` on its stdin, then counts bytes until EOF.
    const tcl = track(
      await startTclServer(
        String.raw`
proc accept {chan host port} {
    fconfigure $chan -translation binary -blocking 0
    set ::client $chan
    set ::count 0
    puts "ACCEPT $host $port"
}
proc go {} {
    if {[gets stdin] eq "go"} { fileevent $::client readable sink }
}
proc sink {} {
    incr ::count [string length [read $::client]]
    if {[eof $::client]} { puts "SINK $::count"; close $::client }
}
fileevent stdin readable go
sockchan_listen accept
`,
        { host: '127.0.0.1' },
      ),
    );
    const cli = track(new CliProcess(['-translation', 'binary', '127.0.0.1', String(tcl.port)]));
    await tcl.nextLine(/^ACCEPT /);
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    let accepted = 0;
    let stalledAt: number | undefined;
    // Write with backpressure; a drain that does not come within 1 s means the CLI stopped reading.
    while (accepted < total) {
      accepted += chunk.length;
      if (cli.child.stdin.write(chunk)) continue;
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => cli.child.stdin.once('drain', () => resolve(true))),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), 1000);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        stalledAt = accepted;
        break;
      }
    }
    // Pipe, channel and kernel socket buffers hold a few MB at most; without backpressure all 64 MB go in.
    expect(stalledAt).toBeDefined();
    expect(stalledAt!).toBeLessThan(total / 2);
    tcl.writeLine('go');
    while (accepted < total) {
      accepted += chunk.length;
      if (!cli.child.stdin.write(chunk)) await new Promise((resolve) => cli.child.stdin.once('drain', resolve));
    }
    cli.child.stdin.end();
    expect(await tcl.nextLine(/^SINK /, { timeoutMs: 20_000 })).toBe(`SINK ${total}`);
    expect((await cli.exit()).code).toBe(0);
  }, 60_000);

  it('stdout closed by the reader (`| head -c 10`): Tcl text for the broken pipe, exit 1', async () => {
    const tcl = track(await startTclSourceServer({ bytes: 5_000_000, host: '127.0.0.1' }));
    const cli = track(new CliProcess(['-translation', 'binary', '127.0.0.1', String(tcl.port)]));
    cli.child.stdin.end();
    await cli.waitFor('print some bytes', () => (cli.stdoutBytes.length > 0 ? true : undefined));
    cli.child.stdout.destroy();
    expect(await cli.exit()).toEqual({ code: 1, signal: null });
    expect(cli.stderr).toBe('sockchan: error writing "stdout": broken pipe\n');
  });

  it('Ctrl-C (SIGINT) closes the connection and exits 130; SIGTERM exits 143', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const tcl = track(await startTclEchoServer({ host: '127.0.0.1' }));
      const cli = track(new CliProcess(['127.0.0.1', String(tcl.port)]));
      cli.child.stdin.write('ping\n');
      await cli.stdoutContains('ping\n');
      cli.child.kill(signal);
      expect(await cli.exit()).toEqual({ code, signal: null });
      // The peer saw the connection end.
      await tcl.nextLine('CLOSED');
      expect(cli.stderr).toBe('');
    }
  });
});

describe('client in a network namespace', () => {
  let netns: Netns | undefined;
  afterEach(async () => {
    await netns?.dispose();
    netns = undefined;
  });

  it('Ctrl-C during a connect to a black-holed address cancels it: exit 130, nothing printed', async () => {
    netns = await createNetns();
    // Inside a fresh namespace any port is free; SYNs to it vanish.
    const rule = await netns.dropSyn({ address: '127.0.0.1', port: 9900 });
    for (const args of [['127.0.0.1', '9900'], ['-async', '127.0.0.1', '9900']]) {
      const before = await rule.droppedPackets();
      const cli = await netns.spawn(CLI, args, { label: `sockchan ${args.join(' ')}` });
      // The connect is under way once its SYN was dropped (no event for that: poll the counter, bounded).
      const deadline = Date.now() + 5000;
      while ((await rule.droppedPackets()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await rule.droppedPackets()).toBeGreaterThan(before);
      cli.signal('SIGINT');
      const exit = await cli.exited;
      expect(exit).toEqual({ code: 130, signal: null });
      expect(cli.stderr).toBe('');
      expect(cli.stdout).toBe('');
    }
  });
});

describe('server', () => {
  it('-server echo answers a tclsh client line by line', async () => {
    const srv = track(new CliProcess(['-server', 'echo', '-myaddr', '127.0.0.1', '0']));
    const port = await srv.listeningPort();
    const r = await runTclClient(
      String.raw`
set s [socket 127.0.0.1 [lindex $argv 0]]
fconfigure $s -buffering line
foreach word {alpha beta gamma} { puts $s $word; puts [gets $s] }
close $s write
puts "after [gets $s] eof [eof $s]"
close $s
`,
      [String(port)],
    );
    expect(r.stdout).toBe('alpha\nbeta\ngamma\nafter  eof 1\n');
    expect(r.code).toBe(0);
  });

  it('-server time is the manual time server; the manual client (tclsh) reads it', async () => {
    const srv = track(new CliProcess(['-server', 'time', '-myaddr', '127.0.0.1', '0']));
    const port = await srv.listeningPort();
    const r = await runTclClient(
      String.raw`
set server 127.0.0.1
set sockChan [socket $server [lindex $argv 0]]
gets $sockChan line1
gets $sockChan line2
close $sockChan
puts "The time on $server is $line1"
puts "That is [lindex $line2 0]s since the server started"
puts "Tcl says [clock format [clock scan $line1]]"
`,
      [String(port)],
    );
    expect(r.code).toBe(0);
    const [timeLine, sinceLine, parsed] = r.stdout.trimEnd().split('\n');
    expect(timeLine).toMatch(/^The time on 127\.0\.0\.1 is \w{3} \w{3} \d\d \d\d:\d\d:\d\d \S+ \d{4}$/);
    expect(sinceLine).toMatch(/^That is \d+s since the server started$/);
    // Tcl parses the line back to the same text: it is `clock format`'s default format.
    expect(parsed).toBe(`Tcl says ${timeLine?.slice('The time on 127.0.0.1 is '.length)}`);
    await srv.stdoutContains('Connection from 127.0.0.1 registered\n');
  });

  it('-server cat prints what clients send (a sockchan client) to stdout', async () => {
    const srv = track(new CliProcess(['-server', 'cat', '-myaddr', '127.0.0.1', '-translation', 'binary', '0']));
    const port = await srv.listeningPort();
    const data = sourcePattern(100_000);
    const r = await runCli(['-translation', 'binary', '127.0.0.1', String(port)], data);
    expect(r.code).toBe(0);
    await srv.waitFor('print every byte', () => (srv.stdoutBytes.length >= data.length ? true : undefined));
    expect(srv.stdoutBytes.equals(data)).toBe(true);
  });

  it('listens on every family without -myaddr; Ctrl-C closes the listener and open connections, exit 130', async () => {
    const srv = track(new CliProcess(['-server', 'echo', '0']));
    const port = await srv.listeningPort();
    expect(srv.stderr).toMatch(/listening on .*port \d+, .*port \d+/);
    const client = track(new CliProcess(['127.0.0.1', String(port)]));
    client.child.stdin.write('held open\n');
    await client.stdoutContains('held open\n');
    srv.child.kill('SIGINT');
    expect(await srv.exit()).toEqual({ code: 130, signal: null });
    // The accepted connection was closed: the client sees EOF and ends by itself.
    expect((await client.exit()).code).toBe(0);
    const again = await runCli(['127.0.0.1', String(port)]);
    expect(again.stderr).toBe("sockchan: couldn't open socket: connection refused\n");
  });

  it('SIGTERM stops the server with exit 143', async () => {
    const srv = track(new CliProcess(['-server', 'cat', '-myaddr', '127.0.0.1', '0']));
    await srv.listeningPort();
    srv.child.kill('SIGTERM');
    expect(await srv.exit()).toEqual({ code: 143, signal: null });
  });

  it('-server time -proxy-from: a client behind a PROXY header is shown with its own address; a bad header is reported', async () => {
    const srv = track(new CliProcess(['-server', 'time', '-myaddr', '127.0.0.1', '-proxy-from', '127.0.0.0/8,::1', '0']));
    const port = await srv.listeningPort();
    const r = await runTclClient(
      String.raw`
set s [socket 127.0.0.1 [lindex $argv 0]]
fconfigure $s -translation {auto binary}
puts -nonewline $s "PROXY TCP4 192.0.2.55 127.0.0.1 50123 9900\r\n"
flush $s
puts [gets $s]
close $s
`,
      [String(port)],
    );
    expect(r.code).toBe(0);
    expect(r.stdout, srv.stderr).toMatch(/^\w{3} \w{3} \d\d \d\d:\d\d:\d\d \S+ \d{4}\n$/);
    await srv.stdoutContains('Connection from 192.0.2.55 registered\n');
    const bad = await runCli(['127.0.0.1', String(port)], 'GET / HTTP/1.0\n\n');
    expect(bad.stdout.length).toBe(0);
    await srv.waitFor('report the bad header', () => (/sockchan: bad PROXY protocol header from 127\.0\.0\.1 port \d+: not a PROXY protocol header\n/.test(srv.stderr) ? true : undefined));
  });

  it('a port in use: Tcl text, exit 1', async () => {
    const srv = track(new CliProcess(['-server', 'echo', '-myaddr', '127.0.0.1', '0']));
    const port = await srv.listeningPort();
    const r = await runCli(['-server', 'echo', '-myaddr', '127.0.0.1', String(port)]);
    expect(r.stderr).toBe("sockchan: couldn't open socket: address already in use\n");
    expect(r.code).toBe(1);
  });
});

describe('Unix-domain sockets (-unix path)', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockchan-cli-unix-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('-server echo -unix serves a sockchan client and socat; Ctrl-C removes the socket file', async () => {
    const p = path.join(dir, 'echo.sock');
    const srv = track(new CliProcess(['-server', 'echo', '-unix', p]));
    await srv.waitFor('print that it listens', () => (srv.stderr.includes(`listening on ${p}\n`) ? true : undefined));
    expect(srv.stderr).toBe(`sockchan: listening on ${p}\n`);
    const r = await runCli(['-unix', p], 'one\ntwo\n');
    expect(r.stdout.toString()).toBe('one\ntwo\n');
    expect(r.code).toBe(0);
    const asyncRun = await runCli(['-async', '-unix', p], 'queued\n');
    expect(asyncRun.stdout.toString()).toBe('queued\n');
    const viaSocat = await runCommand('socat', ['-t', '5', '-', `UNIX-CONNECT:${p}`], { input: 'from socat\r\n', timeoutMs: 10_000 });
    // The server reads any line end (auto) and writes CRLF, Tcl's socket default.
    expect(viaSocat.stdout).toBe('from socat\r\n');
    srv.child.kill('SIGINT');
    expect(await srv.exit()).toEqual({ code: 130, signal: null });
    expect(fs.existsSync(p)).toBe(false);
  });

  it('a missing socket: Tcl text, exit 1; a live one cannot be served twice', async () => {
    const missing = await runCli(['-unix', path.join(dir, 'none.sock')]);
    expect(missing.stderr).toBe("sockchan: couldn't open socket: no such file or directory\n");
    expect(missing.code).toBe(1);
    const p = path.join(dir, 'live.sock');
    const srv = track(new CliProcess(['-server', 'cat', '-unix', p]));
    await srv.waitFor('print that it listens', () => (srv.stderr.includes('listening on') ? true : undefined));
    const second = await runCli(['-server', 'cat', '-unix', p]);
    expect(second.stderr).toBe(`sockchan: couldn't open socket: address already in use (a server is listening on "${p}")\n`);
    expect(second.code).toBe(1);
  });

  it.each([
    [['-unix', '/tmp/x.sock', 'localhost', '80'], 'wrong # args: should be "sockchan ?-async? ?channel options? -unix path" or "sockchan -server echo|cat|time ?channel options? -unix path"'],
    [['-myaddr', '127.0.0.1', '-unix', '/tmp/x.sock'], 'option -myaddr is not valid with -unix'],
    [['-server', 'echo', '-async', '-unix', '/tmp/x.sock'], 'cannot set -async option for server sockets'],
    [['-server', 'daytime', '-unix', '/tmp/x.sock'], 'bad server command "daytime": must be cat, echo, or time'],
    [['-unix'], 'no argument given for -unix option'],
  ])('%j: %s, exit 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.stderr).toBe(`sockchan: ${message}\n`);
    expect(r.code).toBe(2);
  });
});
