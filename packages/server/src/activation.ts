import { Buffer } from 'node:buffer';
import process from 'node:process';
import fs from 'node:fs';
import net from 'node:net';
import { SockchanError, displayAddress, posixError, toSockchanError, valueText } from '@sockchan/base';
import { ListenerImpl } from './listener.js';
import type { AttachedSocket, Listener } from './listener.js';
import { checkOptions } from './options.js';
import type { ListenOptions } from './options.js';
import { listenServer, nodeServerOptions } from './listen-server.js';

/**
 * Socket activation: listening sockets handed over by a supervisor (systemd, `systemfd`, a
 * parent process) as inherited file descriptors, TCP or Unix-domain.
 */

const OPEN_FAILED = "couldn't open socket: ";

/** The first descriptor systemd passes (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;

/** One socket passed by the service manager. */
export interface ActivatedSocket {
  /** The descriptor: 3, 4, ... in the order of the unit's `Listen*=` lines. */
  readonly fd: number;
  /** Its name from `LISTEN_FDNAMES` (the unit's `FileDescriptorName=`), `'unknown'` without one, as systemd. */
  readonly name: string;
}

/** Where {@link activatedSockets} reads, and whether it clears the variables. */
export interface ActivationOptions {
  /** The environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** The process id `LISTEN_PID` must name (default `process.pid`). */
  pid?: number;
  /**
   * Delete `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from `env` afterwards, so that child
   * processes do not see them (`sd_listen_fds(1)`). Default false.
   */
  unsetEnvironment?: boolean;
}

function badEnvironment(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] });
}

/**
 * The listening sockets systemd (or any supervisor speaking its protocol) passed to this
 * process, as `sd_listen_fds_with_names()` finds them: `LISTEN_FDS` descriptors from 3 on,
 * named by `LISTEN_FDNAMES` (colon-separated). None when `LISTEN_PID` is missing or names
 * another process (the variables were inherited, not meant for us) or `LISTEN_FDS` is unset.
 * A malformed `LISTEN_FDS`, or a `LISTEN_FDNAMES` with another count, throws
 * (`ERR_SOCKCHAN_BAD_VALUE`).
 */
export function activatedSockets(options: ActivationOptions = {}): ActivatedSocket[] {
  const env = options.env ?? process.env;
  const pid = options.pid ?? process.pid;
  const listenPid = env['LISTEN_PID'];
  const listenFds = env['LISTEN_FDS'];
  const names = env['LISTEN_FDNAMES'];
  if (options.unsetEnvironment === true) {
    delete env['LISTEN_PID'];
    delete env['LISTEN_FDS'];
    delete env['LISTEN_FDNAMES'];
  }
  if (listenPid === undefined || listenFds === undefined) return [];
  if (!/^\d+$/.test(listenPid)) throw badEnvironment(`bad LISTEN_PID "${listenPid}": expected a process id`);
  if (Number(listenPid) !== pid) return [];
  if (!/^\d+$/.test(listenFds)) throw badEnvironment(`bad LISTEN_FDS "${listenFds}": expected a number of descriptors`);
  const count = Number(listenFds);
  const nameList = names === undefined ? undefined : names.split(':');
  if (nameList !== undefined && nameList.length !== count) {
    throw badEnvironment(`bad LISTEN_FDNAMES "${names}": ${nameList.length} names for LISTEN_FDS=${count}`);
  }
  const sockets: ActivatedSocket[] = [];
  for (let i = 0; i < count; i++) sockets.push({ fd: LISTEN_FDS_START + i, name: nameList?.[i] || 'unknown' });
  return sockets;
}

/** Options of {@link listenFd}: those of {@link listen} that apply to a socket already bound. */
export type FdListenOptions = Omit<ListenOptions, 'myaddr' | 'reusePort' | 'exclusive' | 'resolver'>;

/** What the kernel's socket tables (Linux `/proc/net`) say of a socket inode. */
interface SocketInfo {
  /** `unknown`: not in the TCP or Unix tables (another kind, or no `/proc`). */
  readonly kind: 'tcp' | 'unix' | 'unknown';
  readonly listening: boolean;
  /** A Unix socket's bound name (`@name` for an abstract one), `''` if unnamed. */
  readonly path: string;
}

function procTable(name: string): string[] {
  try {
    return fs.readFileSync(`/proc/net/${name}`, 'latin1').split('\n').slice(1);
  } catch {
    return [];
  }
}

/** `__SO_ACCEPTCON` in `/proc/net/unix`'s Flags column: the socket listens. */
const UNIX_ACCEPTCON = 0x10000;
/** `TCP_LISTEN` in `/proc/net/tcp`'s st column. */
const TCP_LISTEN = '0A';

