// pingpong, raw node:net written with `await` (the `node:net await` row, a reference, not the
// baseline): the same traffic as net-pingpong.ts, but each end takes every line through a
// promise (`await nextLine()`), as any promise-based line API does; no channel, no buffering
// beyond the hand-split string. It measures what one promise per line costs against the
// callback baseline, next to the channel rows (which await gets, puts and flush).
import net from 'node:net';
import { countingServer, fail, intParam, parseRowArgs, printResult, secondsSince, strParam, warmupParam } from './common.js';

/** Hand-split lines of a latin1 socket, one promise per line that has to be waited for. */
class LineReader {
  private pending = '';
  private waiting: ((line: string | null) => void) | undefined;
  private ended = false;

  constructor(socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.pending += chunk;
      if (this.waiting !== undefined && this.pending.indexOf('\n') >= 0) this.settle();
    });
    socket.on('end', () => {
      this.ended = true;
      if (this.waiting !== undefined) this.settle();
    });
  }

  nextLine(): Promise<string | null> {
    if (this.pending.indexOf('\n') >= 0 || this.ended) return Promise.resolve(this.take());
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  private settle(): void {
    const resolve = this.waiting!;
    this.waiting = undefined;
    resolve(this.take());
  }

  private take(): string | null {
    const nl = this.pending.indexOf('\n');
    if (nl < 0) return null;
    const line = this.pending.slice(0, nl);
    this.pending = this.pending.slice(nl + 1);
    return line;
  }
}

const args = parseRowArgs();

if (args.role === 'server') {
  countingServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    const reader = new LineReader(socket);
    void (async () => {
      for (;;) {
        const line = await reader.nextLine();
        if (line === null) break;
        socket.write(`${line}\n`, 'latin1');
      }
      socket.end();
    })();
  });
} else if (args.role === 'client') {
  const count = intParam(args, 'count');
  const line = strParam(args, 'line', 'ping');
  const socket = net.connect({ host: strParam(args, 'host', '127.0.0.1'), port: intParam(args, 'port') });
  socket.setNoDelay(true);
  socket.on('error', (error) => fail(`client: ${error.message}`));
  await new Promise((resolve) => socket.once('connect', resolve));
  const reader = new LineReader(socket);
  const roundTrips = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      socket.write(`${line}\n`, 'latin1');
      const echo = await reader.nextLine();
      if (echo !== line) fail(`client: echo differs: ${JSON.stringify(echo)}`);
    }
  };
  // The first `warmup` round trips are not timed (see warmupParam).
  await roundTrips(warmupParam(args));
  const start = process.hrtime.bigint();
  await roundTrips(count);
  printResult({ ops: count, seconds: secondsSince(start) });
  socket.end();
} else {
  fail('usage: net-pingpong-await.js server|client key=value...');
}
