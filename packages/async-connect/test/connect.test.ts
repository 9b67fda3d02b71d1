// Real sockets on loopback; names come from the private hosts table (run under with-test-names).
import { getEventListeners } from 'node:events';
import { connect as netConnect } from 'node:net';
import type { Socket, TcpNetConnectOpts } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { ConnectHistory, HappyEyeballs, checkConnectArguments, clearHistory, connect, defaultHistory, isConnectError } from '../src/index.js';
import type { Attempt, ConnectError, ConnectOptions, Family } from '../src/index.js';
import { connectWithClock } from '../src/connect.js';
import { Opened, VirtualClock, portOf } from './helpers.js';

const opened = new Opened();
beforeEach(() => clearHistory());
afterEach(() => opened.closeAll());

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    if (isConnectError(err)) return err;
    throw err;
  }
  throw new Error('connect succeeded but should have failed');
}

describe('connect on loopback', () => {
  it('connects to a literal IPv4 address without the resolver', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const resolver = (): Promise<string[]> => Promise.reject(new Error('resolver must not be called'));
    const { socket, attempts } = await connect('127.0.0.1', port, { resolver });
    opened.track(socket);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(socket.remotePort).toBe(port);
    expect(attempts).toMatchObject([{ id: 1, address: '127.0.0.1', family: 4, port, outcome: 'connected' }]);
  });

  it('connects to a literal IPv6 address, brackets accepted', async () => {
    const port = portOf(await opened.listen('::1'));
    const { socket, attempts } = await connect('[::1]', String(port));
    opened.track(socket);
    expect(socket.remoteAddress).toBe('::1');
    expect(attempts.map((a) => a.address)).toEqual(['::1']);
  });

  it('localhost with a dual-stack server connects through ::1 in one attempt', async () => {
    const port = await opened.listenBoth();
    const { socket, attempts } = await connect('localhost', port);
    opened.track(socket);
    expect(socket.remoteAddress).toBe('::1');
    expect(attempts).toHaveLength(1);
  });

  it('a refused ::1 falls back to 127.0.0.1 at once', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    // A clock that never moves: the 250 ms timer cannot be what starts the second attempt.
    const clock = new VirtualClock();
    const { socket, attempts } = await connectWithClock('dual.test', port, { useHistory: false }, clock);
    opened.track(socket);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(attempts.map((a) => [a.address, a.outcome, a.code])).toEqual([
      ['::1', 'failed', 'ECONNREFUSED'],
      ['127.0.0.1', 'connected', undefined],
    ]);
    expect(clock.fired).toBe(0);
    expect(clock.armed).toEqual([]);
  });

  it('an IPv4-mapped answer and its IPv4 address are one attempt, as IPv4 (custom resolver)', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const resolver = (_host: string, family: Family): Promise<string[]> =>
      Promise.resolve(family === 6 ? ['::ffff:127.0.0.1', '::FFFF:7F00:1'] : ['127.0.0.1']);
    const { socket, attempts } = await connect('mapped.test', port, { resolver, useHistory: false });
    opened.track(socket);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(attempts.map((a) => [a.address, a.family, a.outcome])).toEqual([['127.0.0.1', 4, 'connected']]);
    const err = await failure(connect('mapped.test', await opened.freePort(), { resolver, useHistory: false }));
    expect(err.attempts.map((a) => a.address)).toEqual(['127.0.0.1']);
  });

  it('a literal IPv4-mapped host stays IPv6, as in Tcl', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const { socket, attempts } = await connect('::ffff:127.0.0.1', port);
    opened.track(socket);
    expect(attempts.map((a) => [a.address, a.family, a.outcome])).toEqual([['::ffff:127.0.0.1', 6, 'connected']]);
  });

  it('remembers the winner: the second connect tries 127.0.0.1 first', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const history = new ConnectHistory();
    const first = await connect('dual.test', port, { history });
    opened.track(first.socket);
    expect(first.attempts).toHaveLength(2);
    expect(history.get('dual.test', performance.now())).toEqual({ family: 4, address: '127.0.0.1' });
    const second = await connect('dual.test', port, { history });
    opened.track(second.socket);
    expect(second.attempts.map((a) => a.address)).toEqual(['127.0.0.1']);
    const off = await connect('dual.test', port, { history, useHistory: false });
    opened.track(off.socket);
    expect(off.attempts.map((a) => a.address)).toEqual(['::1', '127.0.0.1']);
  });

  it('clearHistory empties the shared history', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    opened.track((await connect('dual.test', port)).socket);
    expect(defaultHistory.size).toBe(1);
    clearHistory();
    expect(defaultHistory.size).toBe(0);
    const again = await connect('dual.test', port);
    opened.track(again.socket);
    expect(again.attempts).toHaveLength(2);
  });

  it('v6only.test is tried as ::1 only, as Tcl does (no 127.0.0.1 from glibc mapping)', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const err = await failure(connect('v6only.test', port));
    expect(err.message).toBe("couldn't open socket: connection refused");
    expect(err.attempts.map((a) => a.address)).toEqual(['::1']);
  });
});

