import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** Servers and sockets a test opened; `closeAll` in afterEach. */
export class Opened {
  readonly servers: Server[] = [];
  readonly sockets: Socket[] = [];

  /** Listens on host:port (0: any), accepting and keeping connections open until closed. */
  listen(host: string, port = 0): Promise<Server> {
    const server = createServer((socket) => {
      this.sockets.push(socket);
      socket.on('error', () => undefined);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }

  /** One port with a listener on ::1 and on 127.0.0.1 (retries if the second is taken). */
  async listenBoth(): Promise<number> {
    for (let tries = 0; tries < 20; tries += 1) {
      const first = await this.listen('::1');
      const port = portOf(first);
      try {
        await this.listen('127.0.0.1', port);
        return port;
      } catch {
        await closeServer(first);
      }
    }
    throw new Error('no port free on both ::1 and 127.0.0.1');
  }

  /** A port nothing listens on (bound once by the OS, then released). */
  async freePort(host = '127.0.0.1'): Promise<number> {
    const s = await this.listen(host);
    const port = portOf(s);
    await closeServer(s);
    return port;
  }

  track(socket: Socket): Socket {
    this.sockets.push(socket);
    return socket;
  }

  async closeAll(): Promise<void> {
    for (const s of this.sockets.splice(0)) s.destroy();
    await Promise.all(this.servers.splice(0).map(closeServer));
  }
}

export function portOf(server: Server): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('server not listening on a port');
  return a.port;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
