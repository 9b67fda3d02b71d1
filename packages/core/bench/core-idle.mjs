// idle, @sockchan/core server: wraps every accepted socket in a Channel and keeps it open with a
// readable handler (what a real Tcl-style server has), so the measured cost per connection is
// the socket's plus the Channel's.
import net from 'node:net';
import { Channel } from '@sockchan/core';
import { fail, listenAndAnnounce, parseRowArgs, serveControl } from './protocol.mjs';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: core-idle.mjs server');
let accepted = 0;
const channels = new Set();
function onReadable(ch) {
  // Idle connections carry no data; at EOF the channel is closed.
  return ch.read().then(() => {
    if (ch.eof()) {
      channels.delete(ch);
      return ch.close();
    }
    return undefined;
  });
}
const server = net.createServer((socket) => {
  accepted += 1;
  const ch = new Channel(socket, { blocking: false });
  ch.onReadable(onReadable);
  channels.add(ch);
});
serveControl(server, () => accepted);
listenAndAnnounce(server, 1024);
