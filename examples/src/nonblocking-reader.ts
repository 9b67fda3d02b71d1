/**
 * A nonblocking reader with a readable handler: Tcl's `chan event readable` + `gets` + `fblocked`
 * + `eof` idiom. Lines arrive in pieces; `gets` returns `null` with `blocked()` true while only
 * part of a line is there, and the handler is not called again until more bytes arrive (Tcl's
 * rule: no busy loop on a partial line).
 *
 * ```tcl
 * proc readable {s} {
 *     if {[gets $s line] >= 0} { puts "line: $line"; return }
 *     if {[eof $s]} { puts "eof"; close $s; set ::done 1; return }
 *     if {[fblocked $s]} { puts "blocked: [chan pending input $s] bytes of a partial line"; puts $s more }
 * }
 * chan configure $s -blocking 0 -buffering line
 * chan event $s readable [list readable $s]
 * vwait ::done
 * ```
 *
 * Run: `node examples/dist/nonblocking-reader.js`. It starts a server on loopback that sends
 * lines cut in pieces, and sends the next piece only when the client asks `more` (so the run is
 * the same every time), reads them as above, prints what happened and exits.
 */
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';
import type { ServerChannel } from 'sockchan';

/** What the server sends, piece by piece: three lines cut mid-line. */
export const PIECES = ['first li', 'ne\nsecond', ' line\nthird ', 'line\n'] as const;

/** Sends one piece per `more` from the client, then closes. */
function startPieceServer(): Promise<ServerChannel> {
  return socket.server(
    async (chan) => {
      chan.configure({ translation: 'lf' });
      for (const piece of PIECES) {
        await chan.puts(piece, { nonewline: true });
        await chan.flush();
        // Wait for the client's request before the next piece (EOF ends the loop early).
        if ((await chan.gets()) === null) break;
      }
      await chan.close();
    },
    0,
    { myaddr: '127.0.0.1' },
  );
}

/** Reads the server's lines with a nonblocking readable handler; resolves at EOF. */
export async function nonblockingDemo(out: (line: string) => void = console.log): Promise<void> {
  const server = await startPieceServer();
  try {
    const s = await socket('127.0.0.1', server.port);
    s.configure({ blocking: false, buffering: 'line' });
    await new Promise<void>((resolve) => {
      s.onReadable(async () => {
        const line = await s.gets();
        if (line !== null) {
          out(`line: ${line}`);
          // Ask for the next piece once the buffered lines are read.
          if (s.pending('input') === 0) await s.puts('more');
          return;
        }
        if (s.eof()) {
          out('eof');
          await s.close();
          resolve();
          return;
        }
        if (s.blocked()) {
          out(`blocked: ${s.pending('input')} bytes of a partial line`);
          await s.puts('more');
        }
      });
    });
  } finally {
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await nonblockingDemo();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