describe('allowHalfOpen', () => {
  it('true keeps our side writable after the peer half-closes; the default ends it', async () => {
    const server = await opened.listen('127.0.0.1');
    const port = portOf(server);
    server.on('connection', (peer) => {
      peer.end('bye\n'); // FIN at once
    });
    for (const allowHalfOpen of [true, false]) {
      const { socket } = await connect('127.0.0.1', port, { allowHalfOpen });
      opened.track(socket);
      await new Promise<void>((resolve) => {
        socket.on('end', () => resolve());
        socket.resume();
      });
      expect(socket.writable).toBe(allowHalfOpen);
    }
  });
});

describe('onread', () => {
  it("is given to the attempt's socket: reads come to its callback, not to 'data'", async () => {
    const server = await opened.listen('127.0.0.1');
    server.on('connection', (peer) => peer.end('via onread\n'));
    const reads: string[] = [];
    const onread = {
      buffer: Buffer.alloc(1024),
      callback: (n: number, buf: Uint8Array): boolean => {
        reads.push(Buffer.from(buf.subarray(0, n)).toString('latin1'));
        return true;
      },
    };
    const { socket } = await connect('127.0.0.1', portOf(server), { onread });
    opened.track(socket);
    let dataEvents = 0;
    socket.on('data', () => (dataEvents += 1));
    await new Promise<void>((resolve) => socket.on('end', () => resolve()));
    expect(reads.join('')).toBe('via onread\n');
    expect(dataEvents).toBe(0);
  });
});

describe('createSocket', () => {
  it("makes every attempt's socket from net.connect's options; the winner keeps the factory's listeners", async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const made: { options: TcpNetConnectOpts; socket: Socket }[] = [];
    const factoryErrors: Error[] = [];
    const createSocket = (options: TcpNetConnectOpts): Socket => {
      const socket = netConnect(options);
      // A listener of the socket's maker (TLS has its own): the connector must leave it.
      socket.on('error', (err) => factoryErrors.push(err));
      made.push({ options: { ...options }, socket });
      return socket;
    };
    const clock = new VirtualClock();
    const { socket, attempts } = await connectWithClock('dual.test', port, { useHistory: false, allowHalfOpen: true, createSocket }, clock);
    opened.track(socket);
    // ::1 refused, then 127.0.0.1: two sockets made, with the attempts' addresses.
    expect(made.map((m) => [m.options.host, m.options.port, m.options.family, m.options.allowHalfOpen])).toEqual([
      ['::1', port, 6, true],
      ['127.0.0.1', port, 4, true],
    ]);
    expect(made[1]?.socket).toBe(socket);
    expect(attempts.map((a) => [a.address, a.outcome])).toEqual([
      ['::1', 'failed'],
      ['127.0.0.1', 'connected'],
    ]);
    // The loser's refusal reached the factory's listener too; the winner keeps exactly that one.
    expect(factoryErrors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ECONNREFUSED']);
    expect(getEventListeners(socket, 'error')).toHaveLength(1);
    expect(getEventListeners(socket, 'connect')).toHaveLength(0);
  });

  it('a createSocket that is not a function is refused before anything starts', async () => {
    const bad = { createSocket: 'net.connect' } as unknown as ConnectOptions;
    expect(() => checkConnectArguments('127.0.0.1', 1, bad)).toThrow('expected a function for createSocket but got "net.connect"');
    await expect(connect('127.0.0.1', 1, bad)).rejects.toMatchObject({ code: 'ERR_SOCKCHAN_ARGS' });
  });

  it('a createSocket that throws fails its attempt, in Tcl words', async () => {
    const createSocket = (): Socket => {
      throw Object.assign(new Error('no sockets today'), { code: 'EMFILE' });
    };
    const err = await failure(connect('127.0.0.1', 1, { createSocket }));
    expect(err.code).toBe('EMFILE');
    expect(err.attempts.map((a) => [a.address, a.outcome])).toEqual([['127.0.0.1', 'failed']]);
  });
});

