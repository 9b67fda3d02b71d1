import fc from 'fast-check';
import { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { SockchanError, parsePort, parseTclBoolean, parseTclInteger } from '@sockchan/base';
import { convertFrom, convertTo, createDecoder, createEncoder, encodingNames } from '@sockchan/encodings';
import type { EncodingProfile } from '@sockchan/encodings';
import { Channel, InputBuffer, OutputBuffer } from '@sockchan/core';
import type { InputTranslation, OutputTranslation } from '@sockchan/core';
import { ProxyHeaderParser, encodeProxyHeader } from '@sockchan/server';
import type { ProxyParseResult } from '@sockchan/server';
import { parseSocketArgs, socket } from 'sockchan';
import type { AsyncSocketOptions, ServerOptions, UnixServerOptions, UnixSocketOptions } from 'sockchan';

/**
 * Fuzz properties (fast-check) over what hostile or careless input reaches: the decoders and
 * encoders, the input and output translation layers, channel option parsing, and the `socket`
 * argument parsers. Every property asserts that random input never throws anything but a
 * `SockchanError`, never hangs (each case is bounded), and that results do not depend on how
 * the input is cut, so nothing that follows is corrupted.
 */

/** One fuzz property: `check(numRuns, seed)` runs it and says what failed, if anything. */
export interface FuzzProperty {
  readonly name: string;
  /** Runs are relatively expensive: `weight` scales a run budget down (1 = cheap). */
  readonly weight: number;
  check(numRuns: number, seed?: number): Promise<FuzzOutcome>;
}

/** The result of a property run. */
export interface FuzzOutcome {
  readonly name: string;
  readonly runs: number;
  readonly failed: boolean;
  /** fast-check's report (counterexample, seed, path) when it failed. */
  readonly report: string | undefined;
  readonly ms: number;
}

/** Throws unless `err` is a SockchanError: the one error type random input may produce. */
function onlySockchanError(err: unknown): void {
  if (!(err instanceof SockchanError)) throw new Error(`threw a non-SockchanError: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (typeof err.message !== 'string' || err.message === '') throw new Error('SockchanError without a message');
}

/** Cuts `buf` at the given (sorted, clamped) points. */
function cut<T extends { length: number; slice(a: number, b?: number): T }>(buf: T, points: readonly number[]): T[] {
  const at = [...new Set(points.map((p) => Math.min(buf.length, Math.max(0, p))))].sort((a, b) => a - b);
  const out: T[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(buf.slice(prev, p));
    prev = p;
  }
  out.push(buf.slice(prev));
  return out;
}

const PROFILES: readonly EncodingProfile[] = ['tcl8', 'strict', 'replace'];
const cutPoints = fc.array(fc.nat({ max: 300 }), { maxLength: 12, size: 'max' });
/** Bytes biased towards what parsers trip on: CR, LF, ^Z, ESC (ISO-2022), lead bytes, high bytes. */
const hostileBytes = fc
  .array(fc.oneof(fc.constantFrom(0x0d, 0x0a, 0x1a, 0x1b, 0x24, 0x28, 0x42, 0x80, 0x81, 0x8e, 0x8f, 0xa1, 0xc3, 0xe2, 0xef, 0xf0, 0xf4, 0xfe, 0xff, 0x00), fc.integer({ min: 0, max: 255 })), {
    maxLength: 300,
    // fast-check's default size ('small') would cap the length at about 10 whatever maxLength says.
    size: 'max',
  })
  .map((a) => Buffer.from(a));

async function run(name: string, prop: fc.IAsyncPropertyWithHooks<unknown> | fc.IPropertyWithHooks<unknown>, numRuns: number, seed?: number): Promise<FuzzOutcome> {
  const started = performance.now();
  // A case that does not settle within 5 s fails as a hang (async properties; the synchronous
  // ones have bounded input and bounded loops).
  const params: fc.Parameters<unknown> = { numRuns, timeout: 5000, ...(seed === undefined ? {} : { seed }) };
  const details = await fc.check(prop as fc.IAsyncProperty<unknown>, params);
  return {
    name,
    runs: details.numRuns,
    failed: details.failed,
    report: details.failed ? fc.defaultReportMessage(details) : undefined,
    ms: Math.round(performance.now() - started),
  };
}

function property(name: string, weight: number, make: () => fc.IAsyncPropertyWithHooks<unknown> | fc.IPropertyWithHooks<unknown>): FuzzProperty {
  return { name, weight, check: (numRuns, seed) => run(name, make(), numRuns, seed) };
}

/** Decodes `pieces` with a fresh streaming decoder: the text, and the strict error if any. */
function decodePieces(encoding: string, profile: EncodingProfile, pieces: readonly Buffer[]): { text: string; error: string | undefined } {
  const d = createDecoder(encoding, { profile });
  let text = '';
  for (const p of pieces) {
    text += d.decode(p);
    if (d.error !== undefined) return { text, error: d.error.message };
  }
  text += d.end();
  return { text, error: d.error?.message };
}

/** Decoders: any bytes, any cut: the same text (or the same strict error), only SockchanErrors. */
export const decoderSplitProperty = property('decoders: random bytes, random cuts', 1, () =>
  fc.property(fc.constantFrom(...encodingNames()), fc.constantFrom(...PROFILES), hostileBytes, cutPoints, (encoding, profile, bytes, points) => {
    try {
      const whole = decodePieces(encoding, profile, [bytes]);
      const parts = decodePieces(encoding, profile, cut(bytes, points));
      if (whole.error !== parts.error) throw new Error(`strict error differs: ${String(whole.error)} vs ${String(parts.error)}`);
      if (whole.error === undefined && whole.text !== parts.text) {
        throw new Error(`text depends on the cut: ${JSON.stringify(whole.text)} vs ${JSON.stringify(parts.text)}`);
      }
      // One-shot conversion of the same bytes must not throw anything else either.
      try {
        convertFrom(encoding, bytes, { profile });
      } catch (err) {
        onlySockchanError(err);
      }
    } catch (err) {
      if (err instanceof SockchanError) return; // e.g. an encoding without a decoder: allowed, named
      throw err;
    }
  }),
);

/** Encoders: any string (lone surrogates included), any cut: the same bytes; only SockchanErrors. */
export const encoderSplitProperty = property('encoders: random strings, random cuts', 2, () =>
  fc.property(fc.constantFrom(...encodingNames()), fc.constantFrom(...PROFILES), fc.string({ unit: 'binary', maxLength: 120, size: 'max' }), cutPoints, (encoding, profile, text, points) => {
    const enc = (pieces: readonly string[]): { bytes: Buffer; error: string | undefined } => {
      const e = createEncoder(encoding, { profile });
      const out: Buffer[] = [];
      for (const p of pieces) {
        out.push(Buffer.from(e.encode(p)));
        if (e.error !== undefined) return { bytes: Buffer.concat(out), error: e.error.message };
      }
      out.push(Buffer.from(e.end()));
      return { bytes: Buffer.concat(out), error: e.error?.message };
    };
    try {
      const whole = enc([text]);
      const parts = enc(cut(text, points));
      if (whole.error !== parts.error) throw new Error(`strict error differs: ${String(whole.error)} vs ${String(parts.error)}`);
      if (whole.error === undefined && !whole.bytes.equals(parts.bytes)) {
        throw new Error(`bytes depend on the cut: ${whole.bytes.toString('hex')} vs ${parts.bytes.toString('hex')}`);
      }
      try {
        convertTo(encoding, text, { profile });
      } catch (err) {
        onlySockchanError(err);
      }
    } catch (err) {
      onlySockchanError(err);
    }
  }),
);

const IN_TRANSLATIONS: readonly InputTranslation[] = ['auto', 'lf', 'cr', 'crlf'];
const OUT_TRANSLATIONS: readonly OutputTranslation[] = ['lf', 'cr', 'crlf'];

/** All lines an InputBuffer gives for `pieces` pushed one at a time (then the end). */
function linesOf(encoding: string, translation: InputTranslation, eofChar: string, pieces: readonly Buffer[]): (string | null)[] {
  const input = new InputBuffer(createDecoder(encoding), translation, eofChar);
  const lines: (string | null)[] = [];
  const drain = (): void => {
    for (let i = 0; i < 10_000; i++) {
      const l = input.getLine();
      if (l === undefined) return;
      lines.push(l);
      if (l === null) return;
    }
    throw new Error('getLine did not stop');
  };
  for (const p of pieces) {
    input.push(p);
    drain();
  }
  input.pushEnd();
  drain();
  return lines;
}

/**
 * Input translation (auto/lf/cr/crlf, eofchar): any bytes, any cut: the same lines; and a line
 * after the garbage (and after a line end) comes through intact: nothing corrupts what follows.
 */
export const inputTranslationProperty = property('input translation: random bytes, random cuts, a marker after', 1, () =>
  fc.property(
    fc.constantFrom('utf-8', 'iso8859-1', 'binary', 'cp1252'),
    fc.constantFrom(...IN_TRANSLATIONS),
    fc.constantFrom('', '\x1a'),
    hostileBytes,
    cutPoints,
    (encoding, translation, eofChar, garbage, points) => {
      // The marker follows a complete line end for every translation: "\r\n" ends a line in all
      // four (lf leaves a \r on the garbage line, cr an empty line before the marker).
      const clean = Buffer.from(garbage.filter((b) => b !== 0x1a || eofChar === ''));
      const bytes = Buffer.concat([clean, Buffer.from('\r\nMARKER\r\n')]);
      const whole = linesOf(encoding, translation, eofChar, [bytes]);
      const parts = linesOf(encoding, translation, eofChar, cut(bytes, points));
      if (JSON.stringify(whole) !== JSON.stringify(parts)) throw new Error(`lines depend on the cut: ${JSON.stringify(whole)} vs ${JSON.stringify(parts)}`);
      const text = whole.filter((l): l is string => l !== null);
      // What the marker line must read as, whatever garbage came before it.
      const want = { auto: ['MARKER'], crlf: ['MARKER'], lf: ['MARKER\r'], cr: ['\nMARKER', '\n'] }[translation];
      if (JSON.stringify(text.slice(-want.length)) !== JSON.stringify(want)) {
        throw new Error(`the line after the garbage is corrupted: ${JSON.stringify(text.slice(-3))}`);
      }
      if (whole.at(-1) !== null) throw new Error('no EOF at the end');
    },
  ),
);

/** Output translation and encoding with random writes: the bytes do not depend on how the text was written. */
export const outputTranslationProperty = property('output translation: random writes, any buffering', 1, () =>
  fc.property(
    fc.constantFrom('utf-8', 'iso8859-1', 'binary', 'shiftjis', 'iso2022-jp', 'unicode', 'cp1252', 'euc-jp'),
    fc.constantFrom(...OUT_TRANSLATIONS),
    fc.constantFrom<'full' | 'line' | 'none'>('full', 'line', 'none'),
    fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40, size: 'max' }), fc.boolean()), { maxLength: 20, size: 'max' }),
    fc.integer({ min: 1, max: 64 }),
    (encoding, translation, buffering, writes, bufferSize) => {
      const produce = (ws: readonly (readonly [string, boolean])[], size: number): Buffer => {
        const out = new OutputBuffer(encoding, () => createEncoder(encoding), translation, buffering, size);
        const chunks: Buffer[] = [];
        for (const [text, newline] of ws) {
          const b = out.write(text, newline);
          if (b !== undefined) chunks.push(b);
          for (let f = out.takeFull(); f !== undefined; f = out.takeFull()) chunks.push(f);
        }
        const rest = out.takeAll();
        if (rest !== undefined) chunks.push(rest);
        const tail = out.finish();
        if (tail !== undefined) chunks.push(tail);
        return Buffer.concat(chunks);
      };
      const joined = writes.map(([t, nl]) => t + (nl ? '\n' : '')).join('');
      const a = produce(writes, bufferSize);
      const b = produce([[joined, false]], 4096);
      if (!a.equals(b)) throw new Error(`bytes depend on the writes: ${a.toString('hex')} vs ${b.toString('hex')}`);
    },
  ),
);

/** Two connected in-memory duplexes: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (index: 0 | 1): Duplex =>
    new Duplex({
      read() {
        // Data is pushed by the other side's writes.
      },
      write(chunk: Buffer, _enc, cb) {
        sides[1 - index]?.push(chunk);
        cb();
      },
      final(cb) {
        sides[1 - index]?.push(null);
        cb();
      },
    });
  sides.push(make(0), make(1));
  return [sides[0] as Duplex, sides[1] as Duplex];
}

const OPTION_WORDS = ['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation', 'profile', 'b', 'bl', 'buf', 'e', 'en', 't', '-blocking', '-translation', '-', '', 'peername', 'bogus'];
const optionValue = fc.oneof(
  fc.constantFrom('yes', 'no', 'maybe', 'full', 'line', 'none', 'auto', 'lf', 'cr', 'crlf', 'binary', 'utf-8', 'latin1', 'iso8859-1', 'strict', 'tcl8', '{auto crlf}', 'auto crlf', '\x1a', '', '0', '-1', '1048577', '0x10', '1e3'),
  fc.string({ maxLength: 12, size: 'max' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom('auto', 'lf', 'x', ''), { maxLength: 3, size: 'max' }),
  fc.object({ maxDepth: 1 }),
);

/**
 * Channel options: random names and values either apply or throw a SockchanError with a text;
 * the channel keeps working afterwards (a line round trip is intact).
 */
export const configureProperty = property('channel configure: random options, then a round trip', 1, () =>
  fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...OPTION_WORDS), optionValue), { maxLength: 6, size: 'max' }), fc.constantFrom(...OPTION_WORDS), async (settings, query) => {
    const [x, y] = duplexPair();
    const a = new Channel(x);
    const b = new Channel(y);
    try {
      for (const [name, value] of settings) {
        try {
          a.configure({ [name]: value } as Record<string, unknown>);
        } catch (err) {
          onlySockchanError(err);
        }
      }
      try {
        a.configure(query);
      } catch (err) {
        onlySockchanError(err);
      }
      const all = a.configure();
      if (typeof all !== 'object') throw new Error('configure() listing broken');
      // Back to known settings: the channel must still carry a line intact.
      a.configure({ blocking: true, translation: 'lf', encoding: 'utf-8', buffering: 'full', eofchar: '', profile: 'tcl8' });
      b.configure({ translation: 'lf', encoding: 'utf-8' });
      await a.puts('après ☃ 😀');
      await a.flush();
      const line = await b.gets();
      if (line !== 'après ☃ 😀') throw new Error(`round trip broken: ${JSON.stringify(line)}`);
    } finally {
      await a.close().catch(() => undefined);
      await b.close().catch(() => undefined);
    }
  }),
);

const socketWord = fc.oneof(
  fc.constantFrom('-async', '-myaddr', '-myport', '-server', '-a', '-my', '-s', '-', '--', 'localhost', '127.0.0.1', '::1', '0', '80', 'http', '65536', '-1', '0x50', ' 80 '),
  fc.string({ maxLength: 10, size: 'max' }),
  fc.integer({ min: -70000, max: 70000 }),
  fc.constant(() => undefined),
);

/** `parseSocketArgs`: random command words parse or throw a SockchanError (never anything else). */
export const socketArgsProperty = property('socket argument words (Tcl syntax)', 1, () =>
  fc.property(fc.array(socketWord, { maxLength: 8, size: 'max' }), (words) => {
    try {
      parseSocketArgs(words);
    } catch (err) {
      onlySockchanError(err);
    }
  }),
);

/** Tcl value parsers: random text or numbers give a value or a SockchanError. */
export const valueParsersProperty = property('port, integer and boolean parsers', 1, () =>
  fc.property(
    fc.oneof(
      fc.string({ maxLength: 16, size: 'max' }),
      fc.integer(),
      fc.double(),
      fc.constantFrom('0x', '0o17', '0b101', '1_000', ' 12 ', '+5', '-0', 'true', 'off', 'ye', 'http', 'ftp', 'nosuchservice'),
      // What untyped JavaScript callers can pass as well.
      fc.constantFrom(null, undefined, true, {}, [80]),
    ),
    (value) => {
    for (const f of [
      () => parsePort(value as string | number),
      () => parseTclInteger(value as string | number),
      () => parseTclBoolean(value as string | number),
    ]) {
      try {
        f();
      } catch (err) {
        onlySockchanError(err);
      }
    }
  },
  ),
);

/** A host that is safe to pass to `socket()`: loopback, a private test name, or junk no resolver accepts. */
const safeHost = fc.oneof(
  fc.constantFrom('127.0.0.1', '::1', 'localhost', 'dual.test', 'v4only.test', 'v6only.test', '', ' ', 'no such host', 'bad..name', '[::1]', '999.1.1.1', '::1%lo'),
  fc.string({ maxLength: 12, size: 'max' }).map((h) => (isIP(h.trim()) !== 0 || /^[\s0-9a-fA-FxX.:%]*$/.test(h) ? '127.0.0.1' : h)),
);
const anyValue = fc.oneof(fc.string({ maxLength: 8, size: 'max' }), fc.integer({ min: -70000, max: 70000 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object({ maxDepth: 0 }));

/**
 * `socket(host, port, options)` with `async: true`: random arguments throw a SockchanError at
 * once or give a channel (which may then fail to connect, to a refused loopback port); nothing
 * else, and nothing left open. Valid ports are replaced with `refusedPort` so no random
 * connection reaches another program.
 */
export function socketCallProperty(refusedPort: number): FuzzProperty {
  return property('socket(host, port, options) arguments', 2, () =>
    fc.asyncProperty(
      safeHost,
      anyValue,
      fc.record(
        {
          myaddr: fc.oneof(fc.constantFrom('127.0.0.1', '::1', 'bad host', '10.255.255.1'), anyValue),
          myport: anyValue,
          connectTimeout: anyValue,
          connectionAttemptDelay: anyValue,
          reverseLookup: anyValue,
          keepalive: anyValue,
          nodelay: anyValue,
          bogus: anyValue,
        },
        { requiredKeys: [] },
      ),
      async (host, port, options) => {
        let p: string | number = refusedPort;
        try {
          parsePort(port as string | number);
        } catch {
          p = port as string | number; // invalid: must be rejected by socket() itself
        }
        // A valid myport would bind a random local port: harmless, but keep it unprivileged.
        // Deliberately untyped: the point is what a JavaScript caller can pass at run time.
        const opts = { ...options, async: true, reverseLookup: false } as unknown as AsyncSocketOptions;
        let ch;
        try {
          ch = socket(host, p, opts);
        } catch (err) {
          onlySockchanError(err);
          return;
        }
        await ch.close();
      },
    ),
  );
}

/**
 * The whole channel over an in-memory stream: random bytes arriving in random chunks (one
 * stream write each), read with `for await` (blocking) or a readable handler (nonblocking),
 * give the lines the input layer gives for the whole input, and a marker line after them.
 */
export const channelLinesProperty = property('channel: random chunks, blocking and nonblocking readers', 2, () =>
  fc.asyncProperty(
    fc.constantFrom('utf-8', 'iso8859-1', 'binary'),
    fc.constantFrom(...IN_TRANSLATIONS),
    hostileBytes,
    cutPoints,
    fc.boolean(),
    async (encoding, translation, garbage, points, blocking) => {
      const bytes = Buffer.concat([garbage, Buffer.from('\r\nMARKER\r\n')]);
      const want = linesOf(encoding, translation, '', [bytes]).filter((l): l is string => l !== null);
      const [x, y] = duplexPair();
      const ch = new Channel(y, { encoding, translation, blocking });
      try {
        const got: string[] = [];
        const reading = blocking
          ? (async () => {
              for await (const line of ch) got.push(line);
            })()
          : new Promise<void>((resolve, reject) => {
              ch.onReadable(async () => {
                try {
                  for (;;) {
                    const line = await ch.gets();
                    if (line === null) {
                      if (ch.eof()) {
                        ch.onReadable(null);
                        resolve();
                      }
                      return;
                    }
                    got.push(line);
                  }
                } catch (err) {
                  ch.onReadable(null);
                  reject(err instanceof Error ? err : new Error(String(err)));
                }
              });
            });
        for (const piece of cut(bytes, points)) {
          x.write(piece);
          // One turn between chunks, so the reader sees each one alone.
          await new Promise((resolve) => setImmediate(resolve));
        }
        x.end();
        await reading;
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`lines differ: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
      } finally {
        await ch.close().catch(() => undefined);
        x.destroy();
      }
    },
  ),
);

