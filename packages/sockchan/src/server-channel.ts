import { SockchanError, badDirection, matchUniquePrefix, posixError, valueText } from '@sockchan/base';
import type { AddressTriple } from '@sockchan/base';
import {
  GENERIC_OPTION_NAMES,
  badOptionError,
  channelNames as socketChannelNames,
  matchGenericOption,
  nextChannelName,
  optionWord,
  parseBlocking,
  parseBuffering,
  parseBuffersize,
  parseEofcharValue,
  parseTranslationWord,
  splitTranslationValue,
} from '@sockchan/core';
import type { Buffering, ChannelSettings, GenericOptionName } from '@sockchan/core';
import { resolveEncodingName, systemEncoding } from '@sockchan/encodings';
import type { Listener } from '@sockchan/server';

/**
 * `ServerChannel`: the listening socket of `socket.server()`, as Tcl shows it. It has a name,
 * options and `close()`, and no I/O methods (Tcl's server channels are neither readable nor
 * writable; here that is a type error rather than a run-time one).
 */

/** `configure()` of a listening socket, in Tcl's order. */
export interface ServerChannelOptions {
  /** Stored, has no effect on a listening socket (as in Tcl). */
  blocking: boolean;
  /** Stored, no effect. */
  buffering: Buffering;
  /** Stored, no effect. */
  buffersize: number;
  /** Stored, no effect (accepted channels start with the system encoding, as in Tcl). */
  encoding: string;
  /** Always `''`: a listening socket has neither side (Tcl shows `{}`). */
  eofchar: '';
  /** Always `'auto'`: a listening socket has neither side. */
  translation: 'auto';
  /** One `[address, hostName, port]` triple per listening address, IPv4 first. */
  sockname: AddressTriple[];
}

/** The options Tcl names for a query on a server socket (its driver's list). */
const SERVER_GET_NAMES: readonly string[] = [...GENERIC_OPTION_NAMES, 'connecting', 'peername', 'sockname'];
/** Driver options readable by name; `error` is not named in messages but answers, as in Tcl. */
const SERVER_DRIVER_OPTIONS = ['connecting', 'peername', 'sockname', 'error'] as const;

const DEFAULT_RESOLVE_TIMEOUT_MS = 2000;

/**
 * The open servers: name to creation number (the number of `nextChannelName`, shared with every
 * other channel), in creation order.
 */
const openServers = new Map<string, number>();

