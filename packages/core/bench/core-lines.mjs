// lines, @sockchan/core Channel over net.Socket: pipelined line echo with gets/puts. The server
// reads lines with gets and echoes them with puts (full buffering), flushing whenever no more
// input is buffered, as a Tcl server would; the client writes `count` 40-byte lines in ~4 KiB
// batches while it counts the echoed lines with gets. Same traffic as tools/bench's net-lines.
// `api=plain` (the default) uses `await gets()` / `await puts()` for every line, as most code
// does; `api=try` takes buffered lines with tryGets/tryPuts (no promise per line).
import process from 'node:process';
import net from 'node:net';
import { Channel } from '@sockchan/core';
import { connect, fail, intParam, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './protocol.mjs';

const args = parseRowArgs();
const options = { translation: 'lf', encoding: 'iso8859-1' };
const api = strParam(args, 'api', 'plain');
if (api !== 'plain' && api !== 'try') fail('api=plain|try');

function makeLine(i) {
  return `line ${String(i).padStart(6, '0')} abcdefghijklmnopqrstuvwxyz0\n`;
}

if (args.role === 'server') {
  let accepted = 0;
  const server = net.createServer(async (socket) => {
    accepted += 1;
    const ch = new Channel(socket, options);
    try {
      if (api === 'plain') {
        for (;;) {
          // Flush when the input is drained, as a Tcl server does, then wait for more.
          if (ch.pending('input') === 0) await ch.flush();
          const line = await ch.gets();
          if (line === null) break;
          await ch.puts(line);
        }
      } else {
        for (;;) {
          // Buffered lines without a promise each.
          let line = ch.tryGets();
          if (line === undefined) {
            await ch.flush();
            line = await ch.gets();
          }
          if (line === null) break;
          if (!ch.tryPuts(line)) await ch.flush();
        }
      }
      await ch.flush();
    } catch {
      // peer gone
    }
    await ch.close().catch(() => undefined);
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server);
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const perBatch = 100;
  const batches = [];
  for (let b = 0; b < 10; b += 1) {
    let text = '';
    for (let i = 0; i < perBatch; i += 1) text += makeLine(b * perBatch + i);
    batches.push(text);
  }
  const socket = await connect(net, strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'));
  const ch = new Channel(socket, options);
  const start = process.hrtime.bigint();
  const writer = (async () => {
    let sent = 0;
    while (sent < count) {
      const n = Math.min(perBatch, count - sent);
      const batch = batches[(sent / perBatch) % batches.length | 0];
      await ch.puts(n === perBatch ? batch : batch.slice(0, n * 40), { nonewline: true });
      sent += n;
    }
    await ch.flush();
  })();
  let received = 0;
  while (received < count) {
    const line = api === 'plain' ? await ch.gets() : (ch.tryGets() ?? (await ch.gets()));
    if (line === null) fail(`client: EOF after ${received} lines`);
    received += 1;
  }
  await writer;
  printResult({ ops: received, seconds: secondsSince(start) });
  await ch.close();
} else {
  fail('usage: core-lines.mjs server|client key=value...');
}
