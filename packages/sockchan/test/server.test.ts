import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerChannel, SocketChannel, channelNames, socket } from '../src/index.js';
import { channelNames as coreChannelNames } from '@sockchan/core';
import { splitTclList, withUtf8Locale } from './helpers/tcl.js';
import { useChannelCleanup } from './helpers/channels.js';
import { deferred, within } from './helpers/wait.js';

afterEach(() => {
  vi.restoreAllMocks();
});
const { cleanup, track } = useChannelCleanup();

/** Connects with plain node:net and collects everything until EOF. */
function rawClient(port: number, host = '127.0.0.1', send?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    cleanup.add(s);
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => {
      s.end();
      resolve(text);
    });
    s.on('error', reject);
    if (send !== undefined) s.write(send);
  });
}

describe('ServerChannel', () => {
  it('the full listing and the socket options, as tclsh shows them', async () => {
    const srv = track(await withUtf8Locale(() => socket.server(() => undefined, 0, { myaddr: '127.0.0.1' })));
    expect(srv).toBeInstanceOf(ServerChannel);
    expect(srv.name).toMatch(/^sock\d+$/);
    await srv.resolveNames();
    const all = srv.configure();
    expect(Object.keys(all)).toEqual(['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation', 'sockname']);
    expect(all).toEqual({
      blocking: true,
      buffering: 'full',
      buffersize: 4096,
      encoding: 'utf-8',
      eofchar: '',
      translation: 'auto',
      sockname: [['127.0.0.1', 'localhost', srv.port]],
    });
    const tcl = await withUtf8Locale(() =>
      execFileSync('tclsh', [], {
        input: 'set s [socket -server cmd -myaddr 127.0.0.1 0]; puts [fconfigure $s]; puts [fconfigure $s -connecting]; puts [list [fconfigure $s -error]]; puts [list [fconfigure $s -e]]',
        encoding: 'utf8',
        env: process.env,
      }).split('\n'),
    );
    const words = splitTclList(tcl[0] ?? '');
    expect(words.filter((_, i) => i % 2 === 0)).toEqual(['-blocking', '-buffering', '-buffersize', '-encoding', '-eofchar', '-translation', '-sockname']);
    expect(words.slice(1, 12).filter((_, i) => i % 2 === 0)).toEqual(['1', 'full', '4096', 'utf-8', '', 'auto']);
    expect(tcl.slice(1, 4)).toEqual(['0', '{}', '{}']);
    expect(srv.configure('connecting')).toBe(false);
    expect(srv.configure('error')).toBe('');
    expect(srv.configure('-e')).toBe('');
  });

  it('sockname: every family without myaddr (wildcards never looked up), IPv4 first', async () => {
    const srv = track(await socket.server(() => undefined, 0));
    await srv.resolveNames();
    expect(srv.configure('sockname')).toEqual([
      ['0.0.0.0', '0.0.0.0', srv.port],
      ['::', '::', srv.port],
    ]);
  });

  it('sockname: a myaddr name with two addresses listens on both, one port', async () => {
    const srv = track(await socket.server(() => undefined, 0, { myaddr: 'dual.test' }));
    await srv.resolveNames();
    expect(srv.configure('sockname')).toEqual([
      ['127.0.0.1', 'localhost', srv.port],
      ['::1', 'localhost', srv.port],
    ]);
  });

  it('options can be set (checked as on any channel); translation and eofchar read back as Tcl shows them', async () => {
    const srv = track(await socket.server(() => undefined, 0, { myaddr: '127.0.0.1' }));
    srv.configure({ blocking: 0, encoding: 'iso8859-1', translation: 'lf', eofchar: 'x', buffering: 'line', buffersize: 10 });
    expect(srv.configure()).toMatchObject({ blocking: false, encoding: 'iso8859-1', translation: 'auto', eofchar: '', buffering: 'line', buffersize: 10 });
    expect(() => srv.configure({ blocking: 'maybe' })).toThrow('expected boolean value but got "maybe"');
    expect(() => srv.configure({ translation: 'bad' })).toThrow('bad value for -translation: must be one of auto, binary, cr, lf, crlf, or platform');
    expect(() => srv.configure({ peername: 'x' })).toThrow(
      'bad option "-peername": should be one of -blocking, -buffering, -buffersize, -encoding, -eofchar, or -translation',
    );
  });

  it('channelNames lists servers with the other channels, in creation order, until close (Tcl lists them too)', async () => {
    const tcl = execFileSync('tclsh', [], {
      input: 'set s [socket -server x -myaddr 127.0.0.1 0]; puts [expr {$s in [chan names]}]; puts [expr {$s in [file channels]}]; close $s; puts [expr {$s in [chan names]}]',
      encoding: 'utf8',
    }).trim().split('\n');
    expect(tcl).toEqual(['1', '1', '0']);
    const first = track(await socket.server(() => undefined, 0, { myaddr: '127.0.0.1', reverseLookup: false }));
    const client = track(await socket('127.0.0.1', first.port, { reverseLookup: false }));
    const second = track(await socket.server(() => undefined, 0, { myaddr: '127.0.0.1', reverseLookup: false }));
    const names = channelNames();
    expect(names).toContain(first.name);
    expect(names).toContain(second.name);
    expect(names.indexOf(first.name)).toBeLessThan(names.indexOf(client.name));
    expect(names.indexOf(client.name)).toBeLessThan(names.indexOf(second.name));
    // Core's list is the same without the servers (core knows nothing of them).
    expect(names.filter((n) => n !== first.name && n !== second.name)).toEqual(coreChannelNames());
    expect(new Set(names).size).toBe(names.length);
    await first.close();
    expect(channelNames()).not.toContain(first.name);
    expect(channelNames()).toContain(second.name);
    expect(channelNames()).toContain(client.name);
    // A server in the middle of its close is gone at once, as in Tcl.
    const closing = second.close();
    expect(channelNames()).not.toContain(second.name);
    await closing;
    await second.close();
    expect(channelNames()).not.toContain(second.name);
  });

  it('has no I/O methods (a type error, and nothing at run time)', async () => {
    const srv = track(await socket.server(() => undefined, 0, { myaddr: '127.0.0.1' }));
    // @ts-expect-error a listening socket cannot be read
    expect(srv.gets).toBeUndefined();
    // @ts-expect-error a listening socket cannot be written
    expect(srv.puts).toBeUndefined();
  });
});

