/**
 * `socket -async` with a writable handler, as the manual describes: the channel comes back at
 * once, the connect runs in the background, and the writable event says when it is decided;
 * `-error` then says whether it worked.
 *
 * ```tcl
 * set s [socket -async localhost $port]
 * chan configure $s -blocking 0
 * chan event $s writable [list connected $s]
 * proc connected {s} {
 *     chan event $s writable {}
 *     if {[set err [chan configure $s -error]] ne ""} { puts "failed: $err"; close $s; return }
 *     puts "connected to [chan configure $s -peername]"
 *     ...
 * }
 * vwait done
 * ```
 *
 * Run: `node examples/dist/async-connect.js`. It starts a greeting server on loopback, connects
 * to it with `async: true` (and to a port where nothing listens, to show a failure), prints what
 * happened and exits.
 */
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';
import type { ServerChannel, SocketChannel } from 'sockchan';

/** A server that answers one line with `hello, <line>` and closes. */
async function startGreeter(): Promise<ServerChannel> {
  return socket.server(
    async (chan) => {
      const name = await chan.gets();
      await chan.puts(`hello, ${name ?? 'nobody'}`);
      await chan.close();
    },
    0,
    { myaddr: '127.0.0.1' },
  );
}

/**
 * Connects with `async: true` and resolves with what happened. Everything is event-driven:
 * `onWritable` for the connect's outcome, `onReadable` for the answer; nothing waits in between.
 */
export function asyncConnect(host: string, port: number, out: (line: string) => void): Promise<void> {
  const s: SocketChannel = socket(host, port, { async: true });
  out(`socket -async returned ${s.name} at once; connecting: ${String(s.configure('connecting'))}`);
  s.configure({ blocking: false, buffering: 'line' });
  // Queued until the connection exists (Tcl does the same).
  void s.puts('async world');
  return new Promise<void>((resolve) => {
    s.onWritable(() => {
      s.onWritable(null);
      const err = s.configure('error');
      if (err !== '') {
        out(`writable fired: connect failed: ${err}`);
        void s.close().then(resolve);
        return;
      }
      const [address, , peerPort] = s.configure('peername') as [string, string, number];
      out(`writable fired: connected to ${address} port ${peerPort} (${s.attempts.length} attempt(s))`);
      s.onReadable(async () => {
        const line = await s.gets();
        if (line !== null) out(`server says: ${line}`);
        if (s.eof()) {
          out('server closed the connection');
          await s.close();
          resolve();
        }
      });
    });
  });
}

/** Runs both connects: one that works, one refused. */
export async function asyncConnectDemo(out: (line: string) => void = console.log): Promise<void> {
  const server = await startGreeter();
  const port = server.port;
  try {
    await asyncConnect('127.0.0.1', port, out);
  } finally {
    await server.close();
  }
  // The server is closed now: nothing listens on that port any more.
  await asyncConnect('127.0.0.1', port, out);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await asyncConnectDemo();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
