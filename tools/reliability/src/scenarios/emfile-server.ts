/**
 * EMFILE scenario: a sockchan server meant to run under a low descriptor limit
 * (`prlimit --nofile=64:64`). Each accepted connection gets `HELLO <n>` and is kept until the
 * client closes it. JSON lines on stdout: `ready` (port), `accepted`, `closed`, `error`
 * (accept failures from `onError`), and `done` (after stdin closes: the server is closed,
 * with the handles left over, which must be none).
 */
import { createInterface } from 'node:readline';
import { socket } from 'sockchan';
import { leakedHandles, networkResources } from '../leaks.js';

const out = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};
const baseline = networkResources();
let n = 0;
const srv = await socket.server(
  async (ch) => {
    const id = ++n;
    out({ type: 'accepted', id });
    await ch.puts(`HELLO ${id}`);
    await ch.flush();
    while ((await ch.gets()) !== null);
    await ch.close();
    out({ type: 'closed', id });
  },
  0,
  {
    myaddr: '127.0.0.1',
    reverseLookup: false,
    onError: (err, ch) => out({ type: 'error', message: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code, withChannel: ch !== undefined }),
  },
);
out({ type: 'ready', port: srv.port });
const rl = createInterface({ input: process.stdin });
rl.on('close', () => {
  process.stdin.destroy();
  void srv.close().then(async () => {
    // Accepted channels the test left open are closed by their peers; wait for the handles.
    out({ type: 'done', leaked: await leakedHandles(baseline, 5000) });
  });
});
