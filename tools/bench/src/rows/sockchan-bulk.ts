// bulk, the full sockchan stack, -translation binary: the `socket` client writes `bytes` bytes
// with puts of `chunk`-byte Buffers and half-closes (close write); the `socket.server` sink
// (nonblocking, readable handler, as in Tcl) reads until EOF and answers with the count.
import { socket } from 'sockchan';
import type { SocketChannel } from 'sockchan';
import { fail, intParam, parseRowArgs, printResult, secondsSince, strParam } from './common.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  await sockchanServer((chan) => {
    chan.configure({ translation: 'binary', blocking: false });
    let received = 0;
    chan.onReadable(async (c) => {
      const ch = c as SocketChannel;
      // Like Tcl's [read $chan] in a readable handler: take everything buffered now
      // (nonblocking readBytes() hands over one queued chunk per call).
      for (;;) {
        const chunk = await ch.readBytes();
        if (chunk.length === 0) break;
        received += chunk.length;
      }
      if (ch.eof()) {
        ch.onReadable(null);
        ch.configure({ blocking: true });
        await ch.puts(String(received));
        await ch.close();
      }
    });
  });
} else if (args.role === 'client') {
  const total = intParam(args, 'bytes');
  const chunk = Buffer.alloc(intParam(args, 'chunk'), 0x78);
  const ch = await socket(strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'), { reverseLookup: false });
  ch.configure({ translation: 'binary' });
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
  fail('usage: sockchan-bulk.js server|client key=value...');
}
