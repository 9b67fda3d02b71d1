// pingpong, @sockchan/core Channel over net.Socket: the server echoes each line (gets, puts,
// flush); the client sends one short line and waits for its echo (puts, flush, gets), `count` times.
// Same wire traffic as tools/bench's net-pingpong (latin1-safe ASCII lines, LF).
import process from 'node:process';
import net from 'node:net';
import { Channel } from '@sockchan/core';
import { connect, fail, intParam, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './protocol.mjs';

const args = parseRowArgs();
const options = { translation: 'lf', encoding: 'iso8859-1' };

if (args.role === 'server') {
  let accepted = 0;
  const server = net.createServer(async (socket) => {
    accepted += 1;
    socket.setNoDelay(true);
    const ch = new Channel(socket, options);
    try {
      for (;;) {
        const line = await ch.gets();
        if (line === null) break;
        await ch.puts(line);
        await ch.flush();
      }
    } catch {
      // peer gone
    }
    await ch.close().catch(() => undefined);
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server);
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const line = strParam(args, 'line', 'ping');
  const socket = await connect(net, strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'));
  socket.setNoDelay(true);
  const ch = new Channel(socket, options);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    await ch.puts(line);
    await ch.flush();
    const echo = await ch.gets();
    if (echo !== line) fail(`client: echo differs: ${JSON.stringify(echo)}`);
  }
  printResult({ ops: count, seconds: secondsSince(start) });
  await ch.close();
} else {
  fail('usage: core-pingpong.mjs server|client key=value...');
}
