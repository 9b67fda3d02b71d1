// The TLS workloads, @sockchan/tls over core channels: a net.Server whose sockets get
// startServer's TLS and then a core Channel; the client connects with connectClient (tls.connect
// to the address with Channel.onread, verifying the name `localhost`) and a core Channel. The loops are
// channel-loops.ts's.
import type net from 'node:net';
import { Channel } from '@sockchan/core';
import { checkTlsOptions, connectClient, startServer } from '@sockchan/tls';
import { connectTarget, countingServer, fail, parseRowArgs } from './common.js';
import { checkFullHandshake, runTlsChannelClient, serveTlsChannel, tlsFiles } from './tls-common.js';

const args = parseRowArgs();
const files = tlsFiles();

if (args.role === 'server') {
  const checked = checkTlsOptions({ certfile: files.cert, keyfile: files.key }, 'server');
  countingServer(
    (socket: net.Socket) => {
      socket.setNoDelay(true);
      const session = startServer(socket, checked, '');
      session.handshake.then(
        () => serveTlsChannel(args, new Channel(session.socket)),
        () => undefined,
      );
    },
    { allowHalfOpen: true },
    1024,
  );
} else if (args.role === 'client') {
  // Checked once (one secure context for every connection), with the CA bytes read once.
  const checked = checkTlsOptions({ ca: files.certPem }, 'client');
  await runTlsChannelClient(args, async () => {
    const target = connectTarget(args);
    if (!('host' in target)) fail('the TLS rows run over TCP');
    // Channel.onread: the decrypted bytes go straight to the channel (no 'data' event).
    const session = connectClient({ ...target, allowHalfOpen: true, onread: Channel.onread }, checked, 'localhost', "couldn't open socket: ");
    session.socket.setNoDelay(true);
    await session.handshake;
    checkFullHandshake(session.socket);
    return new Channel(session.socket);
  });
} else {
  fail('usage: tls-core.js server|client key=value...');
}
