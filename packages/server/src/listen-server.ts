/**
 * The two steps every listener of this package takes with a `net.Server`, whatever it listens
 * on (addresses, a Unix path, an inherited descriptor): Node's server options from the checked
 * listen options, and starting the server with the outcome as a promise.
 */
import type net from 'node:net';
import type { Server, ServerOpts } from 'node:net';
import type { CheckedOptions } from './options.js';

/**
 * Node's `net.Server` options for `cfg`; `tcp` adds the TCP-only socket options (`noDelay`,
 * `keepAlive`) that a Unix-domain server must not pass.
 * @internal
 */
export function nodeServerOptions(cfg: CheckedOptions, tcp: boolean): ServerOpts {
  return {
    allowHalfOpen: cfg.allowHalfOpen,
    ...(cfg.pauseOnConnect ? { pauseOnConnect: true } : {}),
    ...(tcp && cfg.noDelay ? { noDelay: true } : {}),
    ...(tcp && cfg.keepAlive ? { keepAlive: true } : {}),
  };
}

/**
 * Starts `server` listening (on an address, a path, or an inherited descriptor `{ fd }`, whose
 * backlog Node takes only as an argument); resolves once listening, rejects with the listen
 * error (the server closed).
 * @internal
 */
export function listenServer(server: Server, options: net.ListenOptions | { readonly fd: number; readonly backlog: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.removeListener('listening', onListening);
      server.close();
      reject(err);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if ('fd' in options) server.listen({ fd: options.fd }, options.backlog);
    else server.listen(options);
  });
}