/**
 * `socket.server(callback, port, options)`: random arguments listen (on loopback, port 0) or
 * reject with a SockchanError, nothing else, and nothing is left open. A valid port becomes 0
 * and any string `myaddr` a loopback address, so no random port is opened on a real interface.
 */
export const serverCallProperty = property('socket.server(callback, port, options) arguments', 4, () =>
  fc.asyncProperty(
    anyValue,
    fc.record(
      {
        myaddr: fc.oneof(fc.constantFrom('127.0.0.1', '::1', 'localhost'), anyValue),
        backlog: anyValue,
        maxConnections: anyValue,
        reverseLookup: anyValue,
        keepalive: anyValue,
        nodelay: anyValue,
        onError: anyValue,
        bogus: anyValue,
      },
      { requiredKeys: [] },
    ),
    async (port, options) => {
      let p: unknown = 0;
      try {
        parsePort(port as string | number);
      } catch {
        p = port; // invalid: must be rejected by socket.server itself
      }
      const myaddr = typeof options.myaddr === 'string' && !['::1', 'localhost'].includes(options.myaddr) ? '127.0.0.1' : options.myaddr;
      // Deliberately untyped: the point is what a JavaScript caller can pass at run time.
      const opts = { ...options, myaddr } as unknown as ServerOptions;
      try {
        const srv = await socket.server(() => undefined, p as number, opts);
        await srv.close();
      } catch (err) {
        onlySockchanError(err);
      }
    },
  ),
);