describe('socket.server: accepting', () => {
  it('calls back with (chan, clientAddr, clientPort); the channel has socket defaults', async () => {
    const got = deferred<[SocketChannel, string, number]>();
    const srv = track(
      await socket.server((chan, addr, port) => {
        got.resolve([chan, addr, port]);
      }, 0),
    );
    const client = track(await socket('127.0.0.1', srv.port));
    const [chan, addr, port] = await within(got.promise, 5000, 'accept');
    track(chan);
    expect(chan).toBeInstanceOf(SocketChannel);
    expect(addr).toBe('127.0.0.1');
    expect(port).toBe((client.configure('sockname') as [string, string, number])[2]);
    expect(chan.configure()).toMatchObject({ blocking: true, buffering: 'full', translation: ['auto', 'crlf'], eofchar: ['', ''] });
    expect(chan.configure('peername')).toEqual(['127.0.0.1', expect.any(String), port]);
    expect(chan.name).not.toBe(client.name);
  });

  it('dual-stack: clients over IPv4 and IPv6 reach one server on one port', async () => {
    const addrs: string[] = [];
    const srv = track(
      await socket.server(async (chan, addr) => {
        addrs.push(addr);
        await chan.puts(`hello ${addr}`);
        await chan.close();
      }, 0),
    );
    expect(await rawClient(srv.port, '127.0.0.1')).toBe('hello 127.0.0.1\r\n');
    expect(await rawClient(srv.port, '::1')).toBe('hello ::1\r\n');
    expect(addrs).toEqual(['127.0.0.1', '::1']);
  });

  it('a throwing callback: onError(err, chan), the channel is closed, the server goes on', async () => {
    const errors: [unknown, SocketChannel | undefined][] = [];
    let calls = 0;
    const srv = track(
      await socket.server(
        async (chan) => {
          calls += 1;
          if (calls === 1) throw new Error('boom');
          await chan.puts('second is fine');
          await chan.close();
        },
        0,
        { onError: (err, chan) => errors.push([err, chan]) },
      ),
    );
    // The first client sees EOF: Tcl closes the channel of a failed accept callback.
    expect(await rawClient(srv.port)).toBe('');
    expect(errors).toHaveLength(1);
    expect((errors[0]?.[0] as Error).message).toBe('boom');
    expect(errors[0]?.[1]).toBeInstanceOf(SocketChannel);
    expect(() => errors[0]?.[1]?.eof()).toThrow('can not find channel named');
    expect(await rawClient(srv.port)).toBe('second is fine\r\n');
  });

  it('a synchronous throw too; the default onError prints to stderr like bgerror', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const srv = track(
      await socket.server(() => {
        throw new Error('sync boom');
      }, 0),
    );
    expect(await rawClient(srv.port)).toBe('');
    expect(written.join('')).toMatch(/error in accept callback for sock\d+: Error: sync boom/);
  });

  it('closing the server stops accepting and leaves accepted channels working both ways', async () => {
    const accepted = deferred<SocketChannel>();
    const srv = await socket.server((chan) => accepted.resolve(chan), 0, { myaddr: '127.0.0.1' });
    const port = srv.port;
    const client = track(await socket('127.0.0.1', port));
    const chan = track(await within(accepted.promise, 5000, 'accept'));
    await srv.close();
    await expect(socket('127.0.0.1', port)).rejects.toThrow("couldn't open socket: connection refused");
    await chan.puts('from server');
    await chan.flush();
    expect(await client.gets()).toBe('from server');
    await client.puts('from client');
    await client.flush();
    expect(await chan.gets()).toBe('from client');
  });

  it('many clients at once', async () => {
    const srv = track(
      await socket.server(async (chan) => {
        const line = await chan.gets();
        await chan.puts(`echo ${line ?? ''}`);
        await chan.close();
      }, 0),
    );
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => rawClient(srv.port, i % 2 === 0 ? '127.0.0.1' : '::1', `client ${i}\n`)));
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => `echo client ${i}\r\n`));
  });

  it('keepalive and nodelay for accepted channels; reverseLookup: false keeps them numeric', async () => {
    const got = deferred<SocketChannel>();
    const srv = track(await socket.server((chan) => got.resolve(chan), 0, { myaddr: '127.0.0.1', nodelay: true, keepalive: true, reverseLookup: false }));
    track(await socket('127.0.0.1', srv.port));
    const chan = track(await within(got.promise, 5000, 'accept'));
    expect([chan.configure('nodelay'), chan.configure('keepalive')]).toEqual([true, true]);
    await chan.resolveNames();
    const [addr, host] = chan.configure('peername') as [string, string, number];
    expect(host).toBe(addr);
    await expect(socket.server(() => undefined, 0, { myAddr: 'x' } as unknown as Parameters<typeof socket.server>[2])).rejects.toThrow(
      'bad option "myAddr": must be backlog, keepalive, maxConnections, maxLine, myaddr, nodelay, onError, proxyProtocol, reusePort, or reverseLookup',
    );
  });

  it('fromArgs: the server form', async () => {
    const srv = track(await socket.fromArgs('-server', async (chan: SocketChannel) => {
      await chan.puts('via fromArgs');
      await chan.close();
    }, '-myaddr', '127.0.0.1', 0));
    expect(srv.configure('sockname')).toHaveLength(1);
    expect(await rawClient(srv.port)).toBe('via fromArgs\r\n');
  });

  it('fromArgs: the client forms', async () => {
    const srv = track(await socket.server(async (chan) => {
      await chan.puts('hi');
      await chan.close();
    }, 0, { myaddr: '127.0.0.1' }));
    const a = track(await socket.fromArgs('-myaddr', '127.0.0.1', '127.0.0.1', srv.port));
    expect(await a.gets()).toBe('hi');
    const b = socket.fromArgs('-async', '127.0.0.1', String(srv.port));
    expect(b).toBeInstanceOf(SocketChannel);
    const bc = track(await b);
    expect(bc.configure('connecting')).toBe(true);
    expect(await bc.gets()).toBe('hi');
  });
});
