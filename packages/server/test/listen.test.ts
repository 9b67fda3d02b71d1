// Real sockets on 127.0.0.1 and ::1. Names resolve under the repository's scripts/with-test-names
// (localhost and dual.test -> ::1 and 127.0.0.1, v4only.test, v6only.test).
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SockchanError, setServicesPath } from '@sockchan/base';
import { CleanupList, assertTestNames } from '@sockchan/test-support';
import { listen } from '../src/index.js';
import type { Listener, ListenOptions } from '../src/index.js';
import { MAX_PORT_ZERO_ROUNDS } from '../src/bind.js';
import { connectError, connectTo, freePort, readLine, readToEnd, socketFdCount } from './helpers.js';

beforeAll(() => assertTestNames());
const cleanup = new CleanupList();
afterEach(async () => {
  await cleanup.closeAll();
  vi.restoreAllMocks();
});

/** listen() whose listener is closed after the test. */
async function open(port: number | string, options: ListenOptions): Promise<Listener> {
  const l = await listen(port, options);
  cleanup.add(l);
  return l;
}

/** A handler that records each accepted connection and answers with its address and port. */
function recorder(): { accepted: { socket: net.Socket; address: string; port: number }[]; onConnection: ListenOptions['onConnection'] } {
  const accepted: { socket: net.Socket; address: string; port: number }[] = [];
  return {
    accepted,
    onConnection: (socket, address, port) => {
      cleanup.add(socket);
      accepted.push({ socket, address, port });
      socket.write(`${address} ${port}\n`);
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<SockchanError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SockchanError);
  return err as SockchanError;
}

/** A plain net.Server on one address (to occupy a port). */
async function occupy(host: string, port: number): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port, ipv6Only: net.isIPv6(host) }, resolve);
  });
  cleanup.add(s);
  return s;
}

describe('without myaddr: every family, one port', () => {
  it('lists 0.0.0.0 first, then ::, on one OS-chosen port, never reverse-resolved', async () => {
    const l = await open(0, { onConnection: () => undefined });
    await l.resolveNames();
    expect(l.port).toBeGreaterThan(0);
    expect(l.addresses()).toEqual([
      ['0.0.0.0', '0.0.0.0', l.port],
      ['::', '::', l.port],
    ]);
  });

  it('is reached by IPv4 and IPv6 clients on the same port, each told its peer', async () => {
    const r = recorder();
    const l = await open(0, { onConnection: r.onConnection });
    const v4 = await connectTo('127.0.0.1', l.port, cleanup);
    expect(await readLine(v4)).toBe(`127.0.0.1 ${v4.localPort}`);
    const v6 = await connectTo('::1', l.port, cleanup);
    expect(await readLine(v6)).toBe(`::1 ${v6.localPort}`);
    expect(r.accepted.map((a) => a.address)).toEqual(['127.0.0.1', '::1']);
    expect(r.accepted.map((a) => a.port)).toEqual([v4.localPort, v6.localPort]);
  });

  it('makes its IPv6 socket v6-only (an IPv4 client cannot reach myaddr ::)', async () => {
    const l = await open(0, { myaddr: '::', onConnection: recorder().onConnection });
    expect(l.addresses()).toEqual([['::', '::', l.port]]);
    expect(await connectError('127.0.0.1', l.port)).toBe('ECONNREFUSED');
    const v6 = await connectTo('::1', l.port, cleanup);
    expect(await readLine(v6)).toBe(`::1 ${v6.localPort}`);
  });
});

