import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, listenEphemeral } from '@sockchan/test-support';
import { SockchanError, socket } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';
import { failureOf, tclFailures } from './helpers/tcl.js';

// Every failure of Tcl 8.6.13's socket command as recorded from tclsh, compared with what tclsh 8.6
// says for the same command on this machine (messages and errorCode lists).

const { cleanup, track } = useChannelCleanup();

describe('connect failures match tclsh', () => {
  it('connection refused (127.0.0.1, ::1 and a two-address name)', async () => {
    const port4 = await freePort('127.0.0.1');
    const port6 = await freePort('::1');
    // dual.test: nothing on either address, so both attempts are refused.
    const portD = await freePort('127.0.0.1');
    const tcl = tclFailures('', [`socket 127.0.0.1 ${port4}`, `socket ::1 ${port6}`]);
    expect(await failureOf(() => socket('127.0.0.1', port4))).toEqual(tcl[0]);
    expect(await failureOf(() => socket('::1', port6))).toEqual(tcl[1]);
    expect(tcl[0]).toEqual({ message: "couldn't open socket: connection refused", errorCode: ['POSIX', 'ECONNREFUSED', 'connection refused'] });
    const dual = await failureOf(() => socket('dual.test', portD));
    expect(dual).toEqual(tcl[0]);
  });

  it('host is unreachable: -myaddr of the other family', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(server);
    const [tcl] = tclFailures('', [`socket -myaddr ::1 127.0.0.1 ${port}`]);
    expect(tcl).toEqual({ message: "couldn't open socket: host is unreachable", errorCode: ['POSIX', 'EHOSTUNREACH', 'host is unreachable'] });
    expect(await failureOf(() => socket('127.0.0.1', port, { myaddr: '::1' }))).toEqual(tcl);
  });

  it('unknown host: Name or service not known', async () => {
    const [tcl] = tclFailures('', ['socket no-such-host.test 80']);
    expect(tcl).toEqual({ message: "couldn't open socket: Name or service not known", errorCode: ['NONE'] });
    expect(await failureOf(() => socket('no-such-host.test', 80))).toEqual(tcl);
  });

  it('port number too high (client, -myport and server)', async () => {
    const tcl = tclFailures('', ['socket 127.0.0.1 70000', 'socket -myport 70000 127.0.0.1 80', 'socket -server cmd 70000']);
    expect(tcl[0]).toEqual({ message: "couldn't open socket: port number too high", errorCode: ['NONE'] });
    expect(await failureOf(() => socket('127.0.0.1', 70000))).toEqual(tcl[0]);
    expect(await failureOf(() => socket('127.0.0.1', 80, { myport: 70000 }))).toEqual(tcl[1]);
    expect(await failureOf(() => socket.server(() => undefined, 70000))).toEqual(tcl[2]);
    // The async form throws synchronously.
    expect(() => socket('127.0.0.1', 70000, { async: true })).toThrow(SockchanError);
  });

  it('bad port: not an integer nor a service name', async () => {
    const tcl = tclFailures('', ['socket 127.0.0.1 no-such-service', 'socket 127.0.0.1 080', 'socket -server cmd x']);
    expect(tcl[0]).toEqual({ message: 'expected integer but got "no-such-service"', errorCode: ['TCL', 'VALUE', 'INTEGER'] });
    expect(await failureOf(() => socket('127.0.0.1', 'no-such-service'))).toEqual(tcl[0]);
    expect(await failureOf(() => socket('127.0.0.1', '080'))).toEqual(tcl[1]);
    expect(await failureOf(() => socket.server(() => undefined, 'x'))).toEqual(tcl[2]);
    let thrown: unknown;
    try {
      socket('127.0.0.1', 'no-such-service', { async: true });
    } catch (err) {
      thrown = err;
    }
    expect((thrown as SockchanError).message).toBe(tcl[0]?.message);
  });

  it('a negative port fails clearly (Tcl passes it to getaddrinfo)', async () => {
    const f = await failureOf(() => socket('127.0.0.1', -1));
    expect(f.message).toBe("couldn't open socket: port number -1 is negative: must be 0 to 65535");
  });

  it('service names work as ports', async () => {
    // `echo` is 7/tcp: nothing listens there, so Tcl and we are refused (not a parse error).
    const [tcl] = tclFailures('', ['socket 127.0.0.1 echo']);
    expect(await failureOf(() => socket('127.0.0.1', 'echo'))).toEqual(tcl);
  });

  it('address already in use: -myport of a listening port, and a second server', async () => {
    const { server, port: taken } = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(server);
    const target = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(target.server);
    const tcl = tclFailures('', [`socket -myaddr 127.0.0.1 -myport ${taken} 127.0.0.1 ${target.port}`, `socket -server cmd -myaddr 127.0.0.1 ${taken}`]);
    expect(tcl[0]).toEqual({ message: "couldn't open socket: address already in use", errorCode: ['POSIX', 'EADDRINUSE', 'address already in use'] });
    expect(await failureOf(() => socket('127.0.0.1', target.port, { myaddr: '127.0.0.1', myport: taken }))).toEqual(tcl[0]);
    expect(await failureOf(() => socket.server(() => undefined, taken, { myaddr: '127.0.0.1' }))).toEqual(tcl[1]);
  });

  it('cannot assign requested address: a -myaddr that is not local', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(server);
    // 192.0.2.99 (TEST-NET-1) fails in bind() before anything is sent.
    const tcl = tclFailures('', [`socket -myaddr 192.0.2.99 127.0.0.1 ${port}`, 'socket -server cmd -myaddr 192.0.2.99 0']);
    expect(tcl[0]?.message).toBe("couldn't open socket: cannot assign requested address");
    expect(await failureOf(() => socket('127.0.0.1', port, { myaddr: '192.0.2.99' }))).toEqual(tcl[0]);
    expect(await failureOf(() => socket.server(() => undefined, 0, { myaddr: '192.0.2.99' }))).toEqual(tcl[1]);
  });
});

