import { SockchanError, formatChoices, parsePort } from '@sockchan/base';

/**
 * Tcl's own argument syntax for `socket`, parsed with tclsh 8.6.13's rules and messages, so a Tcl
 * program ports line by line: `socket.fromArgs('-async', '-myaddr', addr, host, port)`.
 *
 * Order of checks (as Tcl's `Tcl_SocketObjCmd`): the option loop (unknown option, missing value),
 * then the server/client conflicts, then the number of remaining words, then `-myport`, then the port.
 */

/** One word of a Tcl `socket` command line: text, a number, or (after `-server`) the callback. */
export type TclSocketWord<C> = string | number | C;

/** The client form, parsed. */
export interface ParsedClientArgs {
  readonly server: false;
  readonly host: string;
  readonly port: number;
  readonly myaddr?: string;
  readonly myport?: number;
  readonly async: boolean;
}

/** The server form, parsed. */
export interface ParsedServerArgs<C> {
  readonly server: true;
  readonly command: C;
  readonly port: number;
  readonly myaddr?: string;
}

const OPTIONS = ['-async', '-myaddr', '-myport', '-server'] as const;

/** Tcl's text for a wrong number of words. */
export const SOCKET_WRONG_ARGS =
  'wrong # args: should be "socket ?-myaddr addr? ?-myport myport? ?-async? host port" or "socket -server command ?-myaddr addr? port"';

function wrongArgs(): SockchanError {
  return new SockchanError(SOCKET_WRONG_ARGS, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['TCL', 'WRONGARGS'] });
}

function plain(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
}

function wordText(word: unknown): string | undefined {
  if (typeof word === 'string') return word;
  if (typeof word === 'number') return String(word);
  return undefined;
}

/**
 * Parses the words of a Tcl `socket` command (without the word `socket`).
 * Throws a {@link SockchanError} with Tcl's exact message for every malformed command line.
 */
export function parseSocketArgs<C>(words: readonly TclSocketWord<C>[]): ParsedClientArgs | ParsedServerArgs<C> {
  let async = false;
  let myaddr: string | undefined;
  let myportWord: string | number | undefined;
  let command: C | undefined;
  let isServer = false;
  let i = 0;
  for (; i < words.length; i++) {
    const text = wordText(words[i]);
    if (text === undefined || !text.startsWith('-')) break;
    if (!(OPTIONS as readonly string[]).includes(text)) {
      throw new SockchanError(`bad option "${text}": must be ${formatChoices(OPTIONS)}`, {
        code: 'ERR_SOCKCHAN_ARGS',
        errorCode: ['TCL', 'LOOKUP', 'INDEX', 'option', text],
      });
    }
    if (text === '-async') {
      async = true;
      continue;
    }
    if (i + 1 >= words.length) throw plain(`no argument given for ${text} option`);
    const value = words[++i];
    if (text === '-server') {
      isServer = true;
      command = value as C;
    } else {
      const valueText = wordText(value);
      if (valueText === undefined) throw plain(`bad value for ${text}: expected a string or a number`);
      if (text === '-myaddr') myaddr = valueText;
      else myportWord = value as string | number;
    }
  }
  if (isServer) {
    if (async) throw plain('cannot set -async option for server sockets');
    if (myportWord !== undefined) throw plain('option -myport is not valid for servers');
    if (words.length - i !== 1) throw wrongArgs();
  } else if (words.length - i !== 2) {
    throw wrongArgs();
  }
  if (isServer) {
    const port = parsePort(portWord(words[i]));
    return { server: true, command: command as C, port, ...(myaddr === undefined ? {} : { myaddr }) };
  }
  const host = wordText(words[i]);
  if (host === undefined) throw plain('bad host: expected a string');
  const myport = myportWord === undefined ? undefined : parsePort(myportWord);
  const port = parsePort(portWord(words[i + 1]));
  return {
    server: false,
    host,
    port,
    async,
    ...(myaddr === undefined ? {} : { myaddr }),
    ...(myport === undefined ? {} : { myport }),
  };
}

function portWord(word: unknown): string | number {
  const text = wordText(word);
  if (text === undefined) throw plain('bad port: expected an integer or a service name');
  return typeof word === 'number' ? word : text;
}
