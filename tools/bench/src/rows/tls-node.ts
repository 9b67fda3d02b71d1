// The TLS workloads, raw node:tls (the baseline): raw-stream.ts's pingpong and bulk loops (the
// same code as net-pingpong and net-bulk) over tls.createServer and tls.connect, verifying the
// certificate and the name `localhost`; handshakes: connect, wait for secureConnect, end.
import type net from 'node:net';
import tls from 'node:tls';
import { fail, intParam, parseRowArgs, printResult, strParam, timedSteps, warmupParam } from './common.js';
import type { RowArgs } from './common.js';
import { runRawClient, serveRaw } from './raw-stream.js';
import type { RawTransport } from './raw-stream.js';
import { checkFullHandshake, tlsFiles, tlsKind } from './tls-common.js';

const args = parseRowArgs();
const files = tlsFiles();

/**
 * The client's secure context, made once as a real client does (a `ca` given to each
 * tls.connect would make Node parse the CA and build a new context per connection).
 */
let clientContext: tls.SecureContext | undefined;

const tlsTransport: RawTransport = {
  createServer: (options, onSocket) =>
    tls.createServer({ ...options, cert: files.certPem, key: files.keyPem }, (socket) => {
      socket.setNoDelay(true);
      onSocket(socket);
    }),
  connect: (rowArgs: RowArgs, options: { allowHalfOpen: boolean }): Promise<net.Socket> => {
    clientContext ??= tls.createSecureContext({ ca: files.certPem });
    const secureContext = clientContext;
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: strParam(rowArgs, 'host', '127.0.0.1'), port: intParam(rowArgs, 'port'), servername: 'localhost', secureContext, ...options }, () => {
        checkFullHandshake(s);
        resolve(s);
      });
      s.setNoDelay(true);
      s.once('error', reject);
    });
  },
  backlog: 1024,
};

if (args.role === 'server') {
  const kind = tlsKind(args);
  serveRaw(tlsTransport, kind === 'bulk' ? 'bulk' : 'pingpong');
} else if (args.role === 'client') {
  const kind = tlsKind(args);
  if (kind === 'handshakes') {
    const n = intParam(args, 'handshakes');
    const seconds = await timedSteps(warmupParam(args), n, async () => {
      const s = await tlsTransport.connect(args, { allowHalfOpen: false });
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        s.resume();
      });
    });
    printResult({ ops: n, seconds });
  } else {
    await runRawClient(args, tlsTransport, kind);
  }
} else {
  fail('usage: tls-node.js server|client key=value...');
}
