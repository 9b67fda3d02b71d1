// bulk, @sockchan/core Channel over net.Socket, -translation binary: the client writes `bytes`
// bytes with puts of `chunk`-byte Buffers and half-closes; the sink (nonblocking, readable handler) reads with readBytes until
// EOF and answers with the count as one line. Same traffic as tools/bench's net-bulk.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import net from 'node:net';
import { Channel } from '@sockchan/core';
import { connect, fail, intParam, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './protocol.mjs';

const args = parseRowArgs();

if (args.role === 'server') {
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted += 1;
    // Event-driven sink, as in Tcl: a nonblocking channel whose readable handler takes what is
    // there; at EOF it answers with the count.
    const ch = new Channel(socket, { translation: 'binary', blocking: false });
    let received = 0;
    ch.onReadable(async (c) => {
      // Like Tcl's [read $chan], take everything there: readBytes() gives one buffered chunk at
      // a time, and one chunk per event would let the backlog grow while the socket delivers
      // several chunks per turn of the event loop.
      for (;;) {
        const chunk = await c.readBytes();
        received += chunk.length;
        if (chunk.length === 0 || c.pending('input') === 0) break;
      }
      if (c.eof()) {
        c.onReadable(null);
        c.configure({ blocking: true });
        await c.puts(String(received));
        await c.close();
      }
    });
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server);
} else if (args.role === 'client') {
  const total = intParam(args, 'bytes');
  const chunk = Buffer.alloc(intParam(args, 'chunk'), 0x78);
  const socket = await connect(net, strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'), { allowHalfOpen: true });
  const ch = new Channel(socket, { translation: 'binary' });
  const start = process.hrtime.bigint();
  let sent = 0;
  while (sent < total) {
    const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
    sent += piece.length;
    await ch.puts(piece, { nonewline: true });
  }
  await ch.close('write');
  const reply = await ch.gets();
  const seconds = secondsSince(start);
  if (Number(reply) !== total) fail(`client: sink counted ${String(reply)} bytes, ${total} were sent`);
  printResult({ bytes: total, seconds });
  await ch.close();
} else {
  fail('usage: core-bulk.mjs server|client key=value...');
}
