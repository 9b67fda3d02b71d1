/**
 * The manual's time client (socket(n), EXAMPLES), line by line:
 *
 * ```tcl
 * set server localhost
 * set sockChan [socket $server 9900]
 * gets $sockChan line1
 * gets $sockChan line2
 * close $sockChan
 * puts "The time on $server is $line1"
 * puts "That is [lindex $line2 0]s since the server started"
 * ```
 *
 * Run: `node examples/dist/time-client.js [host] [port]` (or `TIME_SERVER_PORT=...`; default
 * `localhost` 9900).
 */
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';
import { portFromArgs } from './time-server.js';

/** Asks the time server at `server`:`port` and prints the manual's two lines through `out`. */
export async function runTimeClient(server = 'localhost', port: number | string = 9900, out: (line: string) => void = console.log): Promise<void> {
  const sockChan = await socket(server, port);
  const line1 = await sockChan.gets();
  const line2 = await sockChan.gets();
  await sockChan.close();
  out(`The time on ${server} is ${line1 ?? ''}`);
  // [lindex $line2 0]: the first word of the line.
  out(`That is ${(line2 ?? '').trim().split(/\s+/)[0] ?? ''}s since the server started`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await runTimeClient(process.argv[2] ?? 'localhost', portFromArgs(process.argv, process.env, 3));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
