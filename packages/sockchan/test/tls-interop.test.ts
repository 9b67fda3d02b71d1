import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTestCertificates, runTclClient, startProcess, startTclScript } from '@sockchan/test-support';
import type { TestCertificates } from '@sockchan/test-support';
import { socket, tls } from '../src/index.js';
import type { ServerChannel } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';

/**
 * TLS against real peers: tclsh with TclTLS 1.7 (separate processes: TclTLS deadlocks a blocking
 * client and a TLS server in one interpreter), `openssl s_server` and `openssl s_client`.
 */

const { cleanup, track } = useChannelCleanup();
let certs: TestCertificates;
beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterAll(() => certs.dispose());

function portOf(srv: ServerChannel): number {
  return (srv.configure('sockname') as [string, string, number][])[0]?.[2] as number;
}

/** A sockchan TLS (or plain) echo server: `echo:` + line. */
async function sockchanEcho(plainThenStarttls: boolean): Promise<ServerChannel> {
  const onConnection = async (ch: Awaited<ReturnType<typeof socket>>): Promise<void> => {
    ch.configure({ buffering: 'line' });
    if (plainThenStarttls) {
      if ((await ch.gets()) !== 'STARTTLS') return ch.close();
      await ch.puts('220 go ahead');
      await tls.import(ch, { server: true, certfile: certs.server.cert, keyfile: certs.server.key });
    }
    for await (const line of ch) await ch.puts(`echo:${line}`);
    await ch.close();
  };
  if (plainThenStarttls) return track(await socket.server(onConnection, 0));
  return track(await tls.server(onConnection, 0, { certfile: certs.server.cert, keyfile: certs.server.key }));
}

/** A tclsh TclTLS server echoing `echo:` + line; with `starttls`, plain until a STARTTLS line. */
async function tclTlsServer(starttls: boolean): Promise<number> {
  const script = String.raw`
package require tls
fconfigure stdout -buffering line
lassign $argv certfile keyfile starttls
proc accept {chan host port} {
    fconfigure $chan -buffering line -blocking 0
    if {$::starttls} { fileevent $chan readable [list command $chan] } else { fileevent $chan readable [list echo $chan] }
}
proc command {chan} {
    if {[gets $chan line] < 0} { if {[eof $chan]} { close $chan }; return }
    puts $chan "220 go ahead"
    flush $chan
    tls::import $chan -server 1 -certfile $::certfile -keyfile $::keyfile
    fileevent $chan readable [list echo $chan]
}
proc echo {chan} {
    if {[catch {gets $chan line} n]} { puts "ERROR $n"; catch {close $chan}; return }
    if {$n >= 0} { puts $chan "echo:$line"; return }
    if {[eof $chan]} { close $chan }
}
if {$starttls} { set s [socket -server accept 0] } else { set s [tls::socket -server accept -certfile $certfile -keyfile $keyfile 0] }
puts "PORT [lindex [fconfigure $s -sockname] 2]"
vwait forever
`;
  const peer = cleanup.add(await startTclScript(script, [certs.server.cert, certs.server.key, starttls ? '1' : '0'], { label: 'tclsh TclTLS server', lifetimeMs: 60_000 }));
  const line = await peer.nextLine(/^PORT \d+$/);
  return Number(line.slice(5));
}

describe('TLS with tclsh and TclTLS', () => {
  it('sockchan client -> TclTLS server (verified by name)', async () => {
    const port = await tclTlsServer(false);
    const ch = track(await tls.socket('localhost', port, { cafile: certs.ca.cert }));
    ch.configure({ buffering: 'line' });
    await ch.puts('hello tcl');
    expect(await ch.gets()).toBe('echo:hello tcl');
    expect(tls.status(ch)?.subject).toBe('CN=localhost');
  });

  it('TclTLS client (-require 1) -> sockchan server; tls::status sees our certificate', async () => {
    const srv = await sockchanEcho(false);
    const result = await runTclClient(
      String.raw`
package require tls
set c [tls::socket -cafile [lindex $argv 0] -require 1 localhost [lindex $argv 1]]
fconfigure $c -buffering line
puts $c hello
puts [gets $c]
puts [dict get [tls::status $c] subject]
close $c
`,
      [certs.ca.cert, String(portOf(srv))],
      { timeoutMs: 20_000 },
    );
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['echo:hello', 'CN=localhost']);
  });

  it('STARTTLS: sockchan client -> tclsh server that switches with tls::import', async () => {
    const port = await tclTlsServer(true);
    const ch = track(await socket('localhost', port));
    ch.configure({ buffering: 'line' });
    await ch.puts('STARTTLS');
    expect(await ch.gets()).toBe('220 go ahead');
    await tls.import(ch, { servername: 'localhost', cafile: certs.ca.cert });
    await ch.puts('over tls');
    expect(await ch.gets()).toBe('echo:over tls');
  });

  it('STARTTLS: tclsh client with tls::import -> sockchan server that switches with tls.import', async () => {
    const srv = await sockchanEcho(true);
    const result = await runTclClient(
      String.raw`
package require tls
set c [socket localhost [lindex $argv 1]]
fconfigure $c -buffering line
puts $c STARTTLS
puts [gets $c]
tls::import $c -cafile [lindex $argv 0] -require 1 -servername localhost
tls::handshake $c
puts $c secure
puts [gets $c]
close $c
`,
      [certs.ca.cert, String(portOf(srv))],
      { timeoutMs: 20_000 },
    );
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['220 go ahead', 'echo:secure']);
  });
});

describe('TLS with openssl', () => {
  it('sockchan client -> openssl s_server (ALPN chosen, client certificate required)', async () => {
    const port = await freePort();
    const server = cleanup.add(
      await startProcess(
        'openssl',
        ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', certs.server.cert, '-key', certs.server.key, '-CAfile', certs.ca.cert, '-Verify', '1', '-verify_return_error', '-alpn', 'h2,http/1.1', '-rev'],
        { label: 'openssl s_server', lifetimeMs: 60_000 },
      ),
    );
    await server.nextLine(/^ACCEPT/, { timeoutMs: 10_000 });
    const ch = track(await tls.socket('127.0.0.1', port, { cafile: certs.ca.cert, certfile: certs.client.cert, keyfile: certs.client.key, alpn: ['http/1.1', 'h2'] }));
    expect(tls.status(ch)?.alpn).toBe('h2');
    ch.configure({ buffering: 'line', translation: 'lf' });
    await ch.puts('hello');
    expect(await ch.gets()).toBe('olleh');
  });

  it('openssl s_client (verifying, ALPN) -> sockchan server', async () => {
    const srv = track(
      await tls.server(
        async (ch) => {
          ch.configure({ buffering: 'line', translation: 'lf' });
          await ch.puts(`alpn:${tls.status(ch)?.alpn ?? ''}`);
          for await (const line of ch) await ch.puts(`echo:${line}`);
          await ch.close();
        },
        0,
        { certfile: certs.server.cert, keyfile: certs.server.key, alpn: ['http/1.1'] },
      ),
    );
    const client = cleanup.add(
      await startProcess(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${portOf(srv)}`, '-servername', 'localhost', '-verify_hostname', 'localhost', '-CAfile', certs.ca.cert, '-verify_return_error', '-alpn', 'http/1.1', '-quiet'],
        { label: 'openssl s_client', lifetimeMs: 60_000 },
      ),
    );
    expect(await client.nextLine(/^alpn:/, { timeoutMs: 10_000 })).toBe('alpn:http/1.1');
    client.writeLine('hello');
    expect(await client.nextLine(/^echo:/, { timeoutMs: 10_000 })).toBe('echo:hello');
  });
});
