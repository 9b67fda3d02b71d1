// pingpong, the full sockchan stack: `socket.server` echoes each line (gets, puts, flush); the
// `socket` client sends one short line and waits for its echo (puts, flush, gets), `count` times.
// Same wire traffic as net-pingpong (ASCII lines, LF) with Tcl 9's -nodelay on both ends.
import { socket } from 'sockchan';
import { fail, intParam, parseRowArgs, printResult, secondsSince, strParam } from './common.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
const options = { translation: 'lf', encoding: 'iso8859-1', nodelay: true } as const;

if (args.role === 'server') {
  await sockchanServer(async (chan) => {
    chan.configure(options);
    try {
      for (;;) {
        const line = await chan.gets();
        if (line === null) break;
        await chan.puts(line);
        await chan.flush();
      }
    } catch {
      // peer gone
    }
    await chan.close().catch(() => undefined);
  });
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const line = strParam(args, 'line', 'ping');
  const ch = await socket(strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'), { reverseLookup: false });
  ch.configure(options);
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
  fail('usage: sockchan-pingpong.js server|client key=value...');
}
