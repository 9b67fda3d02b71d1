import net from 'node:net';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, listenEphemeral } from '@sockchan/test-support';
import { Channel, SockchanError, SocketChannel, setReverseLookup, socket, systemEncoding } from '../src/index.js';
import { runTclsh, splitTclList, tclFailures, withUtf8Locale } from './helpers/tcl.js';
import { useChannelCleanup } from './helpers/channels.js';
import { deferred, eventLoopTurns, within, writableOnce } from './helpers/wait.js';

const { cleanup, track } = useChannelCleanup();

/** A raw server that records what each connection sends until EOF. */
async function recordingServer(host = '127.0.0.1'): Promise<{ port: number; received: Promise<Buffer>; sockets: net.Socket[] }> {
  const got = deferred<Buffer>();
  const sockets: net.Socket[] = [];
  const { server, port } = await listenEphemeral({
    host,
    onConnection: (s: net.Socket) => {
      sockets.push(s);
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => {
        got.resolve(Buffer.concat(parts));
        s.end();
      });
    },
  });
  cleanup.add(server);
  return { port, received: got.promise, sockets };
}

describe('socket(): the blocking form', () => {
  it('resolves with a SocketChannel (a core Channel) named sockN, with Tcl socket defaults', async () => {
    const { port } = await recordingServer();
    const ch = track(await socket('127.0.0.1', port));
    expect(ch).toBeInstanceOf(SocketChannel);
    expect(ch).toBeInstanceOf(Channel);
    expect(ch.name).toMatch(/^sock\d+$/);
    const all = ch.configure();
    // Tcl 8.6.13's `fconfigure $sock` listing, in its order.
    expect(Object.keys(all)).toEqual(['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation', 'peername', 'sockname']);
    expect(all).toMatchObject({
      blocking: true,
      buffering: 'full',
      buffersize: 4096,
      encoding: systemEncoding(),
      eofchar: ['', ''],
      translation: ['auto', 'crlf'],
    });
    expect([ch.configure('keepalive'), ch.configure('nodelay')]).toEqual([false, false]);
    expect(ch.configure('connecting')).toBe(false);
    expect(ch.configure('error')).toBe('');
  });

  it('defaults match tclsh (system encoding from the same environment)', async () => {
    const { port } = await recordingServer();
    const script = `set c [socket 127.0.0.1 ${port}]; foreach o {-blocking -buffering -buffersize -encoding -eofchar -translation} { puts [fconfigure $c $o] }; puts [dict keys [fconfigure $c]]; close $c`;
    const { execFileSync } = await import('node:child_process');
    // One locale for both (Tcl 8.6 and sockchan differ only for C/POSIX, where 8.6 says iso8859-1).
    const [out, ch] = await withUtf8Locale(async () => [
      execFileSync('tclsh', [], { input: script, encoding: 'utf8', env: process.env }).trim().split('\n'),
      track(await socket('127.0.0.1', port)),
    ] as const);
    const show = (v: unknown): string => (Array.isArray(v) ? v.map((x) => (x === '' ? '{}' : String(x))).join(' ') : typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    expect(['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation'].map((o) => show(ch.configure(o)))).toEqual(out.slice(0, 6));
    // The full listing: the same options in the same order.
    expect(Object.keys(ch.configure()).map((k) => `-${k}`).join(' ')).toBe(out[6]);
  });

  it('sends with CRLF line ends by default and reads any line end', async () => {
    const { port, received } = await recordingServer();
    const ch = track(await socket('127.0.0.1', port));
    await ch.puts('one');
    await ch.puts('two', { nonewline: true });
    expect(ch.pending('output')).toBe(8);
    await ch.close();
    expect((await received).toString('latin1')).toBe('one\r\ntwo');
  });

  it('peername and sockname: names from /etc/hosts at once, never blocking', async () => {
    const { port } = await recordingServer();
    const ch = track(await socket('127.0.0.1', port));
    const peer = ch.configure('peername');
    expect(peer).toEqual(['127.0.0.1', 'localhost', port]);
    const sock = ch.configure('sockname');
    expect(sock[0]).toBe('127.0.0.1');
    await ch.resolveNames();
    expect(ch.configure('peername')).toEqual(['127.0.0.1', 'localhost', port]);
    expect(ch.configure('sockname')).toEqual(['127.0.0.1', 'localhost', sock[2]]);
    // Tcl says the same for the peer.
    const { execFileSync } = await import('node:child_process');
    const tcl = execFileSync('tclsh', [], { input: `set c [socket 127.0.0.1 ${port}]; puts [fconfigure $c -peername]; close $c`, encoding: 'utf8' }).trim();
    expect(splitTclList(tcl)).toEqual(['127.0.0.1', 'localhost', String(port)]);
  });

  it('an address without a name shows the address twice (as Tcl)', async () => {
    const { port } = await recordingServer('127.0.0.3');
    const ch = track(await socket('127.0.0.3', port));
    await ch.resolveNames();
    expect(ch.configure('peername')).toEqual(['127.0.0.3', '127.0.0.3', port]);
  });

  it('IPv6: addresses without brackets', async () => {
    const { port } = await recordingServer('::1');
    const ch = track(await socket('::1', port));
    await ch.resolveNames();
    expect(ch.configure('peername')).toEqual(['::1', 'localhost', port]);
  });

  it('reverseLookup: false keeps the addresses numeric (Tcl noReverseDNS)', async () => {
    const { port } = await recordingServer();
    const ch = track(await socket('127.0.0.1', port, { reverseLookup: false }));
    await ch.resolveNames();
    expect(ch.configure('peername')).toEqual(['127.0.0.1', '127.0.0.1', port]);
  });

  it('myaddr and myport bind the local end', async () => {
    const { port } = await recordingServer();
    const local = await freePort('127.0.0.1');
    const ch = track(await socket('127.0.0.1', port, { myaddr: '127.0.0.1', myport: local }));
    // The name comes from /etc/hosts at once (as Tcl's getnameinfo gives it).
    expect(ch.configure('sockname')).toEqual(['127.0.0.1', 'localhost', local]);
  });

  it('happy eyeballs: the attempt log is on the channel', async () => {
    const { port } = await recordingServer('127.0.0.1');
    // dual.test gives ::1 first (refused here), then 127.0.0.1.
    const ch = track(await socket('dual.test', port, { useHistory: false }));
    expect(ch.configure('peername')[0]).toBe('127.0.0.1');
    expect(ch.attempts.map((a) => [a.address, a.outcome])).toContainEqual(['127.0.0.1', 'connected']);
    expect(ch.attempts.some((a) => a.address === '::1')).toBe(true);
  });

  it('keepalive and nodelay: Tcl 9 options, settable, booleans', async () => {
    const { port } = await recordingServer();
    const ch = track(await socket('127.0.0.1', port, { nodelay: true }));
    expect(ch.configure('nodelay')).toBe(true);
    ch.configure({ keepalive: 'yes', '-nodelay': 0 });
    expect(ch.configure('keepalive')).toBe(true);
    expect(ch.configure('-nodelay')).toBe(false);
    expect(() => ch.configure({ keepalive: 'maybe' })).toThrow('expected boolean value but got "maybe"');
    // Unique prefixes, as for every option.
    ch.configure({ keep: 0 });
    expect(ch.configure('keep')).toBe(false);
  });

  it('a signal cancels the connect', async () => {
    const { port } = await recordingServer();
    const ac = new AbortController();
    ac.abort();
    await expect(socket('127.0.0.1', port, { signal: ac.signal })).rejects.toThrow("couldn't open socket: operation canceled");
  });

  it('a misspelt option name fails like Tcl\'s bad option, naming the choices', async () => {
    const opts = { myAddr: '127.0.0.1' } as unknown as Parameters<typeof socket>[2];
    await expect(socket('127.0.0.1', 1, opts)).rejects.toThrow(
      'bad option "myAddr": must be async, connectTimeout, connectionAttemptDelay, firstAddressFamilyCount, keepalive, maxLine, myaddr, myport, nodelay, resolutionDelay, reverseLookup, signal, or useHistory',
    );
    expect(() => socket('127.0.0.1', 1, { async: true, ...(opts as object) })).toThrow('bad option "myAddr"');
  });

  it('the reverse resolver can be replaced; a failing lookup shows the address', async () => {
    const { port } = await recordingServer();
    const asked: string[] = [];
    setReverseLookup((address) => {
      asked.push(address);
      return address === '127.0.0.1' ? Promise.resolve('loopback.example') : Promise.reject(new Error('no name'));
    });
    try {
      const ch = track(await socket('127.0.0.1', port));
      await ch.resolveNames();
      expect(ch.configure('peername')).toEqual(['127.0.0.1', 'loopback.example', port]);
      const six = await recordingServer('::1');
      const ch6 = track(await socket('::1', six.port));
      await ch6.resolveNames();
      expect(ch6.configure('peername')).toEqual(['::1', '::1', six.port]);
      // One lookup per address, however many connections (the cache).
      expect(asked.filter((a) => a === '127.0.0.1')).toHaveLength(1);
    } finally {
      setReverseLookup(undefined);
    }
  });

  it('resolveNames is bounded by its timeout when the resolver hangs', async () => {
    const { port } = await recordingServer();
    setReverseLookup(() => new Promise<string>(() => undefined));
    try {
      const ch = track(await socket('127.0.0.1', port));
      // The resolver never answers: resolveNames returning at all is its timeout at work.
      await ch.resolveNames(50);
      expect(ch.configure('peername')).toEqual(['127.0.0.1', '127.0.0.1', port]);
    } finally {
      setReverseLookup(undefined);
    }
  });

  it('bad options object values reject with clear texts', async () => {
    await expect(socket('127.0.0.1', 1, { keepalive: {} as unknown as boolean })).rejects.toThrow('bad value for keepalive');
    await expect(socket(42 as unknown as string, 1)).rejects.toBeInstanceOf(SockchanError);
  });
});

describe('socket(..., { async: true })', () => {
  it('returns at once, connecting; queued writes go out once connected; onWritable fires', async () => {
    const { port, received } = await recordingServer();
    const ch = track(socket('127.0.0.1', port, { async: true }));
    expect(ch.configure('connecting')).toBe(true);
    expect(ch.configure('peername')).toBe('');
    expect(ch.configure('sockname')).toBe('');
    await ch.puts('queued while connecting');
    await writableOnce(ch, 'writable after connect', 5000);
    expect(ch.configure('connecting')).toBe(false);
    expect(ch.configure('error')).toBe('');
    expect(ch.configure('peername')).toEqual(['127.0.0.1', expect.any(String), port]);
    expect(ch.attempts.length).toBeGreaterThan(0);
    await ch.close();
    expect((await received).toString()).toBe('queued while connecting\r\n');
  });

  it('blocking flush and gets wait for the connect', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1', onConnection: (s: net.Socket) => s.on('data', (d: Buffer) => s.write(d)) });
    cleanup.add(server);
    const ch = track(socket('127.0.0.1', port, { async: true }));
    await ch.puts('echo me');
    await ch.flush();
    expect(await ch.gets()).toBe('echo me');
  });

  it('nonblocking gets while connecting: null with blocked(); blocking set while connecting is kept', async () => {
    const { port } = await recordingServer();
    const ch = track(socket('127.0.0.1', port, { async: true }));
    ch.configure({ blocking: false });
    expect(await ch.gets()).toBeNull();
    expect(ch.blocked()).toBe(true);
    expect(ch.eof()).toBe(false);
    await writableOnce(ch, 'connect', 5000);
    expect(ch.configure('blocking')).toBe(false);
  });

  it('a refused connect: onWritable fires once, error is cleared once read, I/O fails with ENOTCONN', async () => {
    const port = await freePort('127.0.0.1');
    const ch = track(socket('127.0.0.1', port, { async: true }));
    await ch.puts('lost');
    let fired = 0;
    const writable = deferred();
    ch.onWritable(() => {
      fired += 1;
      writable.resolve();
    });
    await within(writable.promise, 5000, 'writable after failure');
    await eventLoopTurns(20);
    expect(fired).toBe(1);
    expect(ch.configure('connecting')).toBe(false);
    expect(ch.configure('error')).toBe('connection refused');
    expect(ch.configure('error')).toBe('');
    const tcl = tclFailures(`set c [socket -async 127.0.0.1 ${port}]; puts $c lost; fileevent $c writable {set ::done 1}; vwait ::done; fileevent $c writable {}; fconfigure $c -error`, ['flush $c', 'gets $c', 'fconfigure $c -peername']);
    const flushErr = await ch.flush().then(() => undefined, (e: unknown) => e as SockchanError);
    expect(flushErr?.message).toBe(`error flushing "${ch.name}": socket is not connected`);
    expect(flushErr?.errorCode).toEqual(['POSIX', 'ENOTCONN', 'socket is not connected']);
    expect(flushErr?.message.replace(/sock\d+/, 'sockN')).toBe(tcl[0]?.message);
    const readErr = await ch.gets().then(() => undefined, (e: unknown) => e as SockchanError);
    expect(readErr?.message).toBe(`error reading "${ch.name}": socket is not connected`);
    expect(readErr?.message.replace(/sock\d+/, 'sockN')).toBe(tcl[1]?.message);
    // The synchronous forms fail the same way (not `undefined`, which means "wait").
    for (const sync of [() => ch.tryGets(), () => ch.tryRead(), () => ch.tryReadBytes(4)]) expect(sync).toThrow(readErr?.message);
    expect(() => ch.configure('peername')).toThrow(tcl[2]?.message);
    expect(ch.eof()).toBe(false);
    // The full listing leaves -peername out, as Tcl does after a failed connect.
    expect(Object.keys(ch.configure())).not.toContain('peername');
    await expect(ch.close()).resolves.toBeUndefined();
  });

  it('sockname after a failed connect from myaddr and myport: the local end, exactly as tclsh 8.6.13', async () => {
    for (const address of ['127.0.0.1', '::1']) {
      const dead = await freePort(address);
      const mine = await freePort(address);
      // Tcl keeps the last attempt's socket: -sockname answers, -peername fails, the listing has -sockname.
      const tcl = runTclsh([
        `set c [socket -async -myaddr ${address} -myport ${mine} ${address} ${dead}]`,
        'fileevent $c writable {set ::done 1}; vwait ::done; fileevent $c writable {}',
        'puts [fconfigure $c -error]',
        'puts [fconfigure $c -sockname]',
        'puts [dict get [fconfigure $c] -sockname]',
        'puts [dict keys [fconfigure $c]]',
        'close $c',
      ])
        .trim()
        .split('\n');
      expect(tcl.slice(0, 3)).toEqual(['connection refused', `${address} localhost ${mine}`, `${address} localhost ${mine}`]);
      const ch = track(socket(address, dead, { async: true, myaddr: address, myport: mine }));
      await writableOnce(ch, 'writable after failure', 5000);
      expect(ch.configure('error')).toBe('connection refused');
      await ch.resolveNames();
      const show = (v: unknown): string => (Array.isArray(v) ? v.join(' ') : String(v));
      expect(show(ch.configure('sockname'))).toBe(tcl[1]);
      expect(show(ch.configure('-sock'))).toBe(tcl[1]);
      const all = ch.configure();
      expect(show(all.sockname)).toBe(tcl[2]);
      expect(Object.keys(all).map((k) => `-${k}`).join(' ')).toBe(tcl[3]);
      expect(() => ch.configure('peername')).toThrow("can't get peername: socket is not connected");
      await ch.close();
    }
  });

  it('sockname after a failed connect whose local port the kernel chose: that end, as tclsh 8.6.13 shows it', async () => {
    for (const address of ['127.0.0.1', '::1']) {
      const dead = await freePort(address);
      const tcl = runTclsh([
        `set c [socket -async ${address} ${dead}]`,
        'fileevent $c writable {set ::done 1}; vwait ::done; fileevent $c writable {}',
        'puts [fconfigure $c -error]',
        'puts [lindex [fconfigure $c -sockname] 0]',
        'puts [lindex [fconfigure $c -sockname] 2]',
        'close $c',
      ])
        .trim()
        .split('\n');
      // Tcl: the address and an ephemeral port the kernel chose (not a port of ours).
      expect(tcl[0]).toBe('connection refused');
      expect(tcl[1]).toBe(address);
      expect(Number(tcl[2])).toBeGreaterThan(0);
      const ch = track(socket(address, dead, { async: true }));
      await writableOnce(ch, 'writable after failure', 5000);
      expect(ch.configure('error')).toBe('connection refused');
      const sock = ch.configure('sockname');
      expect(Array.isArray(sock)).toBe(true);
      const [addr, , port] = sock as [string, string, number];
      expect(addr).toBe(address);
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(dead);
      expect(ch.configure().sockname).toEqual(sock);
      expect(() => ch.configure('peername')).toThrow("can't get peername: socket is not connected");
      await ch.close();
    }
  });

  it('an unknown host is a failed connect, not a throw (resolution is asynchronous too)', async () => {
    const ch = track(socket('no-such-host.test', 80, { async: true }));
    await writableOnce(ch, 'writable after failure', 5000);
    expect(ch.configure('error')).toBe('Name or service not known');
  });

  it('argument errors still throw synchronously', () => {
    expect(() => socket('127.0.0.1', 'no-such-service', { async: true })).toThrow('expected integer but got "no-such-service"');
    expect(() => socket('127.0.0.1', 80, { async: true, myport: 70000 })).toThrow('port number too high');
  });

  it('close during the connect is silent; queued output is still delivered', async () => {
    const { port, received } = await recordingServer();
    const ch = socket('127.0.0.1', port, { async: true });
    await ch.puts('last words');
    await ch.close();
    expect((await within(received, 5000, 'delivery')).toString()).toBe('last words\r\n');
  });

  it('close during the connect with nothing queued abandons it', async () => {
    const port = await freePort('127.0.0.1');
    const ch = socket('127.0.0.1', port, { async: true });
    await expect(ch.close()).resolves.toBeUndefined();
    await expect(ch.gets()).rejects.toThrow(`can not find channel named "${ch.name}"`);
  });
});

