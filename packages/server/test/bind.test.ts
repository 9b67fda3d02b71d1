import { describe, expect, it } from 'vitest';
import { BindFailure, MAX_PORT_ZERO_ROUNDS, bindAll } from '../src/bind.js';
import type { BindOne, BoundSocket } from '../src/bind.js';

/** A scripted binder: `decide(address, port, round)` says which port to bind or which errno to fail with. */
class FakeBinder {
  readonly calls: { address: string; port: number }[] = [];
  readonly open = new Set<FakeSocket>();
  nextPort = 40000;
  constructor(readonly decide: (address: string, port: number, call: number) => string | undefined) {}
  bind: BindOne<FakeSocket> = (address, port) => {
    this.calls.push({ address, port });
    const failure = this.decide(address, port, this.calls.length);
    if (failure !== undefined) {
      return Promise.reject(Object.assign(new Error(failure), { code: failure }));
    }
    const socket = new FakeSocket(port === 0 ? this.nextPort++ : port, this.open);
    this.open.add(socket);
    return Promise.resolve(socket);
  };
}

class FakeSocket implements BoundSocket {
  constructor(
    readonly port: number,
    readonly registry: Set<FakeSocket>,
  ) {}
  close(): void {
    this.registry.delete(this);
  }
}

describe('bindAll', () => {
  it('gives every address the port the first bind chose', async () => {
    const b = new FakeBinder(() => undefined);
    const r = await bindAll(['0.0.0.0', '::'], 0, b.bind);
    expect(r.port).toBe(40000);
    expect(b.calls).toEqual([
      { address: '0.0.0.0', port: 0 },
      { address: '::', port: 40000 },
    ]);
    expect(r.bound.map((x) => x.socket.port)).toEqual([40000, 40000]);
    expect(r.rounds).toBe(1);
  });

  it('starts the whole set over on a fresh port when a later address finds the port taken', async () => {
    // Round 1: :: is taken on 40000. Round 2: both bind on 40001.
    const b = new FakeBinder((address, port) => (address === '::' && port === 40000 ? 'EADDRINUSE' : undefined));
    const r = await bindAll(['0.0.0.0', '::'], 0, b.bind);
    expect(r.rounds).toBe(2);
    expect(r.port).toBe(40001);
    expect(r.bound.map((x) => [x.address, x.socket.port])).toEqual([
      ['0.0.0.0', 40001],
      ['::', 40001],
    ]);
    // The socket of the abandoned round was released: only the two final ones are open.
    expect([...b.open].map((s) => s.port)).toEqual([40001, 40001]);
  });

  it('gives up after Tcl\'s 10 rounds with "address in use", leaving nothing bound', async () => {
    const b = new FakeBinder((address) => (address === '::' ? 'EADDRINUSE' : undefined));
    const failure = await bindAll(['0.0.0.0', '::'], 0, b.bind).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BindFailure);
    expect((failure as BindFailure).rounds).toBe(MAX_PORT_ZERO_ROUNDS);
    expect(((failure as BindFailure).cause as { code: string }).code).toBe('EADDRINUSE');
    expect(b.calls).toHaveLength(2 * MAX_PORT_ZERO_ROUNDS);
    expect(b.open.size).toBe(0);
  });

  it('skips an address that fails for another reason (port 0 stays shared)', async () => {
    const b = new FakeBinder((address) => (address === '192.0.2.1' ? 'EADDRNOTAVAIL' : undefined));
    const r = await bindAll(['127.0.0.1', '192.0.2.1', '::1'], 0, b.bind);
    expect(r.bound.map((x) => x.address)).toEqual(['127.0.0.1', '::1']);
    expect(r.rounds).toBe(1);
  });

  it('with a fixed port skips taken addresses as long as one binds', async () => {
    const b = new FakeBinder((address) => (address === '0.0.0.0' ? 'EADDRINUSE' : undefined));
    const r = await bindAll(['0.0.0.0', '::'], 8080, b.bind);
    expect(r.bound.map((x) => x.address)).toEqual(['::']);
    expect(b.calls).toHaveLength(2);
  });

  it('reports the first failure when no address binds', async () => {
    const b = new FakeBinder((_address, _port, call) => (call === 1 ? 'EADDRINUSE' : 'EAFNOSUPPORT'));
    const failure = (await bindAll(['0.0.0.0', '::'], 8080, b.bind).catch((e: unknown) => e)) as BindFailure;
    expect((failure.cause as { code: string }).code).toBe('EADDRINUSE');
    expect(failure.rounds).toBe(1);
  });

  it('fails with no cause for an empty address list', async () => {
    const b = new FakeBinder(() => undefined);
    const failure = (await bindAll([], 0, b.bind).catch((e: unknown) => e)) as BindFailure;
    expect(failure).toBeInstanceOf(BindFailure);
    expect(b.calls).toHaveLength(0);
  });
});
