// socket.unix and socket.unixServer: Tcl channels over Unix-domain sockets, with socat as a
// plain peer; socket.server over descriptors passed as systemd passes them.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationCommand, passableListener, runCommand, startProcess } from '@sockchan/test-support';
import { SockchanError, SocketChannel, channelNames, socket } from '../src/index.js';
import type { ServerChannel } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';
import { deferred, within, writableOnce } from './helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/activated-echo.mjs', import.meta.url));
const { cleanup, track } = useChannelCleanup();

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockchan-umbrella-unix-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
let n = 0;
function socketPath(): string {
  n += 1;
  return path.join(dir, `u${n}.sock`);
}

/** onError of test servers: a channel closed by the cleanup under a running callback is expected; anything else is printed. */
function quietAfterCleanup(err: unknown): void {
  if (err instanceof SockchanError && err.code === 'ERR_SOCKCHAN_UNKNOWN_CHANNEL') return;
  process.stderr.write(`${String(err)}\n`);
}

/** A unixServer whose channels echo lines (translation lf) and record what the callback got. */
async function echoServer(p: string): Promise<{ server: ServerChannel; accepted: { chan: SocketChannel; addr: string; port: number }[] }> {
  const accepted: { chan: SocketChannel; addr: string; port: number }[] = [];
  const server = track(
    await socket.unixServer(async (chan, addr, port) => {
      track(chan);
      accepted.push({ chan, addr, port });
      chan.configure({ translation: 'lf' });
      for await (const line of chan) {
        await chan.puts(line);
        await chan.flush();
      }
      await chan.close();
    }, p, { onError: quietAfterCleanup }),
  );
  return { server, accepted };
}

async function rejection(p: Promise<unknown>): Promise<SockchanError> {
  const err: unknown = await p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SockchanError);
  return err as SockchanError;
}

