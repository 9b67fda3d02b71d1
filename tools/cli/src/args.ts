import { SockchanError, addressMatcher, formatChoices, parseSocketArgs, SOCKET_WRONG_ARGS } from 'sockchan';
import { parseBuffering, parseTranslationWord, resolveEncodingName, splitTranslationValue } from 'sockchan';
import type { Buffering, Translation } from 'sockchan';

/**
 * The `sockchan` command line: Tcl's `socket` words (parsed by the umbrella's `parseSocketArgs`,
 * so the messages are tclsh's) plus the CLI's own channel options, which may appear anywhere
 * among the leading options, as `chan configure` options would be applied right after `socket`.
 */

/** What `-server` can run: Tcl's manual time server, a line echo, or a sink printing to stdout. */
export const SERVER_KINDS = ['cat', 'echo', 'time'] as const;

/** One of {@link SERVER_KINDS}. */
export type ServerKind = (typeof SERVER_KINDS)[number];

/** The socket's channel options given on the command line (unset ones keep Tcl's defaults). */
export interface ChannelFlags {
  /** `-encoding NAME`: a Tcl encoding name, canonical. */
  encoding?: string;
  /**
   * `-translation MODE` or `-translation {IN OUT}`: the `[input, output]` pair; `undefined` for a
   * side given as `{}` (left at Tcl's default).
   */
  translation?: readonly [Translation | undefined, Translation | undefined];
  /** `-buffering full|line|none`. */
  buffering?: Buffering;
  /**
   * TLS (`-tls`, or any of `-cafile -certfile -keyfile -servername -alpn`): TclTLS's options for
   * `tls.socket` / `tls.server`; `undefined` for plain TCP.
   */
  tls?: TlsFlags;
}

/** The TLS options of the command line (TclTLS's names). */
export interface TlsFlags {
  /** `-cafile FILE`: trusted CAs. */
  cafile?: string;
  /** `-certfile FILE`: our certificate (a server needs one). */
  certfile?: string;
  /** `-keyfile FILE`: its key (default: the certificate file). */
  keyfile?: string;
  /** `-servername NAME`: SNI and the name verified (default: the host). */
  servername?: string;
  /** `-alpn LIST`: ALPN protocols, separated by commas or spaces. */
  alpn?: string[];
}

/** `sockchan ?-myaddr a? ?-myport p? ?-async? host port`. */
export interface ClientCommand extends ChannelFlags {
  /** Discriminant. */
  readonly mode: 'client';
  /** The host to connect to. */
  readonly host: string;
  /** The port to connect to (a service name is resolved already). */
  readonly port: number;
  /** `-myaddr`. */
  readonly myaddr?: string;
  /** `-myport`. */
  readonly myport?: number;
  /** `-async`. */
  readonly async: boolean;
  /** `-unix PATH`: connect to this Unix-domain socket instead (`host` is then `''`, `port` 0). */
  readonly unix?: string;
}

/** `sockchan -server echo|cat|time ?-myaddr a? port`. */
export interface ServerCommand extends ChannelFlags {
  /** Discriminant. */
  readonly mode: 'server';
  /** What each accepted connection gets. */
  readonly kind: ServerKind;
  /** The port to listen on (0: the OS chooses; it is printed on stderr). */
  readonly port: number;
  /** `-myaddr`. */
  readonly myaddr?: string;
  /** `-proxy-from a,b/n,...`: the proxies whose connections begin with a PROXY protocol header. */
  readonly proxyFrom?: readonly string[];
  /** `-unix PATH`: listen on this Unix-domain socket instead (`port` is then 0). */
  readonly unix?: string;
}

/** `sockchan --help`. */
export interface HelpCommand {
  /** Discriminant. */
  readonly mode: 'help';
}

/** `sockchan --version`. */
export interface VersionCommand {
  /** Discriminant. */
  readonly mode: 'version';
}

/** A parsed command line. */
export type Command = ClientCommand | ServerCommand | HelpCommand | VersionCommand;

/** Options of the `socket` command itself, then the CLI's own. */
const SOCKET_OPTIONS = ['-async', '-myaddr', '-myport', '-server'] as const;
const CHANNEL_OPTIONS = ['-buffering', '-encoding', '-translation'] as const;
/** The CLI's own server option. */
const PROXY_FROM = '-proxy-from';
/** The CLI's own transport option: a Unix-domain socket path in place of host and port. */
const UNIX_OPTION = '-unix';
/** TclTLS's options; `-tls` alone takes no value. */
const TLS_OPTIONS = ['-alpn', '-cafile', '-certfile', '-keyfile', '-servername'] as const;
const ALL_OPTIONS = [...SOCKET_OPTIONS, ...CHANNEL_OPTIONS, ...TLS_OPTIONS, '-tls', PROXY_FROM, UNIX_OPTION].sort();

/** The wrong-# message with the CLI's name and its server commands in place of Tcl's. */
export const WRONG_ARGS = SOCKET_WRONG_ARGS.replace(/"socket /g, '"sockchan ').replace('-server command', '-server echo|cat|time');

function usage(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['TCL', 'WRONGARGS'] });
}

/**
 * Parses the words after `sockchan`. Throws a {@link SockchanError} (code `ERR_SOCKCHAN_ARGS` or
 * the value parsers' codes) with Tcl's text for every bad command line; the caller prints it and
 * exits 2.
 */
