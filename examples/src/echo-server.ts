/**
 * An echo server, the classic Tcl way: one accept callback per connection, line buffering,
 * `gets` until EOF, `puts` each line back.
 *
 * ```tcl
 * proc Echo {chan addr port} {
 *     chan configure $chan -buffering line
 *     while {[gets $chan line] >= 0} { puts $chan $line }
 *     close $chan
 * }
 * socket -server Echo -myaddr 127.0.0.1 0
 * ```
 *
 * Run: `node examples/dist/echo-server.js` starts the server on a free loopback port, talks to it
 * with a client, prints the conversation and exits. `node examples/dist/echo-server.js 7777`
 * serves on port 7777 until Ctrl-C (try `sockchan localhost 7777` in another terminal).
 */
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';
import type { ServerChannel, SocketChannel } from 'sockchan';

/** The accept callback: echoes every line until the client closes, then closes. */
async function echo(chan: SocketChannel): Promise<void> {
  chan.configure({ buffering: 'line' });
  // `for await` is `while {[gets $chan line] >= 0}`: it ends at EOF.
  for await (const line of chan) await chan.puts(line);
  await chan.close();
}

/** `socket -server Echo -myaddr $myaddr $port`: resolves once listening. */
export function startEchoServer(port: number | string = 0, myaddr = '127.0.0.1'): Promise<ServerChannel> {
  return socket.server(echo, port, { myaddr });
}

/** Starts the server, sends `lines` through a client, prints both sides, closes everything. */
export async function echoDemo(lines: readonly string[], out: (line: string) => void = console.log): Promise<void> {
  const server = await startEchoServer();
  try {
    const [address, , port] = server.configure('sockname')[0] ?? ['127.0.0.1', '', 0];
    out(`echo server listening on ${address} port ${port}`);
    const client = await socket(address, port);
    try {
      for (const line of lines) {
        await client.puts(line);
        await client.flush();
        out(`sent "${line}", got back "${(await client.gets()) ?? '(nothing)'}"`);
      }
      // Half-close: the server's `gets` sees EOF, it closes, and so do we see EOF.
      await client.close('write');
      out(`after close write: gets -> ${JSON.stringify(await client.gets())}, eof ${client.eof()}`);
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const port = process.argv[2];
    if (port === undefined) {
      await echoDemo(['hello', 'Tcl channels in Node', 'bye']);
    } else {
      // `vwait forever`: serve until Ctrl-C.
      const server = await startEchoServer(port, 'localhost');
      console.log(`echo server listening on port ${server.port} (Ctrl-C stops it)`);
      process.once('SIGINT', () => void server.close());
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
