// idle, the full sockchan stack: `socket.server` keeps every accepted channel open, nonblocking
// with a readable handler (what a real Tcl-style server has), so the measured cost per
// connection is the socket's plus the channel's.
import type { Channel } from 'sockchan';
import { fail, parseRowArgs } from './common.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: sockchan-idle.js server');
// A module-level handler: the measured cost is the channel's, not that of a closure per channel.
function onReadable(ch: Channel): Promise<void> {
  // Idle connections carry no data; at EOF the channel is closed.
  return ch.read().then(() => (ch.eof() ? ch.close() : undefined));
}
await sockchanServer((chan) => {
  chan.configure({ blocking: false });
  chan.onReadable(onReadable);
}, 1024);