/**
 * Finds a socket by inode in `/proc/net/unix` (Num RefCount Protocol Flags Type St Inode Path)
 * and `/proc/net/tcp`, `tcp6` (sl local rem st tx:rx tr:when retrnsmt uid timeout inode).
 */
function socketInfo(ino: number): SocketInfo {
  const inode = String(ino);
  for (const line of procTable('unix')) {
    const f = line.trim().split(/\s+/);
    if (f[6] !== inode) continue;
    const path = Buffer.from(f[7] ?? '', 'latin1').toString('utf8');
    return { kind: 'unix', listening: (parseInt(f[3] ?? '0', 16) & UNIX_ACCEPTCON) !== 0, path };
  }
  for (const table of ['tcp', 'tcp6']) {
    for (const line of procTable(table)) {
      const f = line.trim().split(/\s+/);
      if (f[9] === inode) return { kind: 'tcp', listening: f[3] === TCP_LISTEN, path: '' };
    }
  }
  return { kind: 'unknown', listening: false, path: '' };
}

/**
 * What a descriptor is: throws unless it is an open socket, and (where `/proc/net` tells) a
 * listening one; a descriptor refused here is left untouched (Node would close it on failure).
 */
function inspect(fd: unknown): { fd: number; info: SocketInfo } {
  if (typeof fd !== 'number' || !Number.isSafeInteger(fd) || fd < 0) {
    throw new SockchanError(`bad value for fd: expected a file descriptor (an integer from 0) but got ${valueText(fd)}`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (err) {
    const e = toSockchanError(OPEN_FAILED, err);
    throw new SockchanError(`${e.message} (descriptor ${fd} is not open)`, { code: e.code, errorCode: e.errorCode, cause: err });
  }
  if (!st.isSocket()) {
    const e = posixError(OPEN_FAILED, 'ENOTSOCK');
    throw new SockchanError(`${e.message} (descriptor ${fd} is not a socket)`, { code: e.code, errorCode: e.errorCode });
  }
  const info = socketInfo(st.ino);
  if (info.kind !== 'unknown' && !info.listening) {
    const e = posixError(OPEN_FAILED, 'EINVAL');
    throw new SockchanError(`${e.message} (descriptor ${fd} is not a listening socket)`, { code: e.code, errorCode: e.errorCode });
  }
  return { fd, info };
}

/**
 * Serves listening sockets inherited as file descriptors (socket activation): each is a TCP or a
 * Unix-domain socket, already bound (and normally listening) by the supervisor. The listener
 * takes the descriptors over (closing it closes them) and never removes a socket file: the
 * supervisor owns it. `onConnection` gets the peer's address and port for TCP, and the socket's
 * path (from `/proc/net/unix`; `''` when unknown) and port 0 for Unix-domain connections.
 * `addresses()` lists one triple per descriptor; `port` is the first TCP socket's (0 if none).
 *
 * Fails with `couldn't open socket: bad file number (descriptor 7 is not open)`,
 * `... socket operation on non-socket (descriptor 0 is not a socket)`, `... invalid argument
 * (descriptor 5 is not a listening socket)` (a connected TCP or Unix socket, found in
 * `/proc/net`; left untouched), or the error `listen()` gives (a datagram socket: `invalid
 * argument`).
 */
export async function listenFd(fds: number | readonly number[], options: FdListenOptions): Promise<Listener> {
  const list = typeof fds === 'number' ? [fds] : Array.isArray(fds) ? (fds as readonly unknown[]) : [fds];
  if (list.length === 0) throw new SockchanError('listenFd needs at least one file descriptor', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  const described = list.map(inspect);
  const cfg = checkOptions(options);
  const serverOptions = nodeServerOptions(cfg, true);
  const listener = new ListenerImpl(cfg);
  const attached: AttachedSocket[] = [];
  try {
    for (const { fd, info } of described) {
      const server = net.createServer(serverOptions);
      await listenServer(server, { fd, backlog: cfg.backlog });
      const bound = server.address();
      if (typeof bound === 'object' && bound !== null) {
        server.on('connection', listener.connectionHandler());
        attached.push({ address: displayAddress(bound.address), server, port: bound.port });
      } else {
        const path = info.path;
        server.on('connection', listener.connectionHandler(path));
        attached.push({ address: path, server, port: 0 });
      }
    }
  } catch (err) {
    for (const { server } of attached) server.close();
    throw toSockchanError(OPEN_FAILED, err);
  }
  const tcp = attached.find((s) => s.port !== 0);
  return listener.attach(tcp?.port ?? 0, attached);
}