describe('myaddr', () => {
  it('listens on every address a name resolves to (dual.test), IPv4 first, one port', async () => {
    const r = recorder();
    const l = await open(0, { myaddr: 'dual.test', onConnection: r.onConnection });
    await l.resolveNames();
    expect(l.addresses()).toEqual([
      ['127.0.0.1', 'localhost', l.port],
      ['::1', 'localhost', l.port],
    ]);
    const v4 = await connectTo('127.0.0.1', l.port, cleanup);
    const v6 = await connectTo('::1', l.port, cleanup);
    expect(await readLine(v4)).toBe(`127.0.0.1 ${v4.localPort}`);
    expect(await readLine(v6)).toBe(`::1 ${v6.localPort}`);
    // Only those two addresses: another loopback address is not served.
    expect(await connectError('127.0.0.2', l.port)).toBe('ECONNREFUSED');
  });

  it('with localhost listens on both loopbacks', async () => {
    const l = await open(0, { myaddr: 'localhost', onConnection: () => undefined });
    expect(l.addresses().map((a) => a[0])).toEqual(['127.0.0.1', '::1']);
  });

  it('with a single-address name or a numeric address listens on exactly that one', async () => {
    const a = await open(0, { myaddr: 'v6only.test', onConnection: () => undefined });
    expect(a.addresses().map((x) => x[0])).toEqual(['::1']);
    expect(await connectError('127.0.0.1', a.port)).toBe('ECONNREFUSED');
    const b = await open(0, { myaddr: '127.0.0.1', reverseLookup: false, onConnection: () => undefined });
    expect(b.addresses()).toEqual([['127.0.0.1', '127.0.0.1', b.port]]);
    expect(await connectError('::1', b.port)).toBe('ECONNREFUSED');
  });

  it('keeps addresses numeric with reverseLookup false, and uses a given reverse resolver', async () => {
    const plain = await open(0, { myaddr: 'dual.test', reverseLookup: false, onConnection: () => undefined });
    await plain.resolveNames();
    expect(plain.addresses().map((a) => a[1])).toEqual(['127.0.0.1', '::1']);
    const named = await open(0, {
      myaddr: 'dual.test',
      reverseLookup: (address) => Promise.resolve(`host-of-${address}`),
      onConnection: () => undefined,
    });
    await named.resolveNames();
    expect(named.addresses().map((a) => a[1])).toEqual(['host-of-127.0.0.1', 'host-of-::1']);
  });

  it('does not wait for a slow reverse lookup: the address stands in until it answers', async () => {
    let answer: (name: string) => void = () => undefined;
    const pending = new Promise<string>((resolve) => (answer = resolve));
    const l = await open(0, { myaddr: '127.0.0.1', reverseLookup: () => pending, onConnection: () => undefined });
    await l.resolveNames(0);
    expect(l.addresses()).toEqual([['127.0.0.1', '127.0.0.1', l.port]]);
    answer('slow.test');
    await l.resolveNames();
    expect(l.addresses()).toEqual([['127.0.0.1', 'slow.test', l.port]]);
  });

  it('orders an injected resolver\'s answer IPv4 first and drops duplicates', async () => {
    const asked: string[] = [];
    const l = await open(0, {
      myaddr: 'anything.test',
      resolver: (host) => {
        asked.push(host);
        return Promise.resolve(['::1', '127.0.0.1', '::1']);
      },
      reverseLookup: false,
      onConnection: () => undefined,
    });
    expect(asked).toEqual(['anything.test']);
    expect(l.addresses()).toEqual([
      ['127.0.0.1', '127.0.0.1', l.port],
      ['::1', '::1', l.port],
    ]);
  });

  it('fails with the resolver\'s text for an unknown name or an empty one', async () => {
    for (const myaddr of ['nosuch.test', '', '[::1]']) {
      const err = await rejection(listen(0, { myaddr, onConnection: () => undefined }));
      expect(err.message).toBe("couldn't open socket: Name or service not known");
      expect(err.errorCode).toEqual(['NONE']);
    }
  });

  it('skips addresses that cannot be bound as long as one can', async () => {
    const l = await open(0, {
      myaddr: 'mixed.test',
      resolver: () => Promise.resolve(['198.51.100.1', '127.0.0.1']),
      onConnection: () => undefined,
    });
    expect(l.addresses().map((a) => a[0])).toEqual(['127.0.0.1']);
  });

  it('reports the bind error when no address can be bound, leaving no socket open', async () => {
    const before = socketFdCount();
    const err = await rejection(
      listen(0, {
        myaddr: 'far.test',
        resolver: () => Promise.resolve(['198.51.100.1', '203.0.113.1']),
        onConnection: () => undefined,
      }),
    );
    expect(err.message).toBe("couldn't open socket: cannot assign requested address");
    expect(err.code).toBe('EADDRNOTAVAIL');
    expect(err.errorCode).toEqual(['POSIX', 'EADDRNOTAVAIL', 'cannot assign requested address']);
    expect(socketFdCount()).toBe(before);
  });
});

