import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CleanupList,
  TclPeer,
  assertTclsh,
  freePort,
  runTclClient,
  sourcePattern,
  startTclEchoServer,
  startTclScript,
  startTclServer,
  startTclSinkServer,
  startTclSourceServer,
} from '../src/index.js';

const cleanup = new CleanupList();
afterEach(() => cleanup.closeAll());

function connect(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads from `socket` until it has `length` bytes, or until it ends. */
function readBytes(socket: net.Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      socket.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) done();
    };
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('error', reject);
  });
}

describe('tclsh launcher', () => {
  it('finds tclsh 8.6', async () => {
    expect(await assertTclsh()).toMatch(/^8\.6\.\d+$/);
  });

  it('reports a missing tclsh clearly', async () => {
    const saved = process.env['SOCKCHAN_TCLSH'];
    process.env['SOCKCHAN_TCLSH'] = '/nonexistent/tclsh8.6';
    try {
      const error = await runTclClient('puts hi').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_TEST_SUPPORT_MISSING_TOOL' });
      expect((error as Error).message).toMatch(/tclsh 8\.6 is required.*\/nonexistent\/tclsh8\.6/s);
    } finally {
      if (saved === undefined) delete process.env['SOCKCHAN_TCLSH'];
      else process.env['SOCKCHAN_TCLSH'] = saved;
    }
  });

  it('line echo server: announces its port, echoes lines, reports accept and close, stops', async () => {
    const peer = cleanup.add(await startTclEchoServer({ host: '127.0.0.1' }));
    expect(peer).toBeInstanceOf(TclPeer);
    expect(peer.port).toBeGreaterThan(0);
    const client = await connect(peer.port!, '127.0.0.1');
    const accept = await peer.nextLine(/^ACCEPT /);
    expect(accept).toBe(`ACCEPT 127.0.0.1 ${client.localPort}`);
    client.write('hello\r\nwörld\n');
    // A Tcl socket's default translation is {auto crlf}: it reads CRLF or LF, writes CRLF.
    expect((await readBytes(client, 15)).toString('utf8')).toBe('hello\r\nwörld\r\n');
    client.end();
    await peer.nextLine('CLOSED');
    const exit = await peer.stop();
    expect(exit.signal).toBe('SIGTERM');
    await expect(connect(peer.port!, '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('binary echo server echoes arbitrary bytes unchanged, on ::1', async () => {
    const peer = cleanup.add(await startTclEchoServer({ mode: 'binary', host: '::1' }));
    const client = cleanup.add(await connect(peer.port!, '::1'));
    const payload = Buffer.concat([Buffer.from([0, 13, 10, 26, 255, 0x80]), randomBytes(100_000)]);
    client.write(payload);
    const echoed = await readBytes(client, payload.length);
    expect(echoed.equals(payload)).toBe(true);
  });

  it('sink server counts what it received', async () => {
    const peer = cleanup.add(await startTclSinkServer({ host: '127.0.0.1' }));
    const client = await connect(peer.port!, '127.0.0.1');
    client.end(randomBytes(12_345));
    expect(await peer.nextLine(/^SINK /)).toBe('SINK 12345');
  });

  it('source server sends the pattern and closes', async () => {
    const peer = cleanup.add(await startTclSourceServer({ host: '127.0.0.1', bytes: 70_000 }));
    const client = cleanup.add(await connect(peer.port!, '127.0.0.1'));
    const received = await readBytes(client, Number.POSITIVE_INFINITY);
    expect(received.equals(sourcePattern(70_000))).toBe(true);
    expect(await peer.nextLine(/^SENT /)).toBe('SENT 70000');
  });

  it('listens on a given port and passes extra arguments', async () => {
    const port = await freePort();
    const peer = cleanup.add(
      await startTclServer(
        String.raw`
          proc accept {chan host port} { puts $chan [join $::argv ,]; close $chan }
          sockchan_listen accept
        `,
        { port, host: '127.0.0.1', args: ['a b', 'c'] },
      ),
    );
    expect(peer.port).toBe(port);
    const client = cleanup.add(await connect(port, '127.0.0.1'));
    expect((await readBytes(client, Number.POSITIVE_INFINITY)).toString()).toBe('a b,c\r\n');
  });

  it('rejects, and leaves no process, when a server never announces its port', async () => {
    const error = await startTclServer('puts "not a port: pid [pid]"', { readyTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TEST_SUPPORT_TIMEOUT' });
    const pid = /not a port: pid (\d+)/.exec((error as Error).message)?.[1];
    expect(pid).toBeDefined();
    expect(() => process.kill(Number(pid), 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it("rejects when a server script fails, quoting Tcl's error", async () => {
    const error = await startTclServer('error "broken script"').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TEST_SUPPORT_EXITED' });
    expect((error as Error).message).toContain('broken script');
  });

  it('runTclClient returns stdout, stderr and the exit code', async () => {
    const peer = cleanup.add(await startTclEchoServer({ host: '127.0.0.1' }));
    const result = await runTclClient(
      String.raw`
        set s [socket 127.0.0.1 [lindex $argv 0]]
        fconfigure $s -buffering line
        puts $s [lindex $argv 1]
        puts "got [gets $s]"
        close $s
        puts stderr warned
        exit 7
      `,
      [String(peer.port), 'ping'],
    );
    expect(result).toEqual({ code: 7, signal: null, timedOut: false, stdout: 'got ping\n', stderr: 'warned\n' });
  });

  it('runTclClient feeds stdin and is killed after its timeout', async () => {
    const echoed = await runTclClient('puts [string toupper [read stdin]]', [], { input: 'abc' });
    expect(echoed.stdout).toBe('ABC\n');
    const hung = await runTclClient('vwait forever', [], { timeoutMs: 300 });
    expect(hung.timedOut).toBe(true);
    await expect(runTclClient('exit 2', [], { rejectOnFailure: true })).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_COMMAND_FAILED' });
  });

  it('startTclScript talks over stdin/stdout', async () => {
    const peer = cleanup.add(await startTclScript('fconfigure stdout -buffering line\nwhile {[gets stdin line] >= 0} { puts "<$line>" }'));
    peer.writeLine('one');
    expect(await peer.nextLine()).toBe('<one>');
    peer.endInput();
    expect(await peer.exited).toEqual({ code: 0, signal: null });
  });

  it('keeps script files only while they are in use, in one directory per process', async () => {
    const scriptFiles = (): string[] =>
      readdirSync(tmpdir())
        .filter((name) => name.startsWith(`sockchan-tcl-${process.pid}-`))
        .flatMap((dir) => readdirSync(join(tmpdir(), dir)).map((file) => `${dir}/${file}`));
    expect(scriptFiles()).toEqual([]);
    const first = cleanup.add(await startTclEchoServer({ host: '127.0.0.1' }));
    const firstFiles = scriptFiles();
    expect(firstFiles).toHaveLength(1);
    const second = cleanup.add(await startTclSinkServer({ host: '127.0.0.1' }));
    const both = scriptFiles();
    expect(both).toHaveLength(2);
    expect(both).toContain(firstFiles[0]);
    expect(new Set(both.map((path) => path.split('/')[0])).size).toBe(1);
    // A finished client's script is gone at once; the servers' stay while they run.
    expect((await runTclClient('puts ok')).stdout).toBe('ok\n');
    expect(scriptFiles()).toEqual(both);
    await first.stop();
    expect(scriptFiles()).toEqual(both.filter((path) => path !== firstFiles[0]));
    await second.stop();
    expect(scriptFiles()).toEqual([]);
  });
});
