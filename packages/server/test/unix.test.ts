// Unix-domain listeners: paths and abstract names, stale and live socket files, modes, removal.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CleanupList, startProcess } from '@sockchan/test-support';
import { SockchanError } from '@sockchan/base';
import { listenUnix } from '../src/index.js';
import type { Listener } from '../src/index.js';
import { readToEnd } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/unix-exit.mjs', import.meta.url));

const cleanup = new CleanupList();
let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockchan-unix-'));
});
afterEach(async () => {
  await cleanup.closeAll();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function socketPath(): string {
  n += 1;
  return path.join(dir, `s${n}.sock`);
}

/** A listener whose connections get `reply` and are closed. */
async function replying(p: string, reply = 'hello\n', extra: { mode?: number | string } = {}): Promise<{ listener: Listener; seen: [string, number][] }> {
  const seen: [string, number][] = [];
  const listener = cleanup.add(
    await listenUnix(p, {
      ...extra,
      onConnection(socket, address, port) {
        seen.push([address, port]);
        // A probe (a listener checking whether the path is live) may be gone already.
        socket.on('error', () => undefined);
        socket.end(reply);
      },
    }),
  );
  return { listener, seen };
}

function connectPath(p: string): net.Socket {
  return cleanup.add(net.connect({ path: p }));
}

function connectFails(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path: p });
    s.once('connect', () => {
      s.destroy();
      reject(new Error(`connected to ${p}`));
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? ''));
  });
}

async function rejection(p: Promise<unknown>): Promise<SockchanError> {
  const err: unknown = await p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SockchanError);
  return err as SockchanError;
}

/** A socket file nobody listens on: bound by node:net, hard-linked, then closed (libuv removes the first name). */
async function staleSocketFile(p: string): Promise<bigint> {
  const first = `${p}.first`;
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(first, resolve));
  fs.linkSync(first, p);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(fs.existsSync(first)).toBe(false);
  expect(await connectFails(p)).toBe('ECONNREFUSED');
  return fs.lstatSync(p, { bigint: true }).ino;
}

