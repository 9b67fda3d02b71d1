// pingpong, raw node:net: the server echoes each line; the client sends one short line and
// waits for its echo, `count` times. Lines are split by hand (indexOf '\n' on a latin1 string).
import net from 'node:net';
import { connectTarget, fail, intParam, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './common.js';

const args = parseRowArgs();

if (args.role === 'server') {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let start = 0;
      let nl: number;
      while ((nl = pending.indexOf('\n', start)) >= 0) {
        socket.write(pending.slice(start, nl + 1), 'latin1');
        start = nl + 1;
      }
      pending = pending.slice(start);
    });
    socket.on('error', () => socket.destroy());
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server);
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const line = `${strParam(args, 'line', 'ping')}\n`;
  const socket = net.connect(connectTarget(args));
  socket.setNoDelay(true);
  socket.setEncoding('latin1');
  socket.on('error', (error) => fail(`client: ${error.message}`));
  let done = 0;
  let pending = '';
  let start = 0n;
  socket.on('connect', () => {
    start = process.hrtime.bigint();
    socket.write(line, 'latin1');
  });
  socket.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      if (pending.slice(0, nl + 1) !== line) fail(`client: echo differs: ${JSON.stringify(pending.slice(0, nl + 1))}`);
      pending = pending.slice(nl + 1);
      done += 1;
      if (done === count) {
        printResult({ ops: done, seconds: secondsSince(start) });
        socket.end();
        return;
      }
      socket.write(line, 'latin1');
    }
  });
} else {
  fail('usage: net-pingpong.js server|client key=value...');
}
