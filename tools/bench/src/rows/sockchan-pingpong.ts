// pingpong, the full sockchan stack: `socket.server` and `socket` channels (with Tcl 9's
// -nodelay on both ends) running the pingpong loops of channel-loops.ts: the server echoes each
// line from a nonblocking readable handler (tryGets/tryPuts, -buffering line), as the tclsh
// row's server does; the client sends one short line and waits for its echo, `count`
// times. Same wire traffic as net-pingpong (ASCII lines, LF).
import { lineOptions, pingpongClient, pingpongServer } from './channel-loops.js';
import { fail, parseRowArgs } from './common.js';
import { sockchanConnect, sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
const options = { ...lineOptions, nodelay: true } as const;

if (args.role === 'server') {
  await sockchanServer((chan) => {
    chan.configure(options);
    return pingpongServer(chan);
  });
} else if (args.role === 'client') {
  const run = pingpongClient(args);
  const ch = await sockchanConnect(args);
  ch.configure(options);
  await run(ch);
} else {
  fail('usage: sockchan-pingpong.js server|client key=value...');
}
