import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CleanupList, closeAll, closeServer, destroySocket, freePort, listenEphemeral } from '../src/index.js';

const cleanup = new CleanupList();
afterEach(() => cleanup.closeAll());

function connect(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function listenOn(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

describe('freePort', () => {
  it.each(['127.0.0.1', '::1'])('gives a port that can be bound on %s', async (host) => {
    const port = await freePort(host);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    const server = cleanup.add(await listenOn(port, host));
    expect((server.address() as net.AddressInfo).port).toBe(port);
  });

  it('gives a port nothing listens on (a connect is refused)', async () => {
    const port = await freePort();
    await expect(connect(port, '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('defaults to 127.0.0.1', async () => {
    const port = await freePort();
    const server = cleanup.add(await listenOn(port, '127.0.0.1'));
    expect(server.listening).toBe(true);
  });
});

describe('listenEphemeral', () => {
  it('listens on an ephemeral IPv6 port and reports address and family', async () => {
    const { server, port, address, family } = await listenEphemeral({ host: '::1' });
    cleanup.add(server);
    expect(address).toBe('::1');
    expect(family).toBe(6);
    const client = cleanup.add(await connect(port, '::1'));
    expect(client.remotePort).toBe(port);
  });

  it('calls onConnection for accepted sockets', async () => {
    let onAccepted: (socket: net.Socket) => void = () => undefined;
    const accepted = new Promise<net.Socket>((resolve) => {
      onAccepted = resolve;
    });
    const { server, port } = await listenEphemeral({ onConnection: (socket) => onAccepted(socket) });
    cleanup.add(server);
    const client = cleanup.add(await connect(port, '127.0.0.1'));
    const socket = await accepted;
    expect(socket.remotePort).toBe(client.localPort);
  });

  it('rejects when the port is taken', async () => {
    const { server, port } = await listenEphemeral();
    cleanup.add(server);
    await expect(listenEphemeral({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('closeAll', () => {
  it('closes a server even while a client keeps its connection open', async () => {
    const { server, port } = await listenEphemeral();
    const client = await connect(port, '127.0.0.1');
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => undefined);
    await closeAll(server);
    expect(server.listening).toBe(false);
    // The server's side was destroyed, so the client sees the end.
    await clientClosed;
    await expect(connect(port, '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes sockets, fixtures with dispose/stop/close, and skips null/undefined', async () => {
    const { server, port } = await listenEphemeral();
    cleanup.add(server);
    const socket = await connect(port, '127.0.0.1');
    const calls: string[] = [];
    await closeAll(
      socket,
      null,
      undefined,
      { dispose: () => calls.push('dispose') },
      { stop: () => Promise.resolve(calls.push('stop')) },
      { close: () => calls.push('close') },
    );
    expect(socket.destroyed).toBe(true);
    expect(calls.sort()).toEqual(['close', 'dispose', 'stop']);
  });

  it('attempts every item and rethrows failures together', async () => {
    const { server } = await listenEphemeral();
    const boom = new Error('boom');
    const other = new Error('other');
    const error = await closeAll({ dispose: () => Promise.reject(boom) }, server, { close: () => Promise.reject(other) }).catch((e: unknown) => e);
    expect(server.listening).toBe(false);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([boom, other]);
    await expect(closeAll({ close: () => Promise.reject(boom) })).rejects.toBe(boom);
  });

  it('closeServer and destroySocket resolve at once on things already closed', async () => {
    const { server, port } = await listenEphemeral();
    const socket = await connect(port, '127.0.0.1');
    await destroySocket(socket);
    await destroySocket(socket);
    await closeServer(server);
    await closeServer(server);
    expect(server.listening).toBe(false);
  });
});
