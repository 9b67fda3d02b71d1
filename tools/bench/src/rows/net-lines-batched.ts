// lines, raw node:net hand-tuned past gets/puts (the `node:net batched` row, a reference, not the
// baseline): pipelined line echo where no line becomes a value of its own. The client writes
// `count` lines of 40 bytes in ~4 KiB batches (respecting backpressure) while it counts the
// echoes by their newlines, without taking any line out; the server finds each line end
// (indexOf '\n' on a latin1 string) and writes the echoes of one chunk with one write of their
// joined text. net-lines.ts, the baseline, takes every line as a string and writes it.
import net from 'node:net';
import { fail, intParam, lineBatches, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './common.js';

const args = parseRowArgs();

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
      let out = '';
      while ((nl = pending.indexOf('\n', start)) >= 0) {
        out += pending.slice(start, nl + 1);
        start = nl + 1;
      }
      pending = pending.slice(start);
      if (out !== '' && !socket.write(out, 'latin1')) {
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
  fail('usage: net-lines-batched.js server|client key=value...');
}
