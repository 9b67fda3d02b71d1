// accept, the full sockchan stack: `socket.server` whose callback closes each channel at once
// (Tcl's `close $chan` in the accept callback).
import { fail, parseRowArgs } from './common.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: sockchan-accept.js server');
await sockchanServer((chan) => chan.close(), 1024);
