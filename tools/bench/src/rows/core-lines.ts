// lines, @sockchan/core: a core Channel over a raw net.Socket at each end, running the lines
// loops of channel-loops.ts: pipelined line echo, the server flushing whenever no more input is
// buffered; the client writes `count` 40-byte lines in ~4 KiB batches while it counts the
// echoes. Same traffic as net-lines. The client's socket is made with `Channel.onread`, as
// sockchan's `socket` makes its sockets (see core-pingpong.ts).
// `api=plain` (the default) uses `await gets()` / `await puts()` for every line, as most code
// does; `api=try` takes buffered lines with tryGets/tryPuts (no promise per line), as the
// sockchan row does.
import { Channel } from '@sockchan/core';
import { lineOptions, linesClient, linesServer } from './channel-loops.js';
import { connectSocket, countingServer, fail, parseRowArgs, strParam } from './common.js';

const args = parseRowArgs();
const api = strParam(args, 'api', 'plain');
if (api !== 'plain' && api !== 'try') fail('api=plain|try');

if (args.role === 'server') {
  countingServer((socket) => linesServer(new Channel(socket, lineOptions), api));
} else if (args.role === 'client') {
  const run = linesClient(args, api);
  const socket = await connectSocket(args, { onread: Channel.onread });
  await run(new Channel(socket, lineOptions));
} else {
  fail('usage: core-lines.js server|client key=value...');
}