describe('wrapping a net.Socket of your own', () => {
  it('connected or still connecting', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1', onConnection: (s: net.Socket) => s.end('hello\r\n') });
    cleanup.add(server);
    const raw = net.connect(port, '127.0.0.1');
    const ch = track(new SocketChannel(raw, { translation: 'auto', reverseLookup: false }));
    expect(ch.configure('connecting')).toBe(true);
    expect(await ch.gets()).toBe('hello');
    expect(ch.configure('peername')).toEqual(['127.0.0.1', '127.0.0.1', port]);
  });
});

describe('wrapping a socket whose connect fails', () => {
  it('fails as an async connect does, with Tcl\'s text in error', async () => {
    const port = await freePort('127.0.0.1');
    const raw = net.connect(port, '127.0.0.1');
    const ch = track(new SocketChannel(raw));
    await writableOnce(ch, 'failure', 5000);
    expect(ch.configure('error')).toBe('connection refused');
    await expect(ch.gets()).rejects.toThrow(`error reading "${ch.name}": socket is not connected`);
  });
});

describe('config vectors on a real socket', () => {
  interface ConfigVector {
    id: string;
    settings: string[];
    result: Record<string, string>;
    error: string;
  }
  const vectors = JSON.parse(readFileSync(new URL('./fixtures/tcl-channel/config.json', import.meta.url), 'utf8')) as ConfigVector[];
  const show = (v: unknown): string =>
    Array.isArray(v) ? v.map((x) => (x === '' ? '{}' : String(x))).join(' ') : typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  for (const v of vectors) {
    it(v.id, async () => {
      const { port } = await recordingServer();
      const ch = track(await socket('127.0.0.1', port));
      ch.configure({ encoding: 'utf-8' }); // the recording's system encoding
      let error = '';
      try {
        for (let i = 0; i + 1 < v.settings.length; i += 2) ch.configure({ [v.settings[i] as string]: v.settings[i + 1] });
      } catch (err) {
        error = (err as Error).message;
      }
      expect(error).toBe(v.error);
      const all = ch.configure();
      const got: Record<string, string> = {};
      for (const k of Object.keys(v.result)) got[k] = show(all[k]);
      expect(got).toEqual(v.result);
    });
  }
});
