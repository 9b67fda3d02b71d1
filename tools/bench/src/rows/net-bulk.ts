// bulk, raw node:net: the client writes `bytes` bytes in `chunk`-byte writes (respecting
// backpressure) and half-closes; the sink counts bytes and, at EOF, answers with the count as
// one line. The time runs from connect to that answer, so every byte has reached the sink.
import net from 'node:net';
import { connectTarget, fail, intParam, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl } from './common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted += 1;
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.on('end', () => socket.end(`${received}\n`));
    socket.on('error', () => socket.destroy());
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server);
} else if (args.role === 'client') {
  const total = intParam(args, 'bytes');
  const chunk = Buffer.alloc(intParam(args, 'chunk'), 0x78);
  const socket = net.connect({ ...connectTarget(args), allowHalfOpen: true });
  socket.on('error', (error) => fail(`client: ${error.message}`));
  let sent = 0;
  let start = 0n;
  let reply = '';
  const writeSome = (): void => {
    while (sent < total) {
      const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
      sent += piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', writeSome);
        return;
      }
    }
    socket.end();
  };
  socket.on('connect', () => {
    start = process.hrtime.bigint();
    writeSome();
  });
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    reply += text;
  });
  socket.on('end', () => {
    const seconds = secondsSince(start);
    if (Number(reply.trim()) !== total) fail(`client: sink counted ${reply.trim()} bytes, ${total} were sent`);
    printResult({ bytes: total, seconds });
  });
} else {
  fail('usage: net-bulk.js server|client key=value...');
}
