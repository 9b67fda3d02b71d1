/**
 * The manual's time server (socket(n), EXAMPLES), line by line:
 *
 * ```tcl
 * proc Server {startTime channel clientaddr clientport} {
 *     puts "Connection from $clientaddr registered"
 *     set now [clock seconds]
 *     puts $channel [clock format $now]
 *     puts $channel "[expr {$now - $startTime}] since start"
 *     close $channel
 * }
 * socket -server [list Server [clock seconds]] 9900
 * vwait forever
 * ```
 *
 * Run: `node examples/dist/time-server.js [port]` (or `TIME_SERVER_PORT=...`; default 9900).
 */
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';
import type { ServerChannel, SocketChannel } from 'sockchan';
import { clockFormat, clockSeconds } from './clock.js';

/** What the server says about each connection (the manual's `puts` to stdout). */
export type Log = (line: string) => void;

async function Server(log: Log, startTime: number, channel: SocketChannel, clientaddr: string, _clientport: number): Promise<void> {
  log(`Connection from ${clientaddr} registered`);
  const now = clockSeconds();
  await channel.puts(clockFormat(now));
  await channel.puts(`${now - startTime} since start`);
  await channel.close();
}

/** `socket -server [list Server [clock seconds]] $port`: resolves once listening. */
export function startTimeServer(port: number | string = 9900, log: Log = console.log): Promise<ServerChannel> {
  const startTime = clockSeconds();
  return socket.server((channel, clientaddr, clientport) => Server(log, startTime, channel, clientaddr, clientport), port);
}

/** The port from the command line, then `TIME_SERVER_PORT`, then the manual's 9900. */
export function portFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv, index: number): string {
  return argv[index] ?? env['TIME_SERVER_PORT'] ?? '9900';
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `vwait forever`: the listening server keeps the process alive until it is killed.
  const server = await startTimeServer(portFromArgs(process.argv, process.env, 2));
  console.log(`Time server listening on port ${server.port}`);
}