/** Feeds `pieces` to a fresh PROXY header parser: the verdict, and the bytes after a header. */
function parseProxyPieces(pieces: readonly Buffer[]): { result: ProxyParseResult; rest: Buffer } {
  const parser = new ProxyHeaderParser();
  let result: ProxyParseResult = { status: 'more' };
  const rest: Buffer[] = [];
  for (const piece of pieces) {
    if (result.status === 'done') rest.push(piece);
    else if (result.status === 'more') {
      result = parser.push(piece);
      if (result.status === 'done') rest.push(Buffer.from(result.rest));
    }
  }
  return { result, rest: Buffer.concat(rest) };
}

const proxyPort = fc.integer({ min: 0, max: 65535 });
/** Valid PROXY headers (v1 TCP4/UNKNOWN, v2 INET/INET6/UNIX/UNSPEC/LOCAL with TLVs and CRC32C), as bytes. */
const proxyHeaderBytes = fc.oneof(
  fc.tuple(fc.ipV4(), fc.ipV4(), proxyPort, proxyPort, fc.constantFrom(1 as const, 2 as const)).map(([s, d, sp, dp, version]) =>
    encodeProxyHeader({ version, source: { address: s, port: sp }, destination: { address: d, port: dp } }),
  ),
  fc.tuple(fc.ipV6(), fc.ipV6(), proxyPort, proxyPort, fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 30 }) }), { maxLength: 3 }), fc.boolean()).map(
    ([s, d, sp, dp, tlvs, checksum]) => encodeProxyHeader({ source: { address: s, port: sp }, destination: { address: d, port: dp }, tlvs, checksum }),
  ),
  fc.constantFrom(
    encodeProxyHeader({ version: 1 }),
    encodeProxyHeader({ command: 'local' }),
    encodeProxyHeader({ family: 'unix', source: { address: '/run/a.sock', port: 0 }, destination: { address: '@b', port: 0 } }),
  ),
);