describe('ports', () => {
  it('with port 0 never ends on two ports: a set that cannot share one fails after Tcl\'s retries', async () => {
    // 127.0.0.1:P then 0.0.0.0:P is "address in use" for every P: each round starts over.
    const before = socketFdCount();
    let rounds = 0;
    const err = await rejection(
      listen(0, {
        myaddr: 'clash.test',
        resolver: () => {
          rounds += 1;
          return Promise.resolve(['127.0.0.1', '0.0.0.0']);
        },
        onConnection: () => undefined,
      }),
    );
    expect(err.message).toBe("couldn't open socket: address already in use");
    expect(err.errorCode).toEqual(['POSIX', 'EADDRINUSE', 'address already in use']);
    expect(rounds).toBe(1);
    expect(MAX_PORT_ZERO_ROUNDS).toBe(10);
    expect(socketFdCount()).toBe(before);
  });

  it('with a fixed port skips an address where the port is taken', async () => {
    const port = await freePort();
    await occupy('127.0.0.1', port);
    const r = recorder();
    const l = await open(port, { onConnection: r.onConnection });
    expect(l.addresses()).toEqual([['::', '::', port]]);
    const v6 = await connectTo('::1', port, cleanup);
    expect(await readLine(v6)).toBe(`::1 ${v6.localPort}`);
  });

  it('fails with Tcl\'s text when the port is taken on every address, leaving nothing open', async () => {
    const first = await open(0, { myaddr: 'dual.test', onConnection: () => undefined });
    const before = socketFdCount();
    for (const myaddr of [undefined, 'dual.test', '127.0.0.1']) {
      const err = await rejection(listen(first.port, { ...(myaddr === undefined ? {} : { myaddr }), onConnection: () => undefined }));
      expect(err.message).toBe("couldn't open socket: address already in use");
      expect(err.code).toBe('EADDRINUSE');
      expect(err.errorCode).toEqual(['POSIX', 'EADDRINUSE', 'address already in use']);
    }
    expect(socketFdCount()).toBe(before);
  });

  it('parses ports with Tcl\'s rules and texts', async () => {
    expect((await rejection(listen('x', { onConnection: () => undefined }))).message).toBe('expected integer but got "x"');
    expect((await rejection(listen('no-such-service', { onConnection: () => undefined }))).errorCode).toEqual([
      'TCL',
      'VALUE',
      'INTEGER',
    ]);
    expect((await rejection(listen('65535.0', { onConnection: () => undefined }))).message).toBe(
      'expected integer but got "65535.0"',
    );
    for (const tooHigh of [70000, '70000', '0x10000']) {
      const err = await rejection(listen(tooHigh, { onConnection: () => undefined }));
      expect(err.message).toBe("couldn't open socket: port number too high");
    }
    expect((await rejection(listen(-1, { onConnection: () => undefined }))).message).toMatch(/negative/);
    expect((await rejection(listen(null as unknown as number, { onConnection: () => undefined }))).message).toBe(
      'expected integer but got "null"',
    );
    const hex = await open(' 0x0 ', { myaddr: '127.0.0.1', onConnection: () => undefined });
    expect(hex.port).toBeGreaterThan(0);
  });

  it('accepts TCP service names from the services database', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-services-'));
    try {
      writeFileSync(join(dir, 'services'), `# test\nsockchan-test\t${port}/tcp\tsct-alias\nudp-only\t${port}/udp\n`);
      setServicesPath(join(dir, 'services'));
      const l = await open('sockchan-test', { myaddr: '127.0.0.1', onConnection: recorder().onConnection });
      expect(l.port).toBe(port);
      await l.close();
      const alias = await open('sct-alias', { myaddr: '127.0.0.1', onConnection: () => undefined });
      expect(alias.port).toBe(port);
      expect((await rejection(listen('udp-only', { onConnection: () => undefined }))).message).toBe(
        'expected integer but got "udp-only"',
      );
    } finally {
      setServicesPath('/etc/services');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rebinds at once after close although the closed connection is in TIME_WAIT (SO_REUSEADDR)', async () => {
    let serverSide: net.Socket | undefined;
    const l = await listen(0, {
      myaddr: '127.0.0.1',
      onConnection: (s) => {
        serverSide = s;
        // The server closes first, so its side of the connection goes to TIME_WAIT.
        s.end('bye\n');
      },
    });
    const c = await connectTo('127.0.0.1', l.port, cleanup);
    expect(await readToEnd(c)).toBe('bye\n');
    c.end();
    await new Promise((resolve) => (serverSide!.closed ? resolve(undefined) : serverSide!.once('close', resolve)));
    await l.close();
    const again = await open(l.port, { myaddr: '127.0.0.1', onConnection: () => undefined });
    expect(again.port).toBe(l.port);
  });
});