describe('errors', () => {
  it('everything refused: Tcl text, errorCode, every attempt, AggregateError cause', async () => {
    const port = await opened.freePort();
    const err = await failure(connect('dual.test', port));
    expect(err).toBeInstanceOf(SockchanError);
    expect(err.message).toBe("couldn't open socket: connection refused");
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errorCode).toEqual(['POSIX', 'ECONNREFUSED', 'connection refused']);
    expect(err.attempts.map((a: Attempt) => [a.address, a.outcome, a.message])).toEqual([
      ['::1', 'failed', 'connection refused'],
      ['127.0.0.1', 'failed', 'connection refused'],
    ]);
    expect(err.cause).toBeInstanceOf(AggregateError);
    const cause = err.cause as AggregateError;
    expect(cause.errors).toHaveLength(2);
    expect(cause.message).toContain(`[::1]:${port} connection refused`);
    expect(cause.message).toContain(`127.0.0.1:${port} connection refused`);
  });

  it("each attempt's log has the local end the kernel gave its socket (boundAddress, boundPort)", async () => {
    const port = await opened.freePort();
    const err = await failure(connect('dual.test', port));
    const ends = err.attempts.map((a: Attempt) => [a.address, a.boundAddress]);
    expect(ends).toEqual([
      ['::1', '::1'],
      ['127.0.0.1', '127.0.0.1'],
    ]);
    for (const a of err.attempts) {
      expect(a.boundPort).toBeGreaterThan(0);
      expect(a.boundPort).not.toBe(port);
      expect(a.localPort).toBeUndefined(); // nothing was asked for
    }
  });

  it('unknown host: Name or service not known, errorCode NONE, no attempts', async () => {
    const err = await failure(connect('nosuch.test', 80));
    expect(err.message).toBe("couldn't open socket: Name or service not known");
    expect(err.errorCode).toEqual(['NONE']);
    expect(err.attempts).toEqual([]);
    // The resolver's own errors, one per family, are kept.
    expect((err.cause as AggregateError).errors.map((e: { code?: string }) => e.code)).toEqual(['ENOTFOUND', 'ENOTFOUND']);
  });

  it('a resolver that throws synchronously is a failed lookup, not a crash', async () => {
    const resolver = (): Promise<string[]> => {
      throw new Error('resolver bug');
    };
    const err = await failure(connect('any.test', 80, { resolver }));
    expect(err.message).toBe("couldn't open socket: Name or service not known");
    expect((err.cause as AggregateError).errors.map((e: Error) => e.message)).toEqual(['resolver bug', 'resolver bug']);
  });

  it('an abort keeps the history; a failure forgets it', async () => {
    const history = new ConnectHistory();
    history.record('hang.test', { family: 4, address: '127.0.0.1' }, performance.now());
    const resolver = (): Promise<string[]> => new Promise<string[]>(() => undefined);
    await failure(connect('hang.test', 80, { resolver, history, signal: AbortSignal.timeout(20) }));
    expect(history.size).toBe(1);
    await failure(connect('hang.test', 80, { resolver, history, connectTimeout: 20 }));
    expect(history.size).toBe(0);
  });

  it('myaddr of the other family: host is unreachable before any connect', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const err = await failure(connect('127.0.0.1', port, { myaddr: '::1' }));
    expect(err.message).toBe("couldn't open socket: host is unreachable");
    expect(err.errorCode).toEqual(['POSIX', 'EHOSTUNREACH', 'host is unreachable']);
    expect(err.attempts).toEqual([]);
  });

  it('an empty host is an unknown host, as in Tcl', async () => {
    const err = await failure(connect('', 80));
    expect(err.message).toBe("couldn't open socket: Name or service not known");
  });

  it('an unknown myaddr name fails like an unknown host', async () => {
    const err = await failure(connect('127.0.0.1', 1, { myaddr: 'nosuch.test' }));
    expect(err.message).toBe("couldn't open socket: Name or service not known");
  });

  it('bad arguments reject with Tcl texts; checkConnectArguments throws them synchronously', async () => {
    await expect(connect('localhost', 'nope')).rejects.toThrow('expected integer but got "nope"');
    await expect(connect('localhost', 70000)).rejects.toThrow("couldn't open socket: port number too high");
    await expect(connect('localhost', 80, { connectionAttemptDelay: 5 })).rejects.toThrow('bad connectionAttemptDelay "5"');
    expect(() => checkConnectArguments('localhost', 80, { myport: 'nope' })).toThrow('expected integer but got "nope"');
    expect(checkConnectArguments('[::1]', '0x50', { myport: 0 })).toEqual({ host: '::1', port: 80, localPort: undefined });
  });
});