describe('socket.unix and socket.unixServer', () => {
  it('connect, gets/puts both ways; sockname and peername are [path, path, 0] on both ends', async () => {
    const p = socketPath();
    const { server, accepted } = await echoServer(p);
    expect(server.port).toBe(0);
    expect(server.configure('sockname')).toEqual([[p, p, 0]]);
    expect(channelNames()).toContain(server.name);
    const ch = track(await socket.unix(p));
    expect(ch).toBeInstanceOf(SocketChannel);
    expect(ch.name).toMatch(/^sock\d+$/);
    ch.configure({ translation: 'lf' });
    await ch.puts('hello over a Unix socket');
    await ch.flush();
    expect(await ch.gets()).toBe('hello over a Unix socket');
    expect(ch.configure('peername')).toEqual([p, p, 0]);
    expect(ch.configure('sockname')).toEqual([p, p, 0]);
    expect(ch.configure('connecting')).toBe(false);
    expect(ch.configure('error')).toBe('');
    expect(accepted.map((a) => [a.addr, a.port])).toEqual([[p, 0]]);
    expect(accepted[0]?.chan.configure('peername')).toEqual([p, p, 0]);
    expect(Object.keys(ch.configure())).toEqual(['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation', 'peername', 'sockname']);
    await ch.close();
    await server.close();
    expect(fs.existsSync(p)).toBe(false);
  });

  it('async: the channel at once, output queued, onWritable when connected', async () => {
    const p = socketPath();
    await echoServer(p);
    const ch = track(socket.unix(p, { async: true }));
    expect(ch.configure('connecting')).toBe(true);
    expect(ch.configure('peername')).toBe('');
    ch.configure({ translation: 'lf' });
    await ch.puts('queued');
    await writableOnce(ch, 'unix connect');
    expect(ch.configure('error')).toBe('');
    expect(ch.configure('connecting')).toBe(false);
    await ch.flush();
    expect(await ch.gets()).toBe('queued');
  });

  it("fails with Tcl's texts: no such file, refused (stale file), blocking and async", async () => {
    const missing = path.join(dir, 'missing.sock');
    const err = await rejection(socket.unix(missing));
    expect(err.message).toBe("couldn't open socket: no such file or directory");
    expect(err.code).toBe('ENOENT');
    expect(err.errorCode).toEqual(['POSIX', 'ENOENT', 'no such file or directory']);

    const a = track(socket.unix(missing, { async: true }));
    await writableOnce(a, 'failed unix connect');
    expect(a.configure('error')).toBe('no such file or directory');
    await expect(a.flush()).rejects.toThrow(`error flushing "${a.name}": socket is not connected`);

    // A socket file nobody listens on: bound and closed by node:net under a second name.
    const stale = socketPath();
    const raw = net.createServer();
    await new Promise<void>((resolve) => raw.listen(`${stale}.x`, resolve));
    fs.linkSync(`${stale}.x`, stale);
    await new Promise<void>((resolve) => raw.close(() => resolve()));
    expect((await rejection(socket.unix(stale))).message).toBe("couldn't open socket: connection refused");
  });

  it('checks arguments: too long a path, bad options (the async form throws at once)', async () => {
    const long = path.join(dir, 'y'.repeat(110));
    expect((await rejection(socket.unix(long))).code).toBe('ENAMETOOLONG');
    expect(() => socket.unix(long, { async: true })).toThrow(/^couldn't open socket: file name too long \(socket path/);
    expect(() => socket.unix(socketPath(), { async: true, bogus: 1 } as never)).toThrow('bad option "bogus": must be async, maxLine, or signal');
    expect((await rejection(socket.unixServer(() => undefined, long))).code).toBe('ENAMETOOLONG');
    expect((await rejection(socket.unixServer(() => undefined, socketPath(), { myaddr: 'x' } as never))).message).toBe(
      'bad option "myaddr": must be backlog, maxConnections, maxLine, mode, onError, or proxyProtocol',
    );
    expect(fs.readdirSync(dir).some((f) => f.startsWith('y'))).toBe(false);
  });

  it('a live socket file fails with "address already in use" and keeps serving', async () => {
    const p = socketPath();
    await echoServer(p);
    const err = await rejection(socket.unixServer(() => undefined, p));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toMatch(/^couldn't open socket: address already in use/);
    const ch = track(await socket.unix(p));
    ch.configure({ translation: 'lf' });
    await ch.puts('still here');
    await ch.flush();
    expect(await ch.gets()).toBe('still here');
  });

  it('half-close, EOF, nonblocking reads and binary data behave as on TCP', async () => {
    const p = socketPath();
    const got = deferred<Buffer>();
    track(
      await socket.unixServer(async (chan) => {
        track(chan);
        chan.configure({ translation: 'binary' });
        const data = await chan.readBytes();
        expect(chan.eof()).toBe(true);
        got.resolve(Buffer.from(data));
        await chan.puts(`got ${data.length}`, { nonewline: true });
        await chan.close();
      }, p, { mode: 0o600 }),
    );
    expect(fs.statSync(p).mode & 0o777).toBe(0o600);
    const ch = track(await socket.unix(p));
    ch.configure({ translation: 'binary', blocking: false });
    expect(await ch.gets()).toBeNull();
    expect(ch.blocked()).toBe(true);
    ch.configure({ blocking: true });
    const bytes = Buffer.alloc(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    await ch.puts(bytes, { nonewline: true });
    await ch.close('write');
    expect(await ch.read()).toBe(`got ${bytes.length}`);
    expect(ch.eof()).toBe(true);
    expect((await got.promise).equals(bytes)).toBe(true);
  });

  it('closing during an async connect abandons it; an AbortSignal cancels a blocking one', async () => {
    const p = socketPath();
    await echoServer(p);
    const ch = socket.unix(p, { async: true });
    await ch.close();
    expect(channelNames()).not.toContain(ch.name);
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(socket.unix(p, { signal: controller.signal }));
    expect(err.message).toBe("couldn't open socket: operation canceled");
    expect(err.code).toBe('ERR_SOCKCHAN_ABORTED');
  });

  it.runIf(process.platform === 'linux')('serves and connects a Linux abstract name (@name)', async () => {
    const name = `@sockchan-umbrella-${process.pid}-${n}`;
    const { server } = await echoServer(name);
    expect(server.configure('sockname')).toEqual([[name, name, 0]]);
    const ch = track(await socket.unix(name));
    expect(ch.configure('peername')).toEqual([name, name, 0]);
    ch.configure({ translation: 'lf' });
    await ch.puts('abstract');
    await ch.flush();
    expect(await ch.gets()).toBe('abstract');
  });
});

describe('socat as a plain Unix-socket peer', () => {
  it('socat UNIX-CONNECT talks to socket.unixServer', async () => {
    const p = socketPath();
    await echoServer(p);
    const result = await runCommand('socat', ['-t', '5', '-', `UNIX-CONNECT:${p}`], { input: 'one\ntwo\n', timeoutMs: 10_000 });
    expect(result.stdout).toBe('one\ntwo\n');
  });

  it('socket.unix talks to socat UNIX-LISTEN (a line, then EOF both ways)', async () => {
    const p = socketPath();
    const file = path.join(dir, 'from-socat.txt');
    fs.writeFileSync(file, 'from socat\n');
    // socat creates the file when it listens: wait for it to appear in the directory.
    const appeared = deferred();
    const watcher = fs.watch(dir, (_event, name) => {
      if (name === path.basename(p) && fs.existsSync(p)) appeared.resolve();
    });
    const peer = cleanup.add(await startProcess('socat', ['-u', `OPEN:${file}`, `UNIX-LISTEN:${p}`], { lifetimeMs: 20_000 }));
    try {
      if (!fs.existsSync(p)) await within(appeared.promise, 10_000, 'socat listening');
    } finally {
      watcher.close();
    }
    // The file appears at bind(), before listen(): wait until the kernel lists it as listening
    // (flag __SO_ACCEPTCON in /proc/net/unix), or a connect in between is refused.
    for (let i = 0; i < 2000 && !listeningUnix(p); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(listeningUnix(p)).toBe(true);
    const ch = track(await socket.unix(p));
    expect(await ch.gets()).toBe('from socat');
    expect(await ch.gets()).toBeNull();
    expect(ch.eof()).toBe(true);
    await ch.close();
    expect((await peer.exited).code).toBe(0);
  });
});

describe('socket.server over descriptors passed as systemd passes them', () => {
  async function startActivated(which: string, fds: number[], names: string): Promise<Awaited<ReturnType<typeof startProcess>>> {
    const [command, args] = activationCommand(process.execPath, [FIXTURE, which]);
    return cleanup.add(
      await startProcess(command, args, {
        passFds: fds,
        env: { ...process.env, LISTEN_FDS: String(fds.length), LISTEN_FDNAMES: names },
        lifetimeMs: 30_000,
      }),
    );
  }

  it('{ listenFds: true } serves a TCP and a Unix socket; channels see their own addresses', async () => {
    const tcp = await passableListener({ host: '127.0.0.1' });
    const unixPath = socketPath();
    const unix = await passableListener({ path: unixPath });
    const child = await startActivated('all', [tcp.fd, unix.fd], 'web:local');
    await tcp.close();
    await unix.close();
    const ready = await child.nextLine(/^READY /, { timeoutMs: 15_000 });
    expect(JSON.parse(ready.slice(6))).toEqual([
      ['127.0.0.1', '127.0.0.1', tcp.port],
      [unixPath, unixPath, 0],
    ]);
    const t = track(await socket('127.0.0.1', tcp.port, { reverseLookup: false }));
    t.configure({ translation: 'lf' });
    const localPort = (t.configure('sockname') as [string, string, number])[2];
    expect(await t.gets()).toBe(`127.0.0.1 ${localPort} ["127.0.0.1","127.0.0.1",${localPort}]`);
    const u = track(await socket.unix(unixPath));
    u.configure({ translation: 'lf' });
    expect(await u.gets()).toBe(`${unixPath} 0 ${JSON.stringify([unixPath, unixPath, 0])}`);
    await u.puts('echo me');
    await u.flush();
    expect(await u.gets()).toBe('echo me');
    child.endInput();
    await u.close();
    await t.close();
    expect((await child.exited).code).toBe(0);
    expect(child.stderr).toBe('');
  });

  it('{ listenFds: name } takes only the sockets of that name; { fd: 3 } takes fd 3', async () => {
    const a = await passableListener({ host: '127.0.0.1' });
    const b = await passableListener({ host: '127.0.0.1' });
    const child = await startActivated('admin', [a.fd, b.fd], 'web:admin');
    await a.close();
    await b.close();
    const ready = await child.nextLine(/^READY /, { timeoutMs: 15_000 });
    expect(JSON.parse(ready.slice(6))).toEqual([['127.0.0.1', '127.0.0.1', b.port]]);

    const c = await passableListener({ host: '127.0.0.1' });
    const byFd = await startActivated('fd3', [c.fd], 'x');
    await c.close();
    expect(JSON.parse((await byFd.nextLine(/^READY /, { timeoutMs: 15_000 })).slice(6))).toEqual([['127.0.0.1', '127.0.0.1', c.port]]);
  });

  it('fails clearly when nothing was passed', async () => {
    const err = await rejection(socket.server(() => undefined, { listenFds: true }));
    expect(err.message).toBe("couldn't open socket: no listening socket was passed by the service manager (LISTEN_FDS, LISTEN_PID)");
    expect((await rejection(socket.server(() => undefined, { fd: 3 }, { myaddr: '127.0.0.1' }))).message).toBe(
      'option myaddr does not apply to inherited sockets (fd, listenFds)',
    );
  });
});

/** True when the kernel lists a listening Unix socket bound to `file` (Linux /proc/net/unix). */
function listeningUnix(file: string): boolean {
  return fs
    .readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[7] === file && (parseInt(cols[3] ?? '0', 16) & 0x10000) !== 0;
    });
}
