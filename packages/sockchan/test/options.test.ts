import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, listenEphemeral } from '@sockchan/test-support';
import { DEFAULT_MAX_LINE, SockchanError, SocketChannel, channelNames, socket } from '../src/index.js';
import type { SocketOptions } from '../src/index.js';
import { useChannelCleanup } from './helpers/channels.js';
import { deferred, within } from './helpers/wait.js';

// The options of socket() and socket.server() beyond Tcl's: maxLine for every channel they make,
// and run-time checks of every option's type (JavaScript callers have no types).

const { cleanup, track } = useChannelCleanup();

/** What `f` failed with (a throw or a rejection); fails the test when it succeeds. */
async function errorOf(f: () => unknown): Promise<SockchanError> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(SockchanError);
    return err as SockchanError;
  }
  throw new Error('expected a failure, but it succeeded');
}

/** A raw server that sends `text` to each connection and keeps it open (no line end, no EOF). */
async function sendingServer(text: string): Promise<number> {
  const { server, port } = await listenEphemeral({
    host: '127.0.0.1',
    onConnection: (s: net.Socket) => {
      s.on('error', () => undefined);
      s.write(text);
    },
  });
  cleanup.add(server);
  return port;
}

/** `gets` of a line longer than the limit: the error it fails with, within a bound. */
async function getsFailure(ch: SocketChannel): Promise<unknown> {
  return within(
    ch.gets().then(
      (line) => new Error(`gets returned ${JSON.stringify(line)}`),
      (err: unknown) => err,
    ),
    5000,
    'gets failing on the limit',
  );
}

function expectLimitError(err: unknown, ch: SocketChannel, limit: number): void {
  expect(err).toBeInstanceOf(SockchanError);
  expect((err as SockchanError).code).toBe('ERR_SOCKCHAN_LIMIT');
  expect((err as SockchanError).message).toBe(`error reading "${ch.name}": line longer than ${limit} characters`);
}

