import { Buffer } from 'node:buffer';
import process from 'node:process';
import net from 'node:net';
import type { Server } from 'node:net';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SockchanError, UNIX_PATH_MAX, checkUnixPath, posixError, toSockchanError, valueText } from '@sockchan/base';
import { ListenerImpl } from './listener.js';
import type { Listener } from './listener.js';
import { checkOptions } from './options.js';
import { listenServer, nodeServerOptions } from './listen-server.js';
import type { ConnectionHandler, ErrorHandler, ListenOptions } from './options.js';
import type { UnixProxyProtocolOptions } from './proxy-connection.js';

/**
 * `listenUnix`: a listening Unix-domain socket, with the file-system care a server needs. A stale
 * socket file (a connect to it is refused) is replaced; a live one, or a path that is not a
 * socket, is an error and left alone. The file is bound under a temporary name in the same
 * directory, given its mode, and only then linked to its path: it never shows there with a
 * wider mode. On close, and on a clean exit of the process, the file is removed if it is still
 * this server's (same device and inode).
 */

const OPEN_FAILED = "couldn't open socket: ";

/** Options of {@link listenUnix}. */
export interface UnixListenOptions {
  /**
   * Called for every accepted connection with the listening socket's path (as given, `@name` for
   * an abstract one) and port 0: a Unix-domain client normally has no name of its own.
   */
  onConnection: ConnectionHandler;
  /**
   * The socket file's permission bits: a number (`0o660`) or octal text (`'660'`). Default: what
   * the process's umask leaves (`0o777 & ~umask`), as for any Node or C server. Not for abstract
   * names, which have no file.
   */
  mode?: number | string;
  /** Length of the kernel's accept queue (default 4096, as {@link listen}; negative: the default). */
  backlog?: number | string;
  /** Where handler and accept errors go. Default: printed to stderr. */
  onError?: ErrorHandler;
  /** At most this many accepted connections open at once (see {@link ListenOptions.maxConnections}). */
  maxConnections?: number;
  /** Told about every connection closed because of `maxConnections` (with the path and 0). */
  onDrop?: (address: string, port: number) => void;
  /** Keep an accepted socket writable after the peer's half-close. Default true, as Tcl. */
  allowHalfOpen?: boolean;
  /** Start accepted sockets paused (Node's `pauseOnConnect`). Default false. */
  pauseOnConnect?: boolean;
  /**
   * Behind a proxy (haproxy's `server ... /run/app.sock send-proxy-v2`): every connection must
   * begin with a PROXY protocol header (v1 or v2), read before `onConnection` runs, which then
   * gets the original client's address and port and the header (see
   * {@link ListenOptions.proxyProtocol}; a bad, slow or missing header goes to `onError`).
   * `from` may be left out: a Unix peer has no address to match. Default: none.
   */
  proxyProtocol?: UnixProxyProtocolOptions;
}

/** A socket file this process made: removed on close or exit while it is still the same file. */
interface OwnedFile {
  readonly path: string;
  readonly dev: bigint;
  readonly ino: bigint;
}

/** Socket files of the listeners still open, removed by one 'exit' hook. */
const owned = new Set<OwnedFile>();

function removeIfOwn(file: OwnedFile): void {
  try {
    const st = fs.lstatSync(file.path, { bigint: true });
    if (st.dev === file.dev && st.ino === file.ino) fs.unlinkSync(file.path);
  } catch {
    // Gone already, or not ours to look at: nothing to remove.
  }
}

function removeOwnedFiles(): void {
  for (const file of owned) removeIfOwn(file);
}

function own(file: OwnedFile): void {
  if (owned.size === 0) process.on('exit', removeOwnedFiles);
  owned.add(file);
}

function release(file: OwnedFile): void {
  owned.delete(file);
  if (owned.size === 0) process.off('exit', removeOwnedFiles);
  removeIfOwn(file);
}

/**
 * Parses a file mode: an integer from 0 to 0o7777, or its octal text (`'660'`, `'0660'`,
 * `'0o660'`). Throws `bad value for mode: ...` (code `ERR_SOCKCHAN_BAD_VALUE`).
 * @internal
 */
export function parseFileMode(value: unknown): number {
  let mode: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) mode = value;
  else if (typeof value === 'string' && /^(0o?)?[0-7]{1,4}$/i.test(value.trim())) mode = parseInt(value.trim().replace(/^0o/i, ''), 8);
  if (mode === undefined || mode < 0 || mode > 0o7777) {
    const shown = typeof value === 'string' ? `"${value}"` : valueText(value);
    throw new SockchanError(`bad value for mode: expected a file mode from 0 to 0o7777 (such as 0o660 or "660") but got ${shown}`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  return mode;
}

/** `couldn't open socket: address already in use`, with what was found at the path when it helps. */
function inUse(detail?: string): SockchanError {
  const err = posixError(OPEN_FAILED, 'EADDRINUSE');
  if (detail === undefined) return err;
  return new SockchanError(`${err.message} (${detail})`, { code: err.code, errorCode: err.errorCode });
}

/** What a connect to an existing socket file says: live (someone accepts), stale (refused) or gone. */
function probe(path: string): Promise<'live' | 'stale' | 'gone'> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else if (err.code === 'ENOENT') resolve('gone');
      // EAGAIN: the accept queue is full, so a server is there.
      else if (err.code === 'EAGAIN') resolve('live');
      else reject(toSockchanError(OPEN_FAILED, err));
    });
  });
}