describe('myaddr and myport', () => {
  it('myaddr 127.0.0.1 to dual.test: only IPv4 is tried, bound to it', async () => {
    const port = await opened.listenBoth();
    const { socket, attempts } = await connect('dual.test', port, { myaddr: '127.0.0.1' });
    opened.track(socket);
    expect(socket.localAddress).toBe('127.0.0.1');
    expect(attempts).toMatchObject([{ address: '127.0.0.1', localAddress: '127.0.0.1', outcome: 'connected' }]);
  });

  it('myaddr as a name with both families works against either', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const { socket, attempts } = await connect('dual.test', port, { myaddr: 'localhost', useHistory: false });
    opened.track(socket);
    expect(attempts.map((a) => [a.address, a.localAddress, a.outcome])).toEqual([
      ['::1', '::1', 'failed'],
      ['127.0.0.1', '127.0.0.1', 'connected'],
    ]);
  });

  it('myport across several attempts: no false "address already in use"', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const myport = await opened.freePort();
    const { socket, attempts } = await connect('dual.test', port, { myport, useHistory: false });
    opened.track(socket);
    expect(socket.localPort).toBe(myport);
    expect(attempts.map((a) => [a.address, a.code ?? a.outcome])).toEqual([
      ['::1', 'ECONNREFUSED'],
      ['127.0.0.1', 'connected'],
    ]);
  });

  it('a myaddr that is not local: cannot assign requested address (bind fails, nothing is sent)', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const err = await failure(connect('127.0.0.1', port, { myaddr: '192.0.2.99' }));
    expect(err.message).toBe("couldn't open socket: cannot assign requested address");
    expect(err.attempts.map((a) => [a.address, a.localAddress, a.code])).toEqual([['127.0.0.1', '192.0.2.99', 'EADDRNOTAVAIL']]);
  });

  it('myport held by a listener: address already in use', async () => {
    const busy = portOf(await opened.listen('127.0.0.1'));
    const target = portOf(await opened.listen('127.0.0.1'));
    const err = await failure(connect('127.0.0.1', target, { myaddr: '127.0.0.1', myport: busy }));
    expect(err.message).toBe("couldn't open socket: address already in use");
    expect(err.errorCode).toEqual(['POSIX', 'EADDRINUSE', 'address already in use']);
  });
});