describe('maxLine: the input limit of gets', () => {
  it('socket(..., { maxLine }): a longer line without newline fails gets with ERR_SOCKCHAN_LIMIT', async () => {
    const port = await sendingServer('x'.repeat(1000));
    const ch = track(await socket('127.0.0.1', port, { maxLine: 100, reverseLookup: false }));
    expect(ch.maxLine).toBe(100);
    expectLimitError(await getsFailure(ch), ch, 100);
    // The input stays buffered: read can still take it.
    ch.configure({ blocking: false });
    expect((await ch.read()).length).toBe(1000);
  });

  it('the async form too; without the option the default limit applies', async () => {
    const port = await sendingServer('y'.repeat(1000));
    const ch = track(socket('127.0.0.1', port, { async: true, maxLine: 100, reverseLookup: false }));
    expect(ch.maxLine).toBe(100);
    expectLimitError(await getsFailure(ch), ch, 100);
    const plain = track(await socket('127.0.0.1', port, { reverseLookup: false }));
    expect(plain.maxLine).toBe(DEFAULT_MAX_LINE);
    expect(track(await socket('127.0.0.1', port, { maxLine: 0, reverseLookup: false })).maxLine).toBe(0);
  });

  it('socket.server(..., { maxLine }) applies it to every accepted channel', async () => {
    const failures: { chan: SocketChannel; err: unknown }[] = [];
    const two = deferred();
    const srv = track(
      await socket.server(
        async (chan) => {
          track(chan);
          const err = await getsFailure(chan);
          failures.push({ chan, err });
          if (failures.length === 2) two.resolve();
        },
        0,
        { myaddr: '127.0.0.1', maxLine: 100, reverseLookup: false },
      ),
    );
    for (let i = 0; i < 2; i++) {
      const c = net.connect(srv.port, '127.0.0.1');
      c.on('error', () => undefined);
      cleanup.add(c);
      c.write('z'.repeat(1000));
    }
    await within(two.promise, 5000, 'both accepted channels failing');
    for (const { chan, err } of failures) {
      expect(chan.maxLine).toBe(100);
      expectLimitError(err, chan, 100);
    }
  });

  it('a server without the option gives its channels the default; maxLine 0 means no limit', async () => {
    const got = deferred<SocketChannel>();
    const srv = track(await socket.server((chan) => got.resolve(track(chan)), 0, { myaddr: '127.0.0.1', maxLine: 0 }));
    const client = track(await socket('127.0.0.1', srv.port, { reverseLookup: false }));
    const chan = await within(got.promise, 5000, 'accept');
    expect(chan.maxLine).toBe(0);
    // Beyond the default limit, and still one line.
    await client.puts('w'.repeat(DEFAULT_MAX_LINE + 10));
    await client.flush();
    expect((await within(chan.gets(), 10_000, 'long line'))?.length).toBe(DEFAULT_MAX_LINE + 10);
    const plainGot = deferred<SocketChannel>();
    const plain = track(await socket.server((chan2) => plainGot.resolve(track(chan2)), 0, { myaddr: '127.0.0.1' }));
    track(await socket('127.0.0.1', plain.port, { reverseLookup: false }));
    expect((await within(plainGot.promise, 5000, 'accept')).maxLine).toBe(DEFAULT_MAX_LINE);
  });

  it('a bad maxLine fails at once with the text of the Channel.maxLine setter, nothing opened', async () => {
    const port = await freePort('127.0.0.1');
    const names = channelNames();
    const bads: [unknown, string][] = [
      [-1, '-1'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      [2 ** 53, '9007199254740992'],
      ['100', '100'],
      [null, 'null'],
      [{}, '{}'],
      [{ toString: [] }, '{"toString":[]}'],
    ];
    for (const [bad, shown] of bads) {
      const opts = { maxLine: bad } as unknown as SocketOptions;
      const want = `bad value for maxLine: expected a non-negative integer (0: no limit) but got "${shown}"`;
      for (const err of [
        await errorOf(() => socket('127.0.0.1', port, opts)),
        await errorOf(() => socket('127.0.0.1', port, { ...opts, async: true })),
        await errorOf(() => socket.server(() => undefined, 0, opts)),
      ]) {
        expect(err.message).toBe(want);
        expect(err.code).toBe('ERR_SOCKCHAN_BAD_VALUE');
      }
      // The same text as the setter of an existing channel.
      const ch = new SocketChannel();
      try {
        expect(() => {
          ch.maxLine = bad as number;
        }).toThrow(want);
      } finally {
        await ch.close();
      }
    }
    // The constructor of SocketChannel checks it too, and leaves no channel behind.
    expect(() => new SocketChannel(undefined, { maxLine: -1 })).toThrow('bad value for maxLine');
    expect(() => new SocketChannel(undefined, { maxLine: 5, encoding: 'no-such-encoding' })).toThrow('unknown encoding "no-such-encoding"');
    expect(channelNames()).toEqual(names);
  });
});

describe('option types are checked at run time', () => {
  const cases: [keyof SocketOptions, unknown, string][] = [
    ['useHistory', {}, 'bad value for useHistory: expected true or false but got {}'],
    ['useHistory', 'no', 'bad value for useHistory: expected true or false but got "no"'],
    ['async', 'yes', 'bad value for async: expected true or false but got "yes"'],
    ['reverseLookup', 0, 'bad value for reverseLookup: expected true or false but got 0'],
    ['keepalive', 'yes', 'bad value for keepalive: expected true or false but got "yes"'],
    ['nodelay', null, 'bad value for nodelay: expected true or false but got null'],
    ['myaddr', 127, 'bad value for myaddr: expected a string but got 127'],
    ['myport', [80], 'bad value for myport: expected a port number or a service name but got [80]'],
    ['signal', 'stop', 'bad value for signal: expected an AbortSignal but got "stop"'],
    ['signal', () => undefined, 'bad value for signal: expected an AbortSignal but got a function'],
  ];

  it('socket(): each bad value rejects (throws with async: true) with ERR_SOCKCHAN_BAD_VALUE; nothing is opened', async () => {
    const port = await freePort('127.0.0.1');
    const names = channelNames();
    for (const [name, value, message] of cases) {
      const opts = { [name]: value } as unknown as SocketOptions;
      const rejected = await errorOf(() => socket('127.0.0.1', port, opts));
      expect([name, rejected.message, rejected.code]).toEqual([name, message, 'ERR_SOCKCHAN_BAD_VALUE']);
      if (name === 'async') continue;
      let thrown: unknown;
      try {
        socket('127.0.0.1', port, { ...opts, async: true });
      } catch (err) {
        thrown = err;
      }
      expect([name, (thrown as SockchanError | undefined)?.message]).toEqual([name, message]);
    }
    expect(channelNames()).toEqual(names);
  });

  it('socket(): values of the right types still work', async () => {
    const { server, port } = await listenEphemeral({ host: '127.0.0.1', onConnection: (s: net.Socket) => s.end('ok\r\n') });
    cleanup.add(server);
    const ch = track(
      await socket('127.0.0.1', port, {
        async: false,
        useHistory: false,
        reverseLookup: false,
        keepalive: true,
        nodelay: false,
        myaddr: '127.0.0.1',
        signal: new AbortController().signal,
      }),
    );
    expect(await ch.gets()).toBe('ok');
    expect(ch.configure('keepalive')).toBe(true);
  });

  it('the tuning options keep their own range texts', async () => {
    const err = await errorOf(() => socket('127.0.0.1', 1, { connectTimeout: 'soon' as unknown as number }));
    expect(err.message).toBe('bad connectTimeout "soon": must be a positive number of ms');
    expect(err.code).toBe('ERR_SOCKCHAN_BAD_VALUE');
  });

  it('socket.server(): each bad value rejects with ERR_SOCKCHAN_BAD_VALUE; nothing is left listening', async () => {
    const serverCases: [string, unknown, string][] = [
      ['myaddr', 127, 'bad value for myaddr: expected a string but got 127'],
      ['backlog', {}, 'bad value for backlog: expected an integer but got {}'],
      ['onError', 'log', 'bad value for onError: expected a function (err, chan) but got "log"'],
      ['reverseLookup', 'no', 'bad value for reverseLookup: expected true or false but got "no"'],
      ['keepalive', 1, 'bad value for keepalive: expected true or false but got 1'],
      ['nodelay', {}, 'bad value for nodelay: expected true or false but got {}'],
      ['reusePort', 'yes', 'bad value for reusePort: expected true or false but got "yes"'],
    ];
    const names = channelNames();
    for (const [name, value, message] of serverCases) {
      // A fixed port: a server left listening by a failed call would make the next one fail differently.
      const port = await freePort('127.0.0.1');
      const err = await errorOf(() => socket.server(() => undefined, port, { myaddr: '127.0.0.1', [name]: value }));
      expect([name, err.message, err.code]).toEqual([name, message, 'ERR_SOCKCHAN_BAD_VALUE']);
      const probe = track(await socket.server(() => undefined, port, { myaddr: '127.0.0.1' }));
      await probe.close();
    }
    expect(channelNames()).toEqual(names);
  });
});