/**
 * Looks at what is at `path` before binding: nothing, or a stale socket (to be replaced).
 * Throws for a live socket, for anything that is not a socket, and for a path that cannot be
 * looked at; those are left alone.
 */
async function checkExisting(path: string): Promise<'absent' | 'stale'> {
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw toSockchanError(OPEN_FAILED, err);
  }
  if (!st.isSocket()) throw inUse(`"${path}" exists and is not a socket; it is left alone`);
  const state = await probe(path);
  if (state === 'live') throw inUse(`a server is listening on "${path}"`);
  return state === 'stale' ? 'stale' : 'absent';
}

/**
 * libuv reports a bind in a missing directory as EACCES (Windows compatibility); the directory
 * says what really failed (ENOENT, ENOTDIR), as bind(2) and Tcl would.
 */
async function bindError(err: unknown, path: string): Promise<unknown> {
  if ((err as NodeJS.ErrnoException).code !== 'EACCES') return err;
  try {
    await fs.promises.stat(dirname(path));
    return err;
  } catch (dirErr) {
    return dirErr;
  }
}

let tempCounter = 0;

/** A fresh name next to `path` for binding before the move, or undefined when it would not fit. */
function temporaryPath(path: string): string | undefined {
  tempCounter += 1;
  const tag = `${process.pid.toString(36)}${tempCounter.toString(36)}${randomBytes(3).toString('hex')}`;
  // A short, plain-ASCII hint of the name (no multi-byte character cut in half).
  const hint = basename(path).slice(0, 8).replace(/[^\w.-]/g, '_');
  const temp = join(dirname(path), `.${hint}.${tag}`);
  return Buffer.byteLength(temp) <= UNIX_PATH_MAX ? temp : undefined;
}

/**
 * Binds the socket file at `path` (its mode set before it shows there) and returns its identity.
 * `existing` says whether a stale file is to be replaced.
 */
async function bindFile(server: Server, path: string, mode: number | undefined, backlog: number, existing: 'absent' | 'stale'): Promise<OwnedFile> {
  const temp = temporaryPath(path);
  if (temp === undefined) {
    // No room for a temporary name beside it: bind in place, then set the mode (a short window).
    if (existing === 'stale') await fs.promises.unlink(path).catch(() => undefined);
    await listenServer(server, { path, backlog, exclusive: true });
    if (mode !== undefined) await fs.promises.chmod(path, mode);
  } else {
    await listenServer(server, { path: temp, backlog, exclusive: true });
    try {
      if (mode !== undefined) await fs.promises.chmod(temp, mode);
      if (existing === 'stale') {
        // Replaces the stale file in one step: the path never stops answering to a name.
        await fs.promises.rename(temp, path);
      } else {
        // link() fails if something appeared at the path meanwhile: that is left alone.
        await fs.promises.link(temp, path);
        await fs.promises.unlink(temp);
      }
    } catch (err) {
      server.close();
      await fs.promises.unlink(temp).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw inUse(`"${path}" appeared while binding; it is left alone`);
      throw err;
    }
  }
  const st = await fs.promises.lstat(path, { bigint: true });
  return { path, dev: st.dev, ino: st.ino };
}

/**
 * Listens on a Unix-domain socket: a file-system path, or on Linux an abstract name written
 * with a leading `@`. Resolves with a {@link Listener} whose `addresses()` is
 * `[[path, path, 0]]` and whose `port` is 0; `onConnection(socket, path, 0)` gets every
 * accepted connection.
 *
 * - A path too long for the platform (107 bytes on Linux) fails (`couldn't open socket: file
 *   name too long (...)`), never truncated.
 * - A socket file that refuses connections (its server is gone) is replaced. A live socket fails
 *   with `couldn't open socket: address already in use (a server is listening on "...")`, a path
 *   that is not a socket with `... ("..." exists and is not a socket; it is left alone)`; neither
 *   is touched. Code `EADDRINUSE`, as bind() would say.
 * - `mode` is set before the file appears at its path (it is bound under a temporary name
 *   beside it, then linked in place).
 * - `close()`, and a clean exit of the process ('exit' event), remove the file if it is still
 *   this listener's (same device and inode); a file replaced meanwhile by someone else stays.
 *   A process killed by a signal leaves a stale file, which the next `listenUnix` replaces.
 */
export async function listenUnix(path: string, options: UnixListenOptions): Promise<Listener> {
  const address = checkUnixPath(path);
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new SockchanError('listenUnix needs an options object with an onConnection handler', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  const { mode: modeOption, ...rest } = options;
  const mode = modeOption === undefined ? undefined : parseFileMode(modeOption);
  if (mode !== undefined && address.abstract) {
    throw new SockchanError(`bad value for mode: the abstract socket name "${path}" has no file to give a mode`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  const cfg = checkOptions({ ...rest, reverseLookup: false } as ListenOptions, true);
  const serverOptions = nodeServerOptions(cfg, false);
  const listener = new ListenerImpl(cfg);
  const server = listener.createServer(serverOptions, path);
  let file: OwnedFile | undefined;
  try {
    if (address.abstract) {
      await listenServer(server, { path: address.nodePath, backlog: cfg.backlog, exclusive: true });
    } else {
      file = await bindFile(server, path, mode, cfg.backlog, await checkExisting(path));
    }
  } catch (err) {
    server.close();
    throw toSockchanError(OPEN_FAILED, address.abstract ? err : await bindError(err, path));
  }
  if (file !== undefined) own(file);
  const ownedFile = file;
  return listener.attach(0, [{ address: path, server, port: 0 }], ownedFile === undefined ? undefined : () => release(ownedFile));
}