describe('argument errors match tclsh', () => {
  it('options not valid for servers', async () => {
    const tcl = tclFailures('', ['socket -server cmd -myport 5 0', 'socket -async -server cmd 0']);
    expect(await failureOf(() => socket.fromArgs('-server', () => undefined, '-myport', 5, 0))).toEqual(tcl[0]);
    expect(await failureOf(() => socket.fromArgs('-async', '-server', () => undefined, 0))).toEqual(tcl[1]);
    // The object form says the same.
    const srvOpts = { myport: 5 } as unknown as Parameters<typeof socket.server>[2];
    expect(await failureOf(() => socket.server(() => undefined, 0, srvOpts))).toEqual(tcl[0]);
    const asyncOpts = { async: true } as unknown as Parameters<typeof socket.server>[2];
    expect(await failureOf(() => socket.server(() => undefined, 0, asyncOpts))).toEqual(tcl[1]);
  });

  it('bad option and wrong # args through fromArgs', async () => {
    const tcl = tclFailures('', ['socket -asy localhost 80', 'socket localhost', 'socket -myaddr', 'socket -server cmd']);
    expect(await failureOf(() => socket.fromArgs('-asy', 'localhost', 80))).toEqual(tcl[0]);
    expect(await failureOf(() => socket.fromArgs('localhost'))).toEqual(tcl[1]);
    expect(await failureOf(() => socket.fromArgs('-myaddr'))).toEqual(tcl[2]);
    expect(await failureOf(() => socket.fromArgs('-server', () => undefined))).toEqual(tcl[3]);
    expect(tcl[0]?.message).toBe('bad option "-asy": must be -async, -myaddr, -myport, or -server');
  });

  it('fromArgs throws argument errors synchronously, as the Tcl command raises them', () => {
    expect(() => socket.fromArgs('-asy', 'localhost', 80)).toThrow('bad option "-asy"');
    expect(() => socket.fromArgs('-server', 'not a function', 0)).toThrow('bad value for -server: expected a function');
  });
});