/**
 * PROXY protocol headers: valid ones, with random bytes overwritten, truncated, followed by
 * random bytes, and pure garbage; any cut of the input. The parser never throws, its verdict
 * (more, done with the same header and length, or the same error) does not depend on the cut,
 * and after a header the bytes that follow are exactly the input's.
 */
export const proxyHeaderProperty = property('PROXY protocol headers: mutated, truncated, random cuts', 1, () =>
  fc.property(
    fc.oneof(proxyHeaderBytes, hostileBytes.map((b) => new Uint8Array(b))),
    fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
    fc.nat({ max: 400 }),
    hostileBytes,
    cutPoints,
    (header, flips, keep, after, points) => {
      const bytes = Buffer.from(header);
      for (const f of flips) if (bytes.length > 0) bytes[f.at % bytes.length] = f.value;
      const input = Buffer.concat([bytes.subarray(0, Math.min(bytes.length, keep)), after]);
      const whole = parseProxyPieces([input]);
      const parts = parseProxyPieces(cut(input, points));
      const a = whole.result;
      const b = parts.result;
      if (a.status !== b.status) throw new Error(`verdict depends on the cut: ${a.status} vs ${b.status}`);
      if (a.status === 'error' && b.status === 'error' && a.reason !== b.reason) throw new Error(`reason depends on the cut: ${a.reason} vs ${b.reason}`);
      if (a.status === 'done' && b.status === 'done') {
        if (a.consumed !== b.consumed || JSON.stringify(a.header) !== JSON.stringify(b.header)) throw new Error('header depends on the cut');
        if (!whole.rest.equals(input.subarray(a.consumed)) || !parts.rest.equals(input.subarray(a.consumed))) throw new Error('bytes after the header changed');
      }
    },
  ),
);