/** The creation number of a name `nextChannelName` made (`sock7` is 7), else `undefined`. */
function creationNumber(name: string): number | undefined {
  const m = /^sock(\d+)$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Names of the open channels of this process, in creation order, as Tcl's `chan names` (and
 * `file channels`) list them: every open `Channel` (`SocketChannel`s included, as
 * `@sockchan/core`'s `channelNames()` gives them) and every listening {@link ServerChannel}, from
 * the moment `socket.server()` resolves until its `close()`. This umbrella version replaces
 * core's in `sockchan`'s exports (core knows nothing of servers).
 */
export function channelNames(): string[] {
  const channels = socketChannelNames();
  if (openServers.size === 0) return channels;
  const servers = [...openServers];
  const names: string[] = [];
  let next = 0;
  for (const name of channels) {
    // Core lists channels in creation order: a server goes before the first one made after it.
    const n = creationNumber(name);
    if (n !== undefined) {
      for (let s = servers[next]; s !== undefined && s[1] < n; s = servers[++next]) names.push(s[0]);
    }
    names.push(name);
  }
  for (; next < servers.length; next++) names.push((servers[next] as [string, number])[0]);
  return names;
}

/**
 * A listening server made by `socket.server()`: `name` (`sock7`), `port`, `configure()`
 * (`sockname` lists every listening address; `peername` fails with `can't get peername: socket is
 * not connected` as in Tcl; `connecting` is false, `error` is `''`) and `close()`. Accepted
 * connections are `SocketChannel`s handed to the callback; closing the server leaves them open.
 */
export class ServerChannel {
  /** The channel's Tcl name (`sock7`). */
  readonly name: string;
  readonly #listener: Listener;
  #closed = false;
  #closing: Promise<void> | undefined;
  #blocking = true;
  #buffering: Buffering = 'full';
  #buffersize = 4096;
  #encoding: string = systemEncoding();

  private constructor(listener: Listener) {
    this.name = nextChannelName();
    this.#listener = listener;
    openServers.set(this.name, creationNumber(this.name) ?? Number.MAX_SAFE_INTEGER);
  }

  /**
   * Wraps a listener (`socket.server` uses it).
   * @internal
   */
  static _create(listener: Listener): ServerChannel {
    return new ServerChannel(listener);
  }

  /** The port every listening address is bound to (the one the OS chose for port 0). */
  get port(): number {
    return this.#listener.port;
  }

  #unknownChannel(): SockchanError {
    return new SockchanError(`can not find channel named "${this.name}"`, {
      code: 'ERR_SOCKCHAN_UNKNOWN_CHANNEL',
      errorCode: ['TCL', 'LOOKUP', 'CHANNEL', this.name],
    });
  }

  /** Tcl's full listing: `blocking buffering buffersize encoding eofchar translation sockname`. */
  configure(): ServerChannelOptions;
  /** `sockname`: one triple per listening address. */
  configure(name: 'sockname' | '-sockname'): AddressTriple[];
  /** One option; `peername` throws `can't get peername: socket is not connected`. */
  configure(name: string): unknown;
  /**
   * Sets options: values are checked as on any channel (Tcl's messages); `translation` and
   * `eofchar` are accepted and read back unchanged (`auto`, `''`) as in Tcl.
   */
  configure(settings: ChannelSettings & Record<string, unknown>): void;
  configure(arg?: string | (ChannelSettings & Record<string, unknown>)): unknown {
    if (this.#closed) throw this.#unknownChannel();
    if (arg === undefined) {
      const all: Record<string, unknown> = {};
      for (const n of GENERIC_OPTION_NAMES) all[n] = this.#generic(n);
      all['sockname'] = this.#listener.addresses();
      return all;
    }
    if (typeof arg === 'string') {
      const g = matchGenericOption(arg);
      if (g !== undefined) return this.#generic(g);
      const d = matchUniquePrefix(optionWord(arg), SERVER_DRIVER_OPTIONS);
      switch (d) {
        case 'connecting':
          return false;
        case 'error':
          return '';
        case 'sockname':
          return this.#listener.addresses();
        case 'peername':
          throw posixError("can't get peername: ", 'ENOTCONN');
        default:
          throw badOptionError(arg, SERVER_GET_NAMES);
      }
    }
    if (typeof arg !== 'object' || arg === null) throw badOptionError(valueText(arg), SERVER_GET_NAMES);
    for (const [key, value] of Object.entries(arg)) {
      if (value === undefined) continue;
      const g = matchGenericOption(optionWord(key));
      if (g === undefined) throw badOptionError(key, GENERIC_OPTION_NAMES);
      this.#setGeneric(g, value);
    }
    return undefined;
  }

  #generic(name: GenericOptionName): unknown {
    switch (name) {
      case 'blocking':
        return this.#blocking;
      case 'buffering':
        return this.#buffering;
      case 'buffersize':
        return this.#buffersize;
      case 'encoding':
        return this.#encoding;
      case 'eofchar':
        return '';
      case 'translation':
        return 'auto';
    }
  }

  #setGeneric(name: GenericOptionName, value: unknown): void {
    switch (name) {
      case 'blocking':
        this.#blocking = parseBlocking(value as string);
        return;
      case 'buffering':
        this.#buffering = parseBuffering(valueText(value));
        return;
      case 'buffersize':
        this.#buffersize = parseBuffersize(value as string);
        return;
      case 'encoding':
        this.#encoding = valueText(value) === '' ? 'binary' : resolveEncodingName(valueText(value));
        return;
      case 'eofchar':
        parseEofcharValue(value as string);
        return;
      case 'translation': {
        for (const word of splitTranslationValue(value as string)) if (word !== '') parseTranslationWord(word);
        return;
      }
    }
  }

  /**
   * Waits (at most `timeoutMs`, default 2000) for the reverse lookups of the listening addresses,
   * so that `configure('sockname')` shows host names. Wildcards are never looked up.
   */
  async resolveNames(timeoutMs: number = DEFAULT_RESOLVE_TIMEOUT_MS): Promise<void> {
    if (this.#closed) throw this.#unknownChannel();
    await this.#listener.resolveNames(timeoutMs);
  }

  /**
   * Stops listening on every address; resolves once new connects are refused. Accepted channels
   * stay open. Idempotent (safe in `finally`). A direction fails as Tcl's half-close of a server
   * does: `Half-close of write-side not possible, side not opened or already closed`.
   */
  close(direction?: 'read' | 'write'): Promise<void> {
    if (direction !== undefined) {
      if (this.#closed) return Promise.reject(this.#unknownChannel());
      if (direction !== 'read' && direction !== 'write') {
        return Promise.reject(
          badDirection(direction),
        );
      }
      return Promise.reject(
        new SockchanError(`Half-close of ${direction}-side not possible, side not opened or already closed`, {
          code: 'ERR_SOCKCHAN_NOT_OPEN',
          errorCode: ['NONE'],
        }),
      );
    }
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    openServers.delete(this.name);
    this.#closing = this.#listener.close();
    return this.#closing;
  }

  /** Lets the process exit while this server is all that is left (like `server.unref()`). */
  unref(): this {
    this.#listener.unref();
    return this;
  }

  /** Undoes {@link ServerChannel.unref}. */
  ref(): this {
    this.#listener.ref();
    return this;
  }
}
