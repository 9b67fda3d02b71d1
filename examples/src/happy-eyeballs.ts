/**
 * What happy eyeballs (RFC 8305) did for a connect: every attempt with its address, start and end
 * times and outcome, from `SocketChannel.attempts`. Tcl 8.6 tries a host's addresses one after
 * the other; sockchan starts the next address 250 ms after the previous one while the earlier
 * attempts keep running, and remembers the winner for the next connect to the same host.
 *
 * Run: `node examples/dist/happy-eyeballs.js [host] [port]` (default `localhost`, port 0). It
 * starts a dual-stack server on `port` (every family; 0: the OS chooses), connects to `host`
 * twice, prints both attempt timelines and exits. To see the interesting case, run it where SYNs
 * to ::1 are dropped: `docs/happy-eyeballs.md` shows how (a network namespace and one nft rule).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';
import type { Attempt } from 'sockchan';

const ms = (n: number | undefined): string => (n === undefined ? '(running)' : `${n.toFixed(1)} ms`);

/** One line per attempt: `#1  ::1        started    0.4 ms  ended  251.0 ms  cancelled`. */
export function formatAttempts(attempts: readonly Attempt[]): string[] {
  const width = Math.max(...attempts.map((a) => a.address.length));
  return attempts.map(
    (a) =>
      `  #${a.id}  ${a.address.padEnd(width)}  started ${ms(a.startedAt).padStart(9)}  ended ${ms(a.endedAt).padStart(9)}  ${a.outcome}` +
      (a.message === undefined ? '' : ` (${a.message})`),
  );
}

/** Starts the server, connects twice, prints the timelines. */
export async function happyEyeballsDemo(host: string, port: number | string, out: (line: string) => void = console.log): Promise<void> {
  const server = await socket.server((chan) => void chan.close(), port, { reverseLookup: false });
  try {
    out(`server listening on ${server.configure('sockname').map(([address, , p]) => `${address} port ${p}`).join(', ')}`);
    for (const round of ['first connect', 'second connect (history)']) {
      const t0 = performance.now();
      const chan = await socket(host, server.port, { reverseLookup: false });
      const elapsed = performance.now() - t0;
      const [address] = chan.configure('peername') as [string, string, number];
      out(`${round} to ${host}: connected to ${address} in ${elapsed.toFixed(1)} ms`);
      for (const line of formatAttempts(chan.attempts)) out(line);
      await chan.close();
    }
  } finally {
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await happyEyeballsDemo(process.argv[2] ?? 'localhost', process.argv[3] ?? 0);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