/**
 * `socket.unixServer(callback, path, options)` then `socket.unix(path, options)`: random paths
 * (kept inside `dir`: every `/` becomes `_`; `@` names stay abstract, nothing else may leave the
 * directory) and random options listen and connect, or reject (throw, for the async form) with a
 * SockchanError, nothing else; nothing is left open and no socket file stays behind.
 */
export const unixCallProperty = (dir: string): FuzzProperty =>
  property(`socket.unix and socket.unixServer arguments`, 4, () =>
    fc.asyncProperty(
      fc.oneof(fc.string({ maxLength: 120, unit: 'binary' }), anyValue),
      fc.record({ mode: anyValue, backlog: anyValue, maxLine: anyValue, bogus: anyValue }, { requiredKeys: [] }),
      fc.record({ async: fc.oneof(fc.boolean(), anyValue), maxLine: anyValue, bogus: anyValue }, { requiredKeys: [] }),
      async (raw, serverOptions, clientOptions) => {
        const path = typeof raw === 'string' && !raw.startsWith('@') ? `${dir}/${raw.replace(/\//g, '_')}` : raw;
        let srv: Awaited<ReturnType<typeof socket.unixServer>> | undefined;
        try {
          srv = await socket.unixServer(() => undefined, path as string, serverOptions as UnixServerOptions);
        } catch (err) {
          onlySockchanError(err);
        }
        try {
          // Either form: the async one gives the channel (or throws) at once.
          const ch = await socket.unix(path as string, clientOptions as UnixSocketOptions);
          await ch.close();
        } catch (err) {
          onlySockchanError(err);
        } finally {
          await srv?.close();
        }
      },
    ),
  );

/** Every property that needs no network. */
export const offlineProperties: readonly FuzzProperty[] = [
  decoderSplitProperty,
  encoderSplitProperty,
  inputTranslationProperty,
  outputTranslationProperty,
  channelLinesProperty,
  configureProperty,
  socketArgsProperty,
  valueParsersProperty,
  proxyHeaderProperty,
];
