// bulk, the full sockchan stack, -translation binary: `socket.server` and `socket` channels
// running the bulk loops of channel-loops.ts: the client writes `bytes` bytes with puts of
// `chunk`-byte Buffers and half-closes (close write); the sink (nonblocking, readable handler,
// as in Tcl) reads until EOF and answers with the count. Same traffic as net-bulk.
import { bulkClient, bulkSink } from './channel-loops.js';
import { fail, parseRowArgs } from './common.js';
import { sockchanConnect, sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  await sockchanServer((chan) => {
    chan.configure({ translation: 'binary', blocking: false });
    bulkSink(chan, 'until-empty');
  });
} else if (args.role === 'client') {
  const run = bulkClient(args);
  const ch = await sockchanConnect(args);
  ch.configure({ translation: 'binary' });
  await run(ch);
} else {
  fail('usage: sockchan-bulk.js server|client key=value...');
}
