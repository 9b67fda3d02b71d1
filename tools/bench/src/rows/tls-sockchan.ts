// The TLS workloads, the full sockchan stack: `tls.server` on 127.0.0.1 and `tls.socket`
// (happy eyeballs, then TLS verifying `localhost`). The loops are channel-loops.ts's.
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { tls } from 'sockchan';
import { fail, intParam, parseRowArgs, serveControl, strParam } from './common.js';
import type { TLSSocket } from 'node:tls';
import { checkFullHandshake, runTlsChannelClient, serveTlsChannel, tlsFiles } from './tls-common.js';

const args = parseRowArgs();
const files = tlsFiles();

if (args.role === 'server') {
  let accepted = 0;
  const srv = await tls.server(
    (chan) => {
      accepted += 1;
      serveTlsChannel(args, chan);
    },
    0,
    { myaddr: '127.0.0.1', backlog: 1024, reverseLookup: false, nodelay: true, certfile: files.cert, keyfile: files.key },
  );
  serveControl(new EventEmitter() as unknown as Server, () => accepted);
  process.stdout.write(`READY ${srv.port}\n`);
} else if (args.role === 'client') {
  // The certificate names localhost and 127.0.0.1: connect to the address, verify the name.
  // The CA bytes are read once and passed as `ca` (a `cafile` would be read on every call).
  const options = { reverseLookup: false, nodelay: true, ca: files.certPem, servername: 'localhost' };
  await runTlsChannelClient(args, async () => {
    const ch = await tls.socket(strParam(args, 'host', '127.0.0.1'), intParam(args, 'port'), options);
    checkFullHandshake(ch.socket as TLSSocket);
    return ch;
  });
} else {
  fail('usage: tls-sockchan.js server|client key=value...');
}
