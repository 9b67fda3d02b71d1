// A literal address without myaddr is connected by LiteralConnect, not the happy-eyeballs
// machine. Each case runs twice on loopback, with one virtual clock per run: to the literal, and
// to a name whose resolver answers that one address (the machine decides then). What the caller
// sees must be the same: attempts, onAttempt calls, the error's words, code, errorCode and cause.
import { Socket, connect as netConnect } from 'node:net';
import type { TcpNetConnectOpts } from 'node:net';
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HappyEyeballs, isConnectError } from '../src/index.js';
import type { Attempt, ConnectOptions, ConnectResult, Family } from '../src/index.js';
import { connectWithClock } from '../src/connect.js';
import { Opened, VirtualClock, portOf } from './helpers.js';

const opened = new Opened();
afterEach(async () => {
  vi.restoreAllMocks();
  await opened.closeAll();
});

/** A resolver that answers `address` for its family and nothing for the other, as a literal has. */
function only(address: string): (host: string, family: Family) => Promise<string[]> {
  const family = address.includes(':') ? 6 : 4;
  return (_host, asked) => Promise.resolve(asked === family ? [address] : []);
}

/** The kernel's ephemeral port differs between runs: its presence is what must agree. */
function normal(a: Attempt): Record<string, unknown> {
  return { ...a, ...(a.boundPort === undefined ? {} : { boundPort: typeof a.boundPort }) };
}

interface Seen {
  readonly result?: ConnectResult;
  readonly error?: { message: string; code: string; errorCode: unknown; attempts: unknown[]; cause: string };
  readonly observed: Record<string, unknown>[];
  readonly machineStarted: boolean;
}

/** Runs a connect with its own clock; `drive` may move the clock or abort once it is under way. */
async function run(
  host: string,
  port: number,
  options: ConnectOptions,
  drive?: (clock: VirtualClock) => Promise<void>,
): Promise<Seen> {
  const observed: Record<string, unknown>[] = [];
  const start = vi.spyOn(HappyEyeballs.prototype, 'start');
  const clock = new VirtualClock();
  const pending = connectWithClock(host, port, { useHistory: false, ...options, onAttempt: (a) => observed.push(normal(a)) }, clock);
  await drive?.(clock);
  const machineStarted = start.mock.calls.length > 0;
  start.mockRestore();
  try {
    const result = await pending;
    opened.track(result.socket);
    return { result, observed, machineStarted };
  } catch (err) {
    if (!isConnectError(err)) throw err;
    const cause = err.cause instanceof AggregateError ? `AggregateError ${err.cause.errors.length}: ${err.cause.message}` : String(err.cause);
    return {
      error: { message: err.message, code: err.code, errorCode: err.errorCode, attempts: err.attempts.map(normal), cause },
      observed,
      machineStarted,
    };
  }
}

/** The same connect to the literal and to a name answering it; both results, checked alike. */
async function both(address: string, port: number, options: ConnectOptions = {}, drive?: (clock: VirtualClock) => Promise<void>): Promise<[Seen, Seen]> {
  const literal = await run(address.includes(':') ? `[${address}]` : address, port, options, drive);
  const named = await run('one.test', port, { ...options, resolver: only(address) }, drive);
  expect(literal.machineStarted).toBe(false);
  expect(named.machineStarted).toBe(true);
  expect(literal.observed).toEqual(named.observed);
  expect(literal.error).toEqual(named.error);
  expect(literal.result?.attempts.map(normal)).toEqual(named.result?.attempts.map(normal));
  return [literal, named];
}

/** A socket that never connects (a SYN into the void), for timeouts and aborts. */
function neverConnects(made: Socket[]): (options: TcpNetConnectOpts) => Socket {
  return () => {
    const s = new Socket();
    made.push(s);
    return s;
  };
}

