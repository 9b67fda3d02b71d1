// idle, the full sockchan stack: `socket.server` keeps every accepted channel open, nonblocking
// with the readable handler of channel-loops.ts (what a real Tcl-style server has), so the
// measured cost per connection is the socket's plus the channel's.
import { fail, parseRowArgs } from './common.js';
import { idleChannel } from './idle-servers.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: sockchan-idle.js server');
await sockchanServer(idleChannel, 1024);
