// lines, the full sockchan stack: pipelined line echo. The `socket.server` side reads lines and
// echoes them with full buffering, flushing whenever no more input is buffered (as a Tcl server
// does; tryGets/tryPuts take buffered lines without a promise each); the `socket` client writes
// `count` 40-byte lines in ~4 KiB batches while it counts the echoes. Same traffic as net-lines.
import { socket } from 'sockchan';
import { fail, intParam, parseRowArgs, printResult, secondsSince, strParam } from './common.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
const options = { translation: 'lf', encoding: 'iso8859-1' } as const;

function makeLine(i: number): string {
  return `line ${String(i).padStart(6, '0')} abcdefghijklmnopqrstuvwxyz0\n`;
}

if (args.role === 'server') {
  await sockchanServer(async (chan) => {
    chan.configure(options);
    try {
      for (;;) {
        let line = chan.tryGets();
        if (line === undefined) {
          await chan.flush();
          line = await chan.gets();
        }
        if (line === null) break;
        if (!chan.tryPuts(line)) await chan.flush();
      }
      await chan.flush();
    } catch {
      // peer gone
    }
    await chan.close().catch(() => undefined);
  });
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const perBatch = 100;
  const batches: string[] = [];
  for (let b = 0; b < 10; b += 1) {
    let text = '';
    for (let i = 0; i < perBatch; i += 1) text += makeLine(b * perBatch + i);
    batches.push(text);
  }
  const ch = await socket(strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'), { reverseLookup: false });
  ch.configure(options);
  const start = process.hrtime.bigint();
  const writer = (async () => {
    let sent = 0;
    while (sent < count) {
      const n = Math.min(perBatch, count - sent);
      const batch = batches[(sent / perBatch) % batches.length | 0] ?? '';
      await ch.puts(n === perBatch ? batch : batch.slice(0, n * 40), { nonewline: true });
      sent += n;
    }
    await ch.flush();
  })();
  let received = 0;
  while (received < count) {
    const line = ch.tryGets() ?? (await ch.gets());
    if (line === null) fail(`client: EOF after ${received} lines`);
    received += 1;
  }
  await writer;
  printResult({ ops: received, seconds: secondsSince(start) });
  await ch.close();
} else {
  fail('usage: sockchan-lines.js server|client key=value...');
}
