// lines, the full sockchan stack: `socket.server` and `socket` channels running the lines loops
// of channel-loops.ts with `tryGets`/`tryPuts` (api `try`): pipelined line echo, the server
// flushing whenever no more input is buffered (as a Tcl server does); the client writes `count`
// 40-byte lines in ~4 KiB batches while it counts the echoes. Same traffic as net-lines.
import { lineOptions, linesClient, linesServer } from './channel-loops.js';
import { fail, parseRowArgs } from './common.js';
import { sockchanConnect, sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  await sockchanServer((chan) => {
    chan.configure(lineOptions);
    return linesServer(chan, 'try');
  });
} else if (args.role === 'client') {
  const run = linesClient(args, 'try');
  const ch = await sockchanConnect(args);
  ch.configure(lineOptions);
  await run(ch);
} else {
  fail('usage: sockchan-lines.js server|client key=value...');
}
