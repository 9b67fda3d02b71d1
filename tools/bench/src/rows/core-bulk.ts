// bulk, @sockchan/core: a core Channel over a raw net.Socket (allowHalfOpen) at each end,
// -translation binary, running the bulk loops of channel-loops.ts: the client writes `bytes`
// bytes with puts of `chunk`-byte Buffers and half-closes; the sink (nonblocking, readable
// handler, as in Tcl) reads until EOF and answers with the count. Same traffic as net-bulk.
// The client's socket is made with `Channel.onread`, as sockchan's `socket` makes its sockets.
import { Channel } from '@sockchan/core';
import { bulkClient, bulkSink } from './channel-loops.js';
import { connectSocket, countingServer, fail, parseRowArgs } from './common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  countingServer((socket) => bulkSink(new Channel(socket, { translation: 'binary', blocking: false }), 'until-drained'), { allowHalfOpen: true });
} else if (args.role === 'client') {
  const run = bulkClient(args);
  const socket = await connectSocket(args, { allowHalfOpen: true, onread: Channel.onread });
  await run(new Channel(socket, { translation: 'binary' }));
} else {
  fail('usage: core-bulk.js server|client key=value...');
}
