// pingpong, @sockchan/core: a core Channel over a raw net.Socket (setNoDelay on both ends) at
// each end, running the pingpong loops of channel-loops.ts: the server echoes each line from a
// nonblocking readable handler (tryGets/tryPuts, -buffering line), as the tclsh row's server
// does; the client sends one short line and waits for its echo (puts, flush, gets), `count`
// times. Same wire traffic as net-pingpong (ASCII lines, LF). The client's socket is made with
// `Channel.onread` (reads go straight to the channel), as sockchan's `socket` makes its sockets;
// the server's accepted sockets cannot be (net.Server has no onread), as in sockchan's server.
import { Channel } from '@sockchan/core';
import { lineOptions, pingpongClient, pingpongServer } from './channel-loops.js';
import { connectSocket, countingServer, fail, parseRowArgs } from './common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  countingServer((socket) => {
    socket.setNoDelay(true);
    return pingpongServer(new Channel(socket, lineOptions));
  });
} else if (args.role === 'client') {
  const run = pingpongClient(args);
  const socket = await connectSocket(args, { onread: Channel.onread });
  socket.setNoDelay(true);
  await run(new Channel(socket, lineOptions));
} else {
  fail('usage: core-pingpong.js server|client key=value...');
}
