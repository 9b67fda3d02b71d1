// The TLS workloads, raw node:tls (the baseline): tls.createServer and tls.connect (verifying
// the certificate and the name `localhost`), lines split by hand as in net-pingpong, bytes
// counted as in net-bulk; handshakes: connect, wait for secureConnect, end.
import tls from 'node:tls';
import { fail, intParam, listenAndAnnounce, parseRowArgs, printResult, secondsSince, serveControl, strParam } from './common.js';
import { checkFullHandshake, tlsFiles, tlsKind } from './tls-common.js';

const args = parseRowArgs();
const files = tlsFiles();

/**
 * The client's secure context, made once as a real client does (a `ca` given to each
 * tls.connect would make Node parse the CA and build a new context per connection).
 */
let clientContext: tls.SecureContext | undefined;

function connect(): Promise<tls.TLSSocket> {
  clientContext ??= tls.createSecureContext({ ca: files.certPem });
  const secureContext = clientContext;
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: strParam(args, 'host', '127.0.0.1'), port: intParam(args, 'port'), servername: 'localhost', secureContext }, () => {
      checkFullHandshake(s);
      resolve(s);
    });
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

if (args.role === 'server') {
  let accepted = 0;
  const bulk = tlsKind(args) === 'bulk';
  const server = tls.createServer({ cert: files.certPem, key: files.keyPem, allowHalfOpen: true }, (socket) => {
    accepted += 1;
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    if (bulk) {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on('end', () => socket.end(`${received}\n`));
      return;
    }
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
  });
  serveControl(server, () => accepted);
  listenAndAnnounce(server, 1024);
} else if (args.role === 'client') {
  const kind = tlsKind(args);
  if (kind === 'handshakes') {
    const n = intParam(args, 'handshakes');
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const s = await connect();
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        s.resume();
      });
    }
    printResult({ ops: n, seconds: secondsSince(start) });
  } else if (kind === 'bulk') {
    const total = intParam(args, 'bytes');
    const chunk = Buffer.alloc(intParam(args, 'chunk'), 0x78);
    const socket = await connect();
    const start = process.hrtime.bigint();
    let sent = 0;
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      reply += text;
    });
    socket.on('end', () => {
      const seconds = secondsSince(start);
      if (Number(reply.trim()) !== total) fail(`client: sink counted ${reply.trim()} bytes, ${total} were sent`);
      printResult({ bytes: total, seconds });
      socket.end();
    });
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
    writeSome();
  } else {
    const count = intParam(args, 'count');
    const line = `${strParam(args, 'line', 'ping')}\n`;
    const socket = await connect();
    socket.setEncoding('latin1');
    let done = 0;
    let pending = '';
    const start = process.hrtime.bigint();
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
    socket.write(line, 'latin1');
  }
} else {
  fail('usage: tls-node.js server|client key=value...');
}
