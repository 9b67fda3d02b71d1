/**
 * `pnpm demo`: the manual's time server and client, end to end, in one process.
 *
 * Starts the server on port 9900 (or `TIME_SERVER_PORT`; when that port is taken, on a port the OS
 * picks), waits a moment so that the server has been up for a while, runs the client against
 * `localhost`, prints both programs' output (as the Tcl programs would), closes the server and exits by itself.
 */
import { pathToFileURL } from 'node:url';
import type { ServerChannel } from 'sockchan';
import { startTimeServer } from './time-server.js';
import { runTimeClient } from './time-client.js';

/** Starts the server on `preferred`, or on an OS-chosen port when `preferred` is not free on every family. */
async function startOnFreePort(preferred: string, log: (line: string) => void): Promise<ServerChannel> {
  try {
    const server = await startTimeServer(preferred, log);
    // Tcl's server (and ours) binds what it can; a port taken on one family would send the client
    // to someone else's server there. Only a complete set will do.
    const families = new Set(server.configure('sockname').map(([address]) => address));
    if (families.has('0.0.0.0') && families.has('::')) return server;
    await server.close();
  } catch {
    // Taken (address already in use): fall back to a free port.
  }
  return startTimeServer(0, log);
}

/** Runs the demo; resolves once everything is closed. */
export async function demo(out: (line: string) => void = console.log, delayMs = 1100): Promise<void> {
  const server = await startOnFreePort(process.env['TIME_SERVER_PORT'] ?? '9900', out);
  try {
    out(`Time server listening on port ${server.port}`);
    // Let a second pass, so that "seconds since the server started" is not always 0.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await runTimeClient('localhost', server.port, out);
  } finally {
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await demo();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
