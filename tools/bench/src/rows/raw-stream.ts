// The raw Node rows' two loops, written once for every transport: net-pingpong and net-bulk
// (node:net over TCP or a Unix-domain socket) and tls-node (node:tls), so the TLS baseline does
// exactly what the TCP one does and only the transport differs.
// pingpong: the server echoes each line; the client sends one short line and waits for its echo,
// `count` times. Lines are split by hand (indexOf '\n' on a latin1 string).
// bulk: the client writes `bytes` bytes in `chunk`-byte writes (respecting backpressure) and
// half-closes; the sink counts bytes and, at EOF, answers with the count as one line. The time
// runs from the connection being ready to that answer, so every byte has reached the sink.
import net from 'node:net';
import { bulkPlan, connectSocket, fail, intParam, listenAndAnnounce, printResult, secondsSince, serveControl, strParam, warmupParam } from './common.js';
import type { RowArgs } from './common.js';

/** How a raw row listens and connects: node:net, or node:tls with its certificate and trust. */
export interface RawTransport {
  /** A server (not yet listening) whose handler gets each connection once it can carry data. */
  createServer(options: net.ServerOpts, onSocket: (socket: net.Socket) => void): net.Server;
  /** Connects to the row's target; resolves once the socket can carry data (TLS: handshake done, server verified). */
  connect(args: RowArgs, options: { allowHalfOpen: boolean }): Promise<net.Socket>;
  /** The server's listen backlog. */
  readonly backlog: number;
}

/** node:net, over TCP or (under SOCKCHAN_BENCH_UNIX) a Unix-domain socket. */
export const netTransport: RawTransport = {
  createServer: (options, onSocket) => net.createServer(options, onSocket),
  connect: (args, options) => connectSocket(args, options),
  backlog: 511,
};

function echoLines(socket: net.Socket): void {
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
  socket.on('end', () => socket.end());
}

function countBytes(socket: net.Socket): void {
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  socket.on('end', () => socket.end(`${received}\n`));
}

/** A raw row's server: echo (pingpong) or sink (bulk) on every connection; READY and the control protocol. */
export function serveRaw(transport: RawTransport, kind: 'pingpong' | 'bulk'): void {
  let accepted = 0;
  const server = transport.createServer({ allowHalfOpen: true }, (socket) => {
    accepted += 1;
    socket.on('error', () => socket.destroy());
    if (kind === 'bulk') countBytes(socket);
    else echoLines(socket);
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server, transport.backlog);
}

function pingpong(args: RowArgs, socket: net.Socket): void {
  const count = intParam(args, 'count');
  // The first `warmup` round trips are not timed (see warmupParam).
  const warmup = warmupParam(args);
  const line = `${strParam(args, 'line', 'ping')}\n`;
  socket.setNoDelay(true);
  socket.setEncoding('latin1');
  let done = -warmup;
  let pending = '';
  let start = process.hrtime.bigint();
  socket.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      if (pending.slice(0, nl + 1) !== line) fail(`client: echo differs: ${JSON.stringify(pending.slice(0, nl + 1))}`);
      pending = pending.slice(nl + 1);
      done += 1;
      // Read after every warm-up round trip, the last time at the warm-up's end (see warmupParam).
      if (done <= 0) start = process.hrtime.bigint();
      if (done === count) {
        printResult({ ops: done, seconds: secondsSince(start) });
        socket.end();
        return;
      }
      socket.write(line, 'latin1');
    }
  });
  socket.write(line, 'latin1');
}

function bulk(args: RowArgs, socket: net.Socket): void {
  const { timed, warmup, total, piece: pieceAfter } = bulkPlan(args);
  let start = 0n;
  let sent = 0;
  let reply = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    reply += text;
  });
  socket.on('end', () => {
    const seconds = secondsSince(start);
    if (Number(reply.trim()) !== total) fail(`client: sink counted ${reply.trim()} bytes, ${total} were sent`);
    printResult({ bytes: timed, seconds });
  });
  const writeSome = (): void => {
    while (sent < total) {
      // Read on every warm-up write, the last time at the warm-up's end (see warmupParam).
      if (sent <= warmup) start = process.hrtime.bigint();
      const piece = pieceAfter(sent);
      sent += piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', writeSome);
        return;
      }
    }
    socket.end();
  };
  writeSome();
}

/** A raw row's client: connects, then runs pingpong or bulk and prints its RESULT. */
export async function runRawClient(args: RowArgs, transport: RawTransport, kind: 'pingpong' | 'bulk'): Promise<void> {
  const socket = await transport.connect(args, { allowHalfOpen: true }).catch((error: unknown) => fail(`client: ${(error as Error).message}`));
  socket.on('error', (error) => fail(`client: ${error.message}`));
  if (kind === 'bulk') bulk(args, socket);
  else pingpong(args, socket);
}
