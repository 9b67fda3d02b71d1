import net from 'node:net';
import fs from 'node:fs';
import { TestSupportError } from './errors.js';

/**
 * Socket activation in tests: listening sockets made here and passed to a child process the
 * way systemd passes them (fd 3, 4, ... with `LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`).
 */

/** A listening socket whose descriptor can be passed to a child (`startProcess`'s `passFds`). */
export interface PassableListener {
  /** The listening descriptor in this process. */
  readonly fd: number;
  /** Its TCP port, or 0 for a Unix-domain socket. */
  readonly port: number;
  /** Its Unix-domain path, or `''` for TCP. */
  readonly path: string;
  /** Closes this process's copy (the child keeps its own); the socket file stays. */
  close(): Promise<void>;
}

/**
 * Listens on `{ host }` (port 0) or on a Unix-domain `{ path }` and gives the descriptor. The
 * Unix socket is bound at its path (the name the kernel keeps, as `/proc/net/unix` shows it);
 * closing this process's copy keeps the file for the child (libuv removes the name it bound on
 * close, so a second link to it is put back in place).
 */
export async function passableListener(where: { readonly host: string } | { readonly path: string }): Promise<PassableListener> {
  const server = net.createServer();
  const path = 'path' in where ? where.path : undefined;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path === undefined ? { host: (where as { host: string }).host, port: 0 } : { path }, () => resolve());
  });
  if (path !== undefined) fs.linkSync(path, `${path}.keep`);
  // Node keeps the descriptor on its (internal) handle; there is no public accessor.
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    server.close();
    throw new TestSupportError('passableListener: no descriptor on this platform', 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
  }
  const address = server.address();
  return {
    fd,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    path: path ?? '',
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (path !== undefined) fs.renameSync(`${path}.keep`, path);
    },
  };
}

/**
 * The command line that runs `command args...` with `LISTEN_PID` set to the pid it will have,
 * as systemd does: `sh -c 'LISTEN_PID=$$ exec "$0" "$@"' command args...`. Give `LISTEN_FDS`
 * (and `LISTEN_FDNAMES`) in the environment; `pid` overrides `LISTEN_PID` (a wrong one, to test
 * that a process ignores sockets meant for another).
 */
export function activationCommand(command: string, args: readonly string[], pid?: number): [string, string[]] {
  const assignment = pid === undefined ? 'LISTEN_PID=$$' : `LISTEN_PID=${pid}`;
  return ['sh', ['-c', `${assignment} exec "$0" "$@"`, command, ...args]];
}