describe('close', () => {
  it('stops accepting on every address at once; accepted connections keep working both ways', async () => {
    const l = await listen(0, {
      onConnection: (s) => {
        cleanup.add(s);
        s.pipe(s);
      },
    });
    const v4 = await connectTo('127.0.0.1', l.port, cleanup);
    const v6 = await connectTo('::1', l.port, cleanup);
    v4.write('a\n');
    v6.write('b\n');
    expect(await readLine(v4)).toBe('a');
    expect(await readLine(v6)).toBe('b');
    await l.close();
    expect(l.closed).toBe(true);
    expect(l.addresses()).toEqual([]);
    expect(await connectError('127.0.0.1', l.port)).toBe('ECONNREFUSED');
    expect(await connectError('::1', l.port)).toBe('ECONNREFUSED');
    v4.resume();
    v4.write('still here\n');
    v6.resume();
    v6.write('me too\n');
    expect(await readLine(v4)).toBe('still here');
    expect(await readLine(v6)).toBe('me too');
  });

  it('is idempotent', async () => {
    const l = await listen(0, { onConnection: () => undefined });
    const first = l.close();
    expect(l.close()).toBe(first);
    await first;
  });
});

describe('handler errors', () => {
  it('send a throwing handler\'s error to onError, close that connection, and keep accepting', async () => {
    const errors: { err: unknown; socket: net.Socket | undefined }[] = [];
    let calls = 0;
    const l = await open(0, {
      myaddr: '127.0.0.1',
      onConnection: (s) => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        cleanup.add(s);
        s.end('ok\n');
      },
      onError: (err, socket) => errors.push({ err, socket }),
    });
    const a = await connectTo('127.0.0.1', l.port, cleanup);
    expect(await readToEnd(a)).toBe('');
    expect(errors).toHaveLength(1);
    expect((errors[0]!.err as Error).message).toBe('boom');
    expect(errors[0]!.socket?.destroyed).toBe(true);
    const b = await connectTo('127.0.0.1', l.port, cleanup);
    expect(await readToEnd(b)).toBe('ok\n');
  });

  it('treat a rejected promise from the handler the same way', async () => {
    const errors: unknown[] = [];
    const l = await open(0, {
      myaddr: '127.0.0.1',
      onConnection: async (s) => {
        await new Promise((resolve) => setImmediate(resolve));
        s.write('partial\n');
        throw new Error('later');
      },
      onError: (err) => errors.push(err),
    });
    const a = await connectTo('127.0.0.1', l.port, cleanup);
    expect(await readToEnd(a)).toBe('partial\n');
    expect(errors.map((e) => (e as Error).message)).toEqual(['later']);
  });

  it('print to stderr by default, like Tcl\'s bgerror, also when onError itself throws', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const plain = await open(0, {
      myaddr: '127.0.0.1',
      onConnection: () => {
        throw new Error('printed');
      },
    });
    const a = await connectTo('127.0.0.1', plain.port, cleanup);
    await readToEnd(a);
    const failing = await open(0, {
      myaddr: '127.0.0.1',
      onConnection: () => {
        throw new Error('first');
      },
      onError: () => {
        throw new Error('second');
      },
    });
    const b = await connectTo('127.0.0.1', failing.port, cleanup);
    await readToEnd(b);
    vi.restoreAllMocks();
    const text = written.join('');
    expect(text).toContain('Error: printed');
    expect(text).toContain('Error: first');
    expect(text).toContain('Error: second');
  });
});

