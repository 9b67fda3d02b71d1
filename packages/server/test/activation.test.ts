// Socket activation: listening sockets passed as descriptors, the way systemd passes them.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CleanupList, activationCommand, passableListener, startProcess } from '@sockchan/test-support';
import { SockchanError } from '@sockchan/base';
import { activatedSockets, listenFd } from '../src/index.js';
import { readToEnd } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/activated.mjs', import.meta.url));

const cleanup = new CleanupList();
let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockchan-activation-'));
});
afterEach(async () => {
  await cleanup.closeAll();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function jsonAfter<T>(line: string): T {
  return JSON.parse(line.slice(line.indexOf(' ') + 1)) as T;
}

describe('activatedSockets', () => {
  it('reads LISTEN_FDS from 3 on, named by LISTEN_FDNAMES, when LISTEN_PID is this process', () => {
    expect(activatedSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:' }, pid: 42 })).toEqual([
      { fd: 3, name: 'web' },
      { fd: 4, name: 'unknown' },
    ]);
    expect(activatedSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: '1' }, pid: 42 })).toEqual([{ fd: 3, name: 'unknown' }]);
  });

  it('finds none when the variables are missing or meant for another process', () => {
    expect(activatedSockets({ env: {}, pid: 42 })).toEqual([]);
    expect(activatedSockets({ env: { LISTEN_FDS: '1' }, pid: 42 })).toEqual([]);
    expect(activatedSockets({ env: { LISTEN_PID: '43', LISTEN_FDS: '1' }, pid: 42 })).toEqual([]);
    expect(activatedSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: '0' }, pid: 42 })).toEqual([]);
  });

  it('unsets the variables when asked, so that children do not see them', () => {
    const env: Record<string, string | undefined> = { LISTEN_PID: '42', LISTEN_FDS: '1', LISTEN_FDNAMES: 'a', OTHER: 'x' };
    expect(activatedSockets({ env, pid: 42, unsetEnvironment: true })).toEqual([{ fd: 3, name: 'a' }]);
    expect(env).toEqual({ OTHER: 'x' });
  });

  it('fails clearly on malformed variables', () => {
    expect(() => activatedSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: 'two' }, pid: 42 })).toThrow(
      'bad LISTEN_FDS "two": expected a number of descriptors',
    );
    expect(() => activatedSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a' }, pid: 42 })).toThrow(
      'bad LISTEN_FDNAMES "a": 1 names for LISTEN_FDS=2',
    );
    expect(() => activatedSockets({ env: { LISTEN_PID: 'me', LISTEN_FDS: '1' }, pid: 42 })).toThrow('bad LISTEN_PID "me"');
  });
});

describe('listenFd in a child started as systemd starts it', () => {
  it('serves a TCP and a Unix-domain socket passed as fd 3 and 4', async () => {
    const tcp = await passableListener({ host: '127.0.0.1' });
    const unixPath = path.join(dir, 'activated.sock');
    const unix = await passableListener({ path: unixPath });
    const [command, args] = activationCommand(process.execPath, [FIXTURE]);
    const child = cleanup.add(
      await startProcess(command, args, {
        passFds: [tcp.fd, unix.fd],
        env: { ...process.env, LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:control' },
        lifetimeMs: 30_000,
      }),
    );
    // Only the child holds the sockets now.
    await tcp.close();
    await unix.close();
    expect(jsonAfter(await child.nextLine(/^SOCKETS /, { timeoutMs: 15_000 }))).toEqual([
      { fd: 3, name: 'web' },
      { fd: 4, name: 'control' },
    ]);
    expect(jsonAfter(await child.nextLine(/^ADDRESSES /))).toEqual([
      ['127.0.0.1', '127.0.0.1', tcp.port],
      [unixPath, unixPath, 0],
    ]);
    const c1 = cleanup.add(net.connect({ host: '127.0.0.1', port: tcp.port }));
    await new Promise((resolve) => c1.once('connect', resolve));
    expect(await readToEnd(c1)).toBe(`hello 127.0.0.1 ${c1.localPort}\n`);
    expect(await readToEnd(cleanup.add(net.connect({ path: unixPath })))).toBe(`hello ${unixPath} 0\n`);
    child.endInput();
    expect((await child.exited).code).toBe(0);
    // The supervisor's socket file is not the listener's to remove.
    expect(fs.lstatSync(unixPath).isSocket()).toBe(true);
    expect(child.stderr).toBe('');
  });

  it('ignores descriptors whose LISTEN_PID names another process', async () => {
    const tcp = await passableListener({ host: '127.0.0.1' });
    const [command, args] = activationCommand(process.execPath, [FIXTURE], 1);
    const child = cleanup.add(
      await startProcess(command, args, { passFds: [tcp.fd], env: { ...process.env, LISTEN_FDS: '1' }, lifetimeMs: 30_000 }),
    );
    await tcp.close();
    expect(await child.nextLine(/^SOCKETS /, { timeoutMs: 15_000 })).toBe('SOCKETS []');
    child.endInput();
    expect((await child.exited).code).toBe(0);
    expect(child.lines.some((l) => l.startsWith('ADDRESSES'))).toBe(false);
  });
});

describe('listenFd errors', () => {
  async function rejection(p: Promise<unknown>): Promise<SockchanError> {
    const err: unknown = await p.then(
      () => new Error('resolved'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SockchanError);
    return err as SockchanError;
  }

  it('refuses a descriptor that is not open, not a socket, or not a number', async () => {
    const onConnection = (): void => undefined;
    expect((await rejection(listenFd(987, { onConnection }))).message).toBe("couldn't open socket: bad file number (descriptor 987 is not open)");
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, '');
    const fd = fs.openSync(file, 'r');
    try {
      const err = await rejection(listenFd(fd, { onConnection }));
      expect(err.message).toBe(`couldn't open socket: socket operation on non-socket (descriptor ${fd} is not a socket)`);
      expect(err.code).toBe('ENOTSOCK');
    } finally {
      fs.closeSync(fd);
    }
    expect((await rejection(listenFd(-1, { onConnection }))).message).toBe(
      'bad value for fd: expected a file descriptor (an integer from 0) but got -1',
    );
    expect((await rejection(listenFd([], { onConnection }))).code).toBe('ERR_SOCKCHAN_ARGS');
  });

  it('refuses a connected socket (TCP or Unix) and leaves it working', async () => {
    const unixPath = path.join(dir, 'connected.sock');
    const echo = cleanup.add(net.createServer((s) => s.on('error', () => undefined).pipe(s)));
    await new Promise<void>((resolve) => echo.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const unixEcho = cleanup.add(net.createServer((s) => s.on('error', () => undefined).pipe(s)));
    await new Promise<void>((resolve) => unixEcho.listen(unixPath, resolve));
    const port = (echo.address() as net.AddressInfo).port;
    for (const options of [{ host: '127.0.0.1', port }, { path: unixPath }]) {
      const client = cleanup.add(net.connect(options));
      await new Promise((resolve) => client.once('connect', resolve));
      // Node keeps the descriptor on its (internal) handle.
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      const err = await rejection(listenFd(fd, { onConnection: () => undefined }));
      expect(err.message).toBe(`couldn't open socket: invalid argument (descriptor ${fd} is not a listening socket)`);
      expect(err.code).toBe('EINVAL');
      client.write('still works\n');
      const echoed = await new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
      expect(echoed).toBe('still works\n');
    }
  });
});
