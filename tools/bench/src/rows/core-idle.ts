// idle, @sockchan/core server: wraps every accepted socket in a nonblocking Channel and keeps it
// open with a readable handler (what a real Tcl-style server has), so the measured cost per
// connection is the socket's plus the Channel's (and this row's Set entry for it).
import { Channel } from '@sockchan/core';
import { idleReadable } from './channel-loops.js';
import { countingServer, fail, parseRowArgs } from './common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: core-idle.js server');
const channels = new Set<Channel>();
const onReadable = idleReadable((ch) => channels.delete(ch));
countingServer(
  (socket) => {
    const ch = new Channel(socket, { blocking: false });
    ch.onReadable(onReadable);
    channels.add(ch);
  },
  {},
  1024,
);