describe('options', () => {
  it('maxConnections closes connections beyond the limit at once and admits again after one ends', async () => {
    const r = recorder();
    const dropped: [string, number][] = [];
    const l = await open(0, {
      maxConnections: 2,
      onConnection: r.onConnection,
      onDrop: (address, port) => dropped.push([address, port]),
    });
    const a = await connectTo('127.0.0.1', l.port, cleanup);
    const b = await connectTo('::1', l.port, cleanup);
    await readLine(a);
    await readLine(b);
    const c = await connectTo('127.0.0.1', l.port, cleanup);
    expect(await readToEnd(c)).toBe('');
    expect(dropped).toEqual([['127.0.0.1', c.localPort]]);
    expect(r.accepted).toHaveLength(2);
    // One held connection ends: the next one is admitted.
    const first = r.accepted[0]!.socket;
    first.destroy();
    await new Promise((resolve) => first.once('close', resolve));
    const d = await connectTo('::1', l.port, cleanup);
    expect(await readLine(d)).toBe(`::1 ${d.localPort}`);
    expect(r.accepted).toHaveLength(3);
  });

  it('keeps an accepted socket writable after the peer half-closes, as Tcl does', async () => {
    const l = await open(0, {
      myaddr: '127.0.0.1',
      onConnection: (s) => {
        cleanup.add(s);
        let got = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (got += d));
        s.on('end', () => s.end(`you said ${got}`));
      },
    });
    const c = await connectTo('127.0.0.1', l.port, cleanup);
    c.end('hello');
    expect(await readToEnd(c)).toBe('you said hello');
  });

  it('checks backlog, maxConnections and the handler', async () => {
    expect((await rejection(listen(0, { backlog: 'abc', onConnection: () => undefined }))).message).toBe(
      'expected integer but got "abc"',
    );
    for (const maxConnections of [0, -1, 1.5]) {
      const err = await rejection(listen(0, { maxConnections, onConnection: () => undefined }));
      expect(err.message).toMatch(/^bad value for maxConnections: must be a positive integer/);
    }
    const noHandler = await rejection(listen(0, {} as ListenOptions));
    expect(noHandler.code).toBe('ERR_SOCKCHAN_ARGS');
    const small = await open(0, { myaddr: '127.0.0.1', backlog: '0x10', onConnection: recorder().onConnection });
    const s = await connectTo('127.0.0.1', small.port, cleanup);
    expect(await readLine(s)).toBe(`127.0.0.1 ${s.localPort}`);
  });

  it('reusePort: a clear error where Node lacks it, two listeners on one port where it has it', async () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
    if (!supported) {
      const err = await rejection(listen(0, { reusePort: true, onConnection: () => undefined }));
      expect(err.message).toMatch(/^couldn't open socket: SO_REUSEPORT isn't supported by this platform \(reusePort needs Node.js 22.12/);
      expect(err.code).toBe('ENOTSUP');
      return;
    }
    const a = await open(0, { myaddr: '127.0.0.1', reusePort: true, onConnection: () => undefined });
    const b = await open(a.port, { myaddr: '127.0.0.1', reusePort: true, onConnection: () => undefined });
    expect(b.port).toBe(a.port);
  });
});