describe('a literal address connects without the machine, reporting what the machine reports', () => {
  it('connected, IPv4 and IPv6: the attempt, the observer, the listeners left on the socket', async () => {
    for (const address of ['127.0.0.1', '::1']) {
      const port = portOf(await opened.listen(address));
      const [literal, named] = await both(address, port, { allowHalfOpen: true });
      const a = literal.result?.attempts[0];
      expect(a).toMatchObject({ id: 1, address, family: address.includes(':') ? 6 : 4, port, startedAt: 0, endedAt: 0, outcome: 'connected' });
      expect(a?.boundAddress).toBe(address);
      expect(a?.boundPort).toBe(literal.result?.socket.localPort);
      expect(literal.observed.map((o) => o['outcome'])).toEqual(['pending', 'connected']);
      // The documented order of an attempt's fields, the local end last, from either driver.
      for (const seen of [literal, named]) {
        expect(Object.keys(seen.result?.attempts[0] ?? {})).toEqual(['id', 'address', 'family', 'port', 'startedAt', 'endedAt', 'outcome', 'boundAddress', 'boundPort']);
      }
      for (const seen of [literal, named]) {
        const socket = seen.result?.socket as Socket;
        expect(socket.remotePort).toBe(port);
        expect(socket.allowHalfOpen).toBe(true);
        expect([getEventListeners(socket, 'connect').length, getEventListeners(socket, 'error').length]).toEqual([0, 0]);
      }
    }
  });

  it('refused: Tcl words, errno, the attempt with its local end, the AggregateError', async () => {
    const port = await opened.freePort();
    const [literal] = await both('127.0.0.1', port);
    expect(literal.error).toMatchObject({ message: "couldn't open socket: connection refused", code: 'ECONNREFUSED', errorCode: ['POSIX', 'ECONNREFUSED', 'connection refused'] });
    expect(literal.error?.attempts).toMatchObject([{ outcome: 'failed', code: 'ECONNREFUSED', message: 'connection refused', boundAddress: '127.0.0.1' }]);
    expect(Object.keys(literal.error?.attempts[0] as object)).toEqual(['id', 'address', 'family', 'port', 'startedAt', 'endedAt', 'outcome', 'code', 'message', 'boundAddress', 'boundPort']);
    expect(literal.error?.cause).toBe(`AggregateError 1: connect failed: 127.0.0.1:${port} connection refused (at 0-0 ms)`);
    expect(literal.observed.map((o) => [o['outcome'], o['code']])).toEqual([
      ['pending', undefined],
      ['failed', 'ECONNREFUSED'],
    ]);
  });

  it('myport: the attempt names it, the socket is bound to it', async () => {
    // Two servers and two local ports: a connection's 4-tuple cannot be made twice.
    const runs: Seen[] = [];
    for (const host of ['127.0.0.1', 'one.test']) {
      const port = portOf(await opened.listen('127.0.0.1'));
      const myport = await opened.freePort();
      const seen = await run(host, port, { myport, resolver: only('127.0.0.1') });
      expect(seen.result?.attempts[0]).toMatchObject({ port, localPort: myport, boundAddress: '127.0.0.1', boundPort: myport, outcome: 'connected' });
      expect(seen.result?.socket.localPort).toBe(myport);
      runs.push(seen);
    }
    const ports = (o: Record<string, unknown>): Record<string, unknown> => ({ ...o, port: typeof o['port'], localPort: typeof o['localPort'] });
    expect(runs[0]?.machineStarted).toBe(false);
    expect(runs[0]?.observed.map(ports)).toEqual(runs[1]?.observed.map(ports));
  });

  it('connectTimeout, the timer firing early: timed out at its due time, the socket destroyed', async () => {
    const made: Socket[] = [];
    const drive = async (clock: VirtualClock): Promise<void> => {
      // Armed as the connect started, in both.
      expect(clock.armed).toEqual([100]);
      // Let the resolver answer (the named run) before the deadline passes.
      await new Promise((resolve) => setImmediate(resolve));
      clock.fire(99.5);
    };
    const [literal] = await both('127.0.0.1', 9, { connectTimeout: 100, createSocket: neverConnects(made) }, drive);
    expect(literal.error).toMatchObject({ message: "couldn't open socket: connection timed out", code: 'ETIMEDOUT' });
    expect(literal.error?.attempts).toMatchObject([{ outcome: 'timeout', code: 'ETIMEDOUT', startedAt: 0, endedAt: 100 }]);
    expect(made.map((s) => s.destroyed)).toEqual([true, true]);
  });

  it('aborted while connecting: operation canceled, the reason as cause, the socket destroyed', async () => {
    const made: Socket[] = [];
    let controller = new AbortController();
    const options = (): ConnectOptions => {
      controller = new AbortController();
      return { signal: controller.signal, createSocket: neverConnects(made) };
    };
    const drive = async (): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve));
      controller.abort(new Error('stop'));
    };
    const literal = await run('127.0.0.1', 9, options(), drive);
    const named = await run('one.test', 9, { ...options(), resolver: only('127.0.0.1') }, drive);
    expect(literal.machineStarted).toBe(false);
    expect(literal.error).toEqual(named.error);
    expect(literal.observed).toEqual(named.observed);
    expect(literal.error).toMatchObject({ message: "couldn't open socket: operation canceled", code: 'ERR_SOCKCHAN_ABORTED', cause: 'Error: stop' });
    expect(literal.error?.attempts).toMatchObject([{ outcome: 'aborted' }]);
    expect(made.map((s) => s.destroyed)).toEqual([true, true]);
  });

  it('a createSocket that throws: the attempt fails with its errno', async () => {
    const createSocket = (): Socket => {
      throw Object.assign(new Error('no sockets today'), { code: 'EMFILE' });
    };
    const [literal] = await both('127.0.0.1', 9, { createSocket });
    expect(literal.error).toMatchObject({ code: 'EMFILE', message: "couldn't open socket: too many open files" });
  });

  it('createSocket gets the same options from both', async () => {
    const port = portOf(await opened.listen('127.0.0.1'));
    const given: TcpNetConnectOpts[] = [];
    const createSocket = (o: TcpNetConnectOpts): Socket => {
      given.push({ ...o });
      return netConnect(o);
    };
    await both('127.0.0.1', port, { allowHalfOpen: true, createSocket });
    expect(given).toHaveLength(2);
    expect(given[0]).toEqual(given[1]);
    expect(given[0]).toEqual({ host: '127.0.0.1', port, family: 4, autoSelectFamily: false, allowHalfOpen: true });
  });
});