describe('channel option errors match tclsh', () => {
  const setup = (port: number): string => `set c [socket 127.0.0.1 ${port}]`;

  it('bad option on get and on set, read-only options, -e, prefixes', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(server);
    const tcl = tclFailures(setup(port), [
      'fconfigure $c -bogus',
      'fconfigure $c -bogus 1',
      'fconfigure $c -peername x',
      'fconfigure $c -sockname x',
      'fconfigure $c -error x',
      'fconfigure $c -connecting 1',
      'fconfigure $c -blocking maybe',
      'fconfigure $c -buffering bad',
      'fconfigure $c -encoding no-such-enc',
      'fconfigure $c -translation bad',
      'fconfigure $c -buffersize abc',
      'fconfigure $c -b',
    ]);
    const ch = await socket('127.0.0.1', port);
    track(ch);
    const got = [
      await failureOf(() => ch.configure('-bogus')),
      await failureOf(() => ch.configure({ '-bogus': 1 })),
      await failureOf(() => ch.configure({ peername: 'x' })),
      await failureOf(() => ch.configure({ sockname: 'x' })),
      await failureOf(() => ch.configure({ error: 'x' })),
      await failureOf(() => ch.configure({ connecting: 1 })),
      await failureOf(() => ch.configure({ blocking: 'maybe' })),
      await failureOf(() => ch.configure({ buffering: 'bad' })),
      await failureOf(() => ch.configure({ encoding: 'no-such-enc' })),
      await failureOf(() => ch.configure({ translation: 'bad' })),
      await failureOf(() => ch.configure({ buffersize: 'abc' })),
      await failureOf(() => ch.configure('-b')),
    ];
    expect(got.map((g) => g.message)).toEqual(tcl.map((t) => t.message));
    expect(got[0]?.message).toBe(
      'bad option "-bogus": should be one of -blocking, -buffering, -buffersize, -encoding, -eofchar, -translation, -connecting, -peername, or -sockname',
    );
    // -e is ambiguous among the generic options: Tcl's driver reads -error; so do we.
    expect(ch.configure('-e')).toBe('');
    expect(ch.configure('-peer')).toEqual(ch.configure('peername'));
  });

  it('-peername of a server socket', async () => {
    const tcl = tclFailures('set s [socket -server cmd -myaddr 127.0.0.1 0]', ['fconfigure $s -peername', 'fconfigure $s -bogus', 'fconfigure $s -bogus 1', 'close $s write', 'close $s read', 'close $s both']);
    const srv = await socket.server(() => undefined, 0, { myaddr: '127.0.0.1' });
    track(srv);
    expect(tcl[0]).toEqual({ message: "can't get peername: socket is not connected", errorCode: ['POSIX', 'ENOTCONN', 'socket is not connected'] });
    expect(await failureOf(() => srv.configure('peername'))).toEqual(tcl[0]);
    expect(await failureOf(() => srv.configure('-bogus'))).toEqual(tcl[1]);
    expect(await failureOf(() => srv.configure({ bogus: 1 }))).toEqual(tcl[2]);
    expect(await failureOf(() => srv.close('write'))).toEqual(tcl[3]);
    expect(await failureOf(() => srv.close('read'))).toEqual(tcl[4]);
    expect(await failureOf(() => srv.close('both' as 'read'))).toEqual(tcl[5]);
    expect(tcl[5]).toEqual({ message: 'bad direction "both": must be read or write', errorCode: ['TCL', 'LOOKUP', 'INDEX', 'direction', 'both'] });
  });
});

