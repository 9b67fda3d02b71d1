// The two raw node:net lines rows, written once: net-lines.ts (the baseline, `per-line`) and
// net-lines-batched.ts (the `node:net batched` reference, `batched`) differ only in how the
// server echoes a chunk's lines and how the client takes the echoes; see those scripts.
import net from 'node:net';
import { countingServer, fail, intParam, lineBatches, parseRowArgs, printResult, secondsSince, strParam } from './common.js';

/**
 * `per-line`: every line is taken as a string and written with its newline (one `write()` per
 * line, corked for the chunk); the client takes every echoed line as a string. `batched`: the
 * echoes of a chunk are joined and written with one `write()`; the client counts newlines.
 */
export type NetLinesStyle = 'per-line' | 'batched';

/** Every line of lineBatches() is 39 characters before its newline. */
const LINE_LENGTH = 39;

/** Echoes the whole lines at the start of `pending`; returns the index after the last one. */
function echoLines(socket: net.Socket, pending: string, style: NetLinesStyle): { end: number; room: boolean } {
  let start = 0;
  let nl: number;
  if (style === 'batched') {
    let out = '';
    while ((nl = pending.indexOf('\n', start)) >= 0) {
      out += pending.slice(start, nl + 1);
      start = nl + 1;
    }
    return { end: start, room: out === '' || socket.write(out, 'latin1') };
  }
  let room = true;
  socket.cork();
  while ((nl = pending.indexOf('\n', start)) >= 0) {
    const line = pending.slice(start, nl);
    start = nl + 1;
    room = socket.write(line + '\n', 'latin1');
  }
  socket.uncork();
  return { end: start, room };
}

/** Counts (and, `per-line`, takes and checks) the whole echoed lines in `pending`. */
function takeEchoes(pending: string, style: NetLinesStyle, before: number): { end: number; lines: number } {
  let begin = 0;
  let lines = 0;
  let nl: number;
  while ((nl = pending.indexOf('\n', begin)) >= 0) {
    if (style === 'per-line') {
      const line = pending.slice(begin, nl);
      if (line.length !== LINE_LENGTH) fail(`client: echoed line ${before + lines + 1} is ${JSON.stringify(line)}`);
    }
    lines += 1;
    begin = nl + 1;
  }
  return { end: begin, lines };
}

/** Runs the row script's role (`server` or `client`) in the given style. */
export function runNetLines(style: NetLinesStyle, script: string): void {
  const args = parseRowArgs();
  if (args.role === 'server') {
    countingServer((socket) => {
      socket.setEncoding('latin1');
      let pending = '';
      socket.on('data', (chunk: string) => {
        pending += chunk;
        const { end, room } = echoLines(socket, pending, style);
        pending = pending.slice(end);
        if (!room) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      });
      socket.on('end', () => socket.end());
      socket.on('error', () => socket.destroy());
    });
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
      const { end, lines } = takeEchoes(pending, style, received);
      received += lines;
      pending = pending.slice(end);
      if (received >= count) {
        if (received > count) fail(`client: ${received} lines came back for ${count} sent`);
        printResult({ ops: received, seconds: secondsSince(start) });
        socket.end();
      }
    });
  } else {
    fail(`usage: ${script} server|client key=value...`);
  }
}