export function parseCommandLine(argv: readonly string[]): Command {
  if (argv.some((w) => w === '--help' || w === '-help' || w === '-h')) return { mode: 'help' };
  if (argv.length === 1 && argv[0] === '--version') return { mode: 'version' };
  const socketWords: string[] = [];
  const flags: ChannelFlags = {};
  let proxyFrom: string[] | undefined;
  let unix: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i] as string;
    if (!word.startsWith('-')) break;
    if (word === UNIX_OPTION) {
      unix = argv[++i];
      if (unix === undefined) throw usage(`no argument given for ${word} option`);
      continue;
    }
    if (word === '-tls') {
      flags.tls ??= {};
      continue;
    }
    if ((TLS_OPTIONS as readonly string[]).includes(word)) {
      const value = argv[i + 1];
      if (value === undefined) throw usage(`no argument given for ${word} option`);
      i++;
      setTlsFlag((flags.tls ??= {}), word, value);
      continue;
    }
    if ((CHANNEL_OPTIONS as readonly string[]).includes(word)) {
      const value = argv[i + 1];
      if (value === undefined) throw usage(`no argument given for ${word} option`);
      i++;
      setFlag(flags, word, value);
      continue;
    }
    if (word === PROXY_FROM) {
      const value = argv[++i];
      if (value === undefined) throw usage(`no argument given for ${word} option`);
      proxyFrom = parseProxyFrom(value);
      continue;
    }
    if (!(SOCKET_OPTIONS as readonly string[]).includes(word)) {
      throw new SockchanError(`bad option "${word}": must be ${formatChoices(ALL_OPTIONS)}`, {
        code: 'ERR_SOCKCHAN_ARGS',
        errorCode: ['TCL', 'LOOKUP', 'INDEX', 'option', word],
      });
    }
    socketWords.push(word);
    // Options with a value take the next word whatever it looks like, as Tcl does.
    if (word !== '-async' && i + 1 < argv.length) socketWords.push(argv[++i] as string);
  }
  if (unix !== undefined) return unixCommand(unix, socketWords, argv.slice(i), flags);
  socketWords.push(...argv.slice(i));
  let parsed;
  try {
    parsed = parseSocketArgs<string>(socketWords);
  } catch (err) {
    if (err instanceof SockchanError && err.message === SOCKET_WRONG_ARGS) throw usage(WRONG_ARGS);
    throw err;
  }
  if (parsed.server) {
    const kind = parsed.command;
    if (!(SERVER_KINDS as readonly string[]).includes(kind)) {
      throw usage(`bad server command "${kind}": must be ${formatChoices(SERVER_KINDS)}`);
    }
    return { mode: 'server', kind: kind as ServerKind, port: parsed.port, ...opt('myaddr', parsed.myaddr), ...opt('proxyFrom', proxyFrom), ...flags };
  }
  if (proxyFrom !== undefined) throw usage(`option ${PROXY_FROM} is only valid for servers`);
  return {
    mode: 'client',
    host: parsed.host,
    port: parsed.port,
    async: parsed.async,
    ...opt('myaddr', parsed.myaddr),
    ...opt('myport', parsed.myport),
    ...flags,
  };
}

/** `127.0.0.1,10.0.0.0/8 ::1`: commas or spaces between entries, each checked at once. */
function parseProxyFrom(value: string): string[] {
  const list = value.split(/[\s,]+/).filter((w) => w !== '');
  addressMatcher(list, PROXY_FROM);
  return list;
}

/** The wrong-# message of the `-unix` forms. */
export const UNIX_WRONG_ARGS =
  'wrong # args: should be "sockchan ?-async? ?channel options? -unix path" or "sockchan -server echo|cat|time ?channel options? -unix path"';

/**
 * `-unix PATH` in place of host and port: `-server KIND` and `-async` keep their meaning;
 * `-myaddr` and `-myport` have none for a Unix-domain socket.
 */
function unixCommand(path: string, socketWords: readonly string[], rest: readonly string[], flags: ChannelFlags): Command {
  if (rest.length > 0) throw usage(UNIX_WRONG_ARGS);
  let kind: string | undefined;
  let async = false;
  for (let j = 0; j < socketWords.length; j++) {
    const word = socketWords[j] as string;
    if (word === '-server') kind = socketWords[++j];
    else if (word === '-async') async = true;
    else throw usage(`option ${word} is not valid with -unix`);
  }
  if (kind === undefined) return { mode: 'client', host: '', port: 0, async, unix: path, ...flags };
  if (async) throw usage('cannot set -async option for server sockets');
  if (!(SERVER_KINDS as readonly string[]).includes(kind)) throw usage(`bad server command "${kind}": must be ${formatChoices(SERVER_KINDS)}`);
  return { mode: 'server', kind: kind as ServerKind, port: 0, unix: path, ...flags };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A TLS option's value (files are read, and their errors given, when the socket is made). */
function setTlsFlag(tls: TlsFlags, option: string, value: string): void {
  if (option === '-alpn') {
    const list = value.split(/[\s,]+/).filter((p) => p !== '');
    if (list.length === 0) throw usage('bad value for -alpn: expected a list of protocol names but got ""');
    tls.alpn = list;
    return;
  }
  const key = option.slice(1) as 'cafile' | 'certfile' | 'keyfile' | 'servername';
  tls[key] = value;
}

/** Checks a channel option's value with core's parsers, so the messages are `chan configure`'s. */
function setFlag(flags: ChannelFlags, option: string, value: string): void {
  if (option === '-encoding') {
    flags.encoding = resolveEncodingName(value);
  } else if (option === '-buffering') {
    flags.buffering = parseBuffering(value);
  } else {
    const [input, output] = splitTranslationValue(value);
    flags.translation = [input === '' ? undefined : parseTranslationWord(input), output === '' ? undefined : parseTranslationWord(output)];
  }
}