describe('abort, timeout, resolver, events', () => {
  it('an already aborted signal rejects before anything starts', async () => {
    const err = await failure(connect('localhost', 1, { signal: AbortSignal.abort(new Error('stop')) }));
    expect(err.code).toBe('ERR_SOCKCHAN_ABORTED');
    expect(err.message).toBe("couldn't open socket: operation canceled");
    expect((err.cause as Error).message).toBe('stop');
  });

  it('abort while resolving rejects at once', async () => {
    const controller = new AbortController();
    let asked = 0;
    const resolver = (): Promise<string[]> => {
      asked += 1;
      if (asked === 2) queueMicrotask(() => controller.abort());
      return new Promise<string[]>(() => undefined);
    };
    const err = await failure(connect('hang.test', 80, { resolver, signal: controller.signal }));
    expect(err.code).toBe('ERR_SOCKCHAN_ABORTED');
    expect(asked).toBe(2);
  });

  it('connectTimeout bounds a resolver that never answers', async () => {
    const resolver = (): Promise<string[]> => new Promise<string[]>(() => undefined);
    const clock = new VirtualClock();
    const armed = clock.nextArmed();
    let settled = false;
    const pending = failure(connectWithClock('hang.test', 80, { resolver, connectTimeout: 100 }, clock)).finally(() => (settled = true));
    expect(await armed).toBe(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    // Fired a little early by the clock, as a real timer may: it is still the deadline.
    clock.fire(99.6);
    const err = await pending;
    expect(err.message).toBe("couldn't open socket: connection timed out");
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.attempts).toEqual([]);
    expect(clock.armed).toEqual([]);
  });

  it('a timer that fires early: the machine is fed its due time, then never an earlier time (issue 15 a)', async () => {
    const port = await opened.freePort();
    const clock = new VirtualClock();
    let answerAAAA: ((addresses: string[]) => void) | undefined;
    const resolver = (_host: string, family: Family): Promise<string[]> =>
      family === 4 ? Promise.resolve(['127.0.0.1']) : new Promise<string[]>((resolve) => (answerAAAA = resolve));
    // Every `now` the driver feeds the machine, in order (the real methods still run).
    const fed: number[] = [];
    for (const name of ['start', 'resolved', 'attemptSucceeded', 'attemptFailed', 'timerFired', 'cancel'] as const) {
      const original = HappyEyeballs.prototype[name] as (...args: unknown[]) => unknown;
      vi.spyOn(HappyEyeballs.prototype, name).mockImplementation(function (this: HappyEyeballs, ...args: unknown[]) {
        fed.push(args.at(-1) as number);
        return original.apply(this, args) as never;
      });
    }
    try {
      let ended!: () => void;
      const attemptEnded = new Promise<void>((resolve) => (ended = resolve));
      const onAttempt = (a: Attempt): void => {
        if (a.outcome !== 'pending') ended();
      };
      const armed = clock.nextArmed();
      const pending = failure(connectWithClock('early.test', port, { resolver, useHistory: false, onAttempt }, clock));
      // A answered, AAAA did not: the Resolution Delay (50 ms) is armed; it fires 0.25 ms early.
      expect(await armed).toBe(50);
      clock.fire(49.75);
      await attemptEnded; // 127.0.0.1 refused, the clock still at 49.75
      answerAAAA?.([]);
      const err = await pending;
      expect(err.attempts).toMatchObject([{ address: '127.0.0.1', outcome: 'failed', code: 'ECONNREFUSED', startedAt: 50, endedAt: 50 }]);
      expect(fed).toEqual([0, 0, 50, 50, 50]);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('50 connects sharing one AbortSignal: one listener on it, no warning; the abort ends each; no listener stays (issue 15 b)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const port = portOf(await opened.listen('127.0.0.1'));
      const controller = new AbortController();
      const { signal } = controller;
      const hang = (): Promise<string[]> => new Promise<string[]>(() => undefined);
      const waiting = Array.from({ length: 40 }, (_, i) => failure(connect(`hang${i}.test`, 80, { resolver: hang, signal })));
      const connecting = Array.from({ length: 10 }, () => connect('127.0.0.1', port, { signal }));
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      for (const { socket } of await Promise.all(connecting)) opened.track(socket);
      // The ten that connected are gone from the signal; the forty waiting still listen through one.
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      controller.abort(new Error('batch deadline'));
      const errors = await Promise.all(waiting);
      expect(errors.map((e) => e.code)).toEqual(new Array<string>(40).fill('ERR_SOCKCHAN_ABORTED'));
      expect(errors.every((e) => (e.cause as Error).message === 'batch deadline')).toBe(true);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      // A second batch on a signal that is never aborted leaves nothing on it either.
      const quiet = new AbortController().signal;
      const all = await Promise.all(Array.from({ length: 50 }, () => connect('127.0.0.1', port, { signal: quiet })));
      for (const { socket } of all) opened.track(socket);
      expect(getEventListeners(quiet, 'abort')).toHaveLength(0);
      // Node emits its warning on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an injected resolver is used per family, in parallel', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const asked: string[] = [];
    const resolver = (host: string, family: 4 | 6): Promise<string[]> => {
      asked.push(`${host}/${family}`);
      return Promise.resolve(family === 6 ? ['::1'] : ['127.0.0.1']);
    };
    const { socket, attempts } = await connect('custom.example', port, { resolver, useHistory: false });
    opened.track(socket);
    expect(asked).toEqual(['custom.example/6', 'custom.example/4']);
    expect(attempts.map((a) => a.address)).toEqual(['::1', '127.0.0.1']);
  });

  it('onAttempt sees each attempt start and end, in order', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const events: string[] = [];
    const { socket } = await connect('dual.test', port, { useHistory: false, onAttempt: (a) => events.push(`${a.id} ${a.address} ${a.outcome}`) });
    opened.track(socket);
    expect(events).toEqual(['1 ::1 pending', '1 ::1 failed', '2 127.0.0.1 pending', '2 127.0.0.1 connected']);
  });

  it('a throwing onAttempt does not break the connect', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    // Caught here, so the expected warning is checked without printing it in the test output.
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { socket } = await connect('127.0.0.1', port, {
        onAttempt: () => {
          throw new Error('observer bug');
        },
      });
      opened.track(socket);
      const warnings = emitWarning.mock.calls.map((call) => String(call[0]));
      expect(warnings.some((w) => w.includes('observer bug'))).toBe(true);
      expect(emitWarning.mock.calls.every((call) => (call as unknown[])[1] === 'SockchanWarning')).toBe(true);
    } finally {
      emitWarning.mockRestore();
    }
  });
});