describe('listenUnix', () => {
  it('serves a path: the handler gets the path and port 0, addresses() gives [path, path, 0]', async () => {
    const p = socketPath();
    const { listener, seen } = await replying(p);
    expect(listener.port).toBe(0);
    expect(listener.addresses()).toEqual([[p, p, 0]]);
    expect(fs.lstatSync(p).isSocket()).toBe(true);
    expect(await readToEnd(connectPath(p))).toBe('hello\n');
    expect(seen).toEqual([[p, 0]]);
    // No temporary name is left beside it.
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('gives the file its mode (number or octal text); without one the umask decides', async () => {
    const a = socketPath();
    await replying(a, 'a\n', { mode: 0o600 });
    expect(fs.statSync(a).mode & 0o7777).toBe(0o600);
    const b = socketPath();
    await replying(b, 'b\n', { mode: '640' });
    expect(fs.statSync(b).mode & 0o7777).toBe(0o640);
    const c = socketPath();
    await replying(c);
    const umask = process.umask();
    expect(fs.statSync(c).mode & 0o777).toBe(0o777 & ~umask);
    expect((await rejection(listenUnix(socketPath(), { mode: 'rw', onConnection: () => undefined }))).message).toBe(
      'bad value for mode: expected a file mode from 0 to 0o7777 (such as 0o660 or "660") but got "rw"',
    );
    expect((await rejection(listenUnix(socketPath(), { mode: 0o10000, onConnection: () => undefined }))).code).toBe('ERR_SOCKCHAN_BAD_VALUE');
  });

  it('replaces a stale socket file (connect refused)', async () => {
    const p = socketPath();
    const staleIno = await staleSocketFile(p);
    await replying(p, 'fresh\n');
    expect(fs.lstatSync(p, { bigint: true }).ino).not.toBe(staleIno);
    expect(await readToEnd(connectPath(p))).toBe('fresh\n');
  });

  it('fails on a live socket with "address already in use" and leaves it serving', async () => {
    const p = socketPath();
    const live = cleanup.add(net.createServer((s) => s.on('error', () => undefined).end('live\n')));
    await new Promise<void>((resolve) => live.listen(p, resolve));
    const ino = fs.lstatSync(p).ino;
    const err = await rejection(listenUnix(p, { onConnection: () => undefined }));
    expect(err.message).toBe(`couldn't open socket: address already in use (a server is listening on "${p}")`);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.errorCode).toEqual(['POSIX', 'EADDRINUSE', 'address already in use']);
    expect(fs.lstatSync(p).ino).toBe(ino);
    expect(await readToEnd(connectPath(p))).toBe('live\n');
    // A second listener on the same path from this process fails the same way.
    const q = socketPath();
    await replying(q);
    expect((await rejection(listenUnix(q, { onConnection: () => undefined }))).code).toBe('EADDRINUSE');
  });

  it('fails on a path that is not a socket and leaves it alone', async () => {
    const p = socketPath();
    fs.writeFileSync(p, 'precious');
    const err = await rejection(listenUnix(p, { onConnection: () => undefined }));
    expect(err.message).toBe(`couldn't open socket: address already in use ("${p}" exists and is not a socket; it is left alone)`);
    expect(fs.readFileSync(p, 'utf8')).toBe('precious');
    const d = socketPath();
    fs.mkdirSync(d);
    expect((await rejection(listenUnix(d, { onConnection: () => undefined }))).code).toBe('EADDRINUSE');
    expect(fs.statSync(d).isDirectory()).toBe(true);
  });

  it("fails with Tcl's errno texts when the directory is missing or not a directory", async () => {
    const missing = path.join(dir, 'no-such-dir', 'x.sock');
    expect((await rejection(listenUnix(missing, { onConnection: () => undefined }))).message).toBe(
      "couldn't open socket: no such file or directory",
    );
    const file = socketPath();
    fs.writeFileSync(file, '');
    const err = await rejection(listenUnix(path.join(file, 'x.sock'), { onConnection: () => undefined }));
    expect(err.message).toBe("couldn't open socket: not a directory");
    expect(err.errorCode).toEqual(['POSIX', 'ENOTDIR', 'not a directory']);
  });

  it('refuses a path too long for the platform and creates nothing', async () => {
    const long = path.join(dir, 'x'.repeat(120));
    const err = await rejection(listenUnix(long, { onConnection: () => undefined }));
    expect(err.code).toBe('ENAMETOOLONG');
    expect(err.message).toMatch(/^couldn't open socket: file name too long \(socket path ".*" is \d+ bytes; the limit is 107\)$/);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('x') || f.startsWith('.x'))).toBe(false);
  });

  it('binds a path at the very limit (no room for a temporary name beside it), with its mode', async () => {
    const longDir = path.join(dir, 'd'.repeat(Math.max(1, 107 - dir.length - 4)));
    fs.mkdirSync(longDir);
    const p = path.join(longDir, 'ab');
    expect(Buffer.byteLength(p)).toBe(107);
    const { listener } = await replying(p, 'edge\n', { mode: 0o600 });
    expect(fs.statSync(p).mode & 0o777).toBe(0o600);
    expect(await readToEnd(connectPath(p))).toBe('edge\n');
    await listener.close();
    expect(fs.existsSync(p)).toBe(false);
  });

  it('removes its file on close, and only its own', async () => {
    const p = socketPath();
    const { listener } = await replying(p);
    await listener.close();
    expect(fs.existsSync(p)).toBe(false);
    expect(await connectFails(p)).toBe('ENOENT');
    expect(listener.addresses()).toEqual([]);

    // Someone removed our file and another server took the path: close leaves theirs.
    const q = socketPath();
    const { listener: ours } = await replying(q);
    fs.unlinkSync(q);
    const theirs = cleanup.add(net.createServer((s) => s.on('error', () => undefined).end('theirs\n')));
    await new Promise<void>((resolve) => theirs.listen(q, resolve));
    await ours.close();
    expect(fs.lstatSync(q).isSocket()).toBe(true);
    expect(await readToEnd(connectPath(q))).toBe('theirs\n');
  });

  it('removes its file on a clean process exit; a killed process leaves a stale file the next listener replaces', async () => {
    const p = socketPath();
    const clean = cleanup.add(await startProcess(process.execPath, [FIXTURE, p], { lifetimeMs: 20_000 }));
    await clean.nextLine('READY', { timeoutMs: 15_000 });
    expect(await readToEnd(connectPath(p))).toBe('served\n');
    clean.writeLine('exit');
    expect(await clean.exited).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(p)).toBe(false);

    const killed = cleanup.add(await startProcess(process.execPath, [FIXTURE, p], { lifetimeMs: 20_000 }));
    await killed.nextLine('READY', { timeoutMs: 15_000 });
    killed.signal('SIGKILL');
    expect((await killed.exited).signal).toBe('SIGKILL');
    expect(fs.lstatSync(p).isSocket()).toBe(true);
    expect(await connectFails(p)).toBe('ECONNREFUSED');
    await replying(p, 'next\n');
    expect(await readToEnd(connectPath(p))).toBe('next\n');
  });

  it.runIf(process.platform === 'linux')('serves a Linux abstract name written with @ (no file, no mode)', async () => {
    const name = `@sockchan-test-${process.pid}-${n}`;
    const { listener, seen } = await replying(name, 'abstract\n');
    expect(listener.addresses()).toEqual([[name, name, 0]]);
    expect(await readToEnd(connectPath(`\0${name.slice(1)}`))).toBe('abstract\n');
    expect(seen).toEqual([[name, 0]]);
    expect(fs.readFileSync('/proc/net/unix', 'latin1')).toContain(name);
    expect((await rejection(listenUnix(name, { onConnection: () => undefined }))).code).toBe('EADDRINUSE');
    expect((await rejection(listenUnix(`@other-${process.pid}`, { mode: 0o600, onConnection: () => undefined }))).message).toBe(
      `bad value for mode: the abstract socket name "@other-${process.pid}" has no file to give a mode`,
    );
    await listener.close();
    expect(await connectFails(`\0${name.slice(1)}`)).toBe('ECONNREFUSED');
  });

  it('drops connections beyond maxConnections and tells onDrop the path', async () => {
    const p = socketPath();
    const held: net.Socket[] = [];
    const drops: [string, number][] = [];
    cleanup.add(
      await listenUnix(p, {
        maxConnections: 1,
        onConnection: (s) => {
          held.push(cleanup.add(s));
          s.write('held\n');
        },
        onDrop: (address, port) => drops.push([address, port]),
      }),
    );
    const first = connectPath(p);
    await new Promise((resolve) => first.once('data', resolve));
    expect(await readToEnd(connectPath(p))).toBe('');
    expect(drops).toEqual([[p, 0]]);
    expect(held).toHaveLength(1);
  });
});
