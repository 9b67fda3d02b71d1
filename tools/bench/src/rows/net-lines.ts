// lines, raw node:net: the hand-split gets/puts baseline of pipelined line echo. What a Node
// program does with gets/puts by hand: the server splits each chunk into lines (indexOf '\n' on
// a latin1 string), takes every line as a string (gets) and writes it with its newline (puts:
// one write per line), corked for the chunk so the kernel sees one write per chunk, as a
// full-buffered Tcl channel flushed when its input is drained; the client writes `count` lines
// of 40 bytes in ~4 KiB batches (respecting backpressure) and takes every echoed line as a
// string, checking its length. This baseline runs about 1.9x tclsh, as the core issue expects;
// net-lines-batched.ts (the `node:net batched` row) skips the per-line strings and writes.
import net from 'node:net';
import { fail, intParam, lineBatches, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './common.js';

const args = parseRowArgs();
/** Every line of lineBatches() is 39 characters before its newline. */
const LINE_LENGTH = 39;

if (args.role === 'server') {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    socket.setEncoding('latin1');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let start = 0;
      let nl: number;
      let room = true;
      socket.cork();
      while ((nl = pending.indexOf('\n', start)) >= 0) {
        const line = pending.slice(start, nl);
        start = nl + 1;
        room = socket.write(line + '\n', 'latin1');
      }
      socket.uncork();
      pending = pending.slice(start);
      if (!room) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server);
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const perBatch = 100;
  const batches = lineBatches(perBatch);
  const socket = net.connect({ host: strParam(args, 'host', '127.0.0.1'), port: intParam(args, 'port') });
  socket.setEncoding('latin1');
  socket.on('error', (error) => fail(`client: ${error.message}`));
  let sent = 0;
  let received = 0;
  let pending = '';
  let start = 0n;
  const writeSome = (): void => {
    while (sent < count) {
      const n = Math.min(perBatch, count - sent);
      const batch = batches[(sent / perBatch) % batches.length | 0]!;
      const text = n === perBatch ? batch : batch.slice(0, n * 40);
      sent += n;
      if (!socket.write(text, 'latin1')) {
        socket.once('drain', writeSome);
        return;
      }
    }
  };
  socket.on('connect', () => {
    start = process.hrtime.bigint();
    writeSome();
  });
  socket.on('data', (chunk: string) => {
    pending += chunk;
    let begin = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', begin)) >= 0) {
      const line = pending.slice(begin, nl);
      if (line.length !== LINE_LENGTH) fail(`client: echoed line ${received + 1} is ${JSON.stringify(line)}`);
      received += 1;
      begin = nl + 1;
    }
    pending = pending.slice(begin);
    if (received >= count) {
      if (received > count) fail(`client: ${received} lines came back for ${count} sent`);
      printResult({ ops: received, seconds: secondsSince(start) });
      socket.end();
    }
  });
} else {
  fail('usage: net-lines.js server|client key=value...');
}