describe('use after close matches tclsh', () => {
  it('every method of a closed SocketChannel', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(server);
    const [tcl] = tclFailures(`set c [socket 127.0.0.1 ${port}]; close $c`, ['gets $c']);
    expect(tcl).toEqual({ message: 'can not find channel named "sockN"', errorCode: ['TCL', 'LOOKUP', 'CHANNEL', 'sockN'] });
    const ch = await socket('127.0.0.1', port);
    await ch.close();
    const calls: (() => unknown)[] = [
      () => ch.gets(),
      () => ch.read(),
      () => ch.readBytes(1),
      () => ch.puts('x'),
      () => ch.flush(),
      () => ch.eof(),
      () => ch.blocked(),
      () => ch.pending('input'),
      () => ch.configure(),
      () => ch.configure('peername'),
      () => ch.configure({ keepalive: 1 }),
      () => ch.onReadable(null),
      () => ch.onWritable(null),
      () => ch.close('write'),
      () => ch.resolveNames(),
    ];
    for (const call of calls) expect(await failureOf(call)).toEqual(tcl);
    // close itself is idempotent (safe in finally).
    await expect(ch.close()).resolves.toBeUndefined();
  });

  it('a closed ServerChannel', async () => {
    const srv = await socket.server(() => undefined, 0, { myaddr: '127.0.0.1' });
    const port = srv.port;
    await srv.close();
    const [tcl] = tclFailures('set s [socket -server cmd -myaddr 127.0.0.1 0]; close $s', ['fconfigure $s']);
    expect(await failureOf(() => srv.configure())).toEqual(tcl);
    expect(await failureOf(() => srv.close('write'))).toEqual(tcl);
    await expect(srv.close()).resolves.toBeUndefined();
    // And it no longer listens.
    await expect(socket('127.0.0.1', port)).rejects.toThrow('connection refused');
  });
});

describe('errors after connecting match tclsh', () => {
  it('writing to a peer that has gone: broken pipe or reset, once, no crash', async () => {
    const { server, port } = await listenEphemeral({
      host: '127.0.0.1',
      onConnection: (s: net.Socket) => {
        s.once('data', () => s.resetAndDestroy());
      },
    });
    cleanup.add(server);
    const ch = await socket('127.0.0.1', port);
    await ch.puts('hello');
    await ch.flush();
    // A reset peer reads as plain EOF (Tcl maps ECONNRESET on input to EOF).
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
    let failure: unknown;
    for (let i = 0; i < 50 && failure === undefined; i++) {
      try {
        await ch.puts('x'.repeat(1000));
        await ch.flush();
      } catch (err) {
        failure = err;
      }
    }
    expect(failure).toBeInstanceOf(SockchanError);
    // The reset was read as EOF first: the kernel's later writes say broken pipe (Tcl's too).
    expect((failure as SockchanError).message).toMatch(/^error (flushing|writing) "sock\d+": broken pipe$/);
    expect((failure as SockchanError).errorCode).toEqual(['POSIX', 'EPIPE', 'broken pipe']);
    // The failure was reported: close is silent, as Tcl's.
    await expect(ch.close()).resolves.toBeUndefined();
    expect(() => ch.eof()).toThrow('can not find channel named');
  });
});

describe('close errors of a client socket match tclsh', () => {
  it('bad direction, half-close twice, puts after half-close', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1' });
    cleanup.add(server);
    const tcl = tclFailures(`set c [socket 127.0.0.1 ${port}]`, ['close $c both', 'close $c write', 'close $c write', 'puts $c x']);
    const ch = await socket('127.0.0.1', port);
    track(ch);
    expect(await failureOf(() => ch.close('both' as 'read'))).toEqual(tcl[0]);
    expect(tcl[1]).toEqual({ message: 'OK', errorCode: [] });
    await ch.close('write');
    expect(await failureOf(() => ch.close('write'))).toEqual(tcl[2]);
    expect(await failureOf(() => ch.puts('x'))).toEqual(tcl[3]);
  });
});
