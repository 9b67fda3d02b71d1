import process from 'node:process';
import { SockchanError, formatChoices, matchUniquePrefix, parseTclBoolean, parseTclInteger, valueText } from '@sockchan/base';
import { splitTclList } from './tcl-list.js';

/**
 * Channel option parsing and validation with Tcl 8.6.13's rules and messages
 * (`Tcl_SetChannelOption` / `Tcl_GetChannelOption` in generic/tclIO.c). Exported so that channels
 * without I/O of their own (the umbrella's listening `ServerChannel`) validate values the same way.
 */

/** An end-of-line translation mode, as `-translation` takes it. */
export type Translation = 'auto' | 'binary' | 'cr' | 'crlf' | 'lf';
/** The translation modes an input side reads back as (`binary` reads back as `lf`). */
export type InputTranslation = 'auto' | 'cr' | 'crlf' | 'lf';
/** The translation modes an output side reads back as (`auto` is resolved when set). */
export type OutputTranslation = 'cr' | 'crlf' | 'lf';
/** Output buffering: `full` (send whole buffers), `line` (flush on newline), `none`. */
export type Buffering = 'full' | 'line' | 'none';
/** Encoding error profile (Tcl 9's `-profile`): `tcl8` (lenient, the default), `strict`, `replace`. */
export type ChannelProfile = 'tcl8' | 'strict' | 'replace';

/** All option values of a channel, as `configure()` returns them (`chan configure ch`). */
export interface ChannelOptions {
  /** Blocking mode (default true). */
  blocking: boolean;
  /** Output buffering (default `full`). */
  buffering: Buffering;
  /** Buffer size in bytes, 1..1048576 (default 4096). */
  buffersize: number;
  /** Tcl encoding name (default: the system encoding). */
  encoding: string;
  /** Input and output end-of-file characters; `''` means none. */
  eofchar: [input: string, output: string];
  /** Input and output end-of-line translations. */
  translation: [input: InputTranslation, output: OutputTranslation];
}

/** Values accepted when setting options: Tcl's string forms or typed values. */
export interface ChannelSettings {
  /** A Tcl boolean: `true`, `0`, `'yes'`, ... */
  blocking?: boolean | number | string;
  /** `full`, `line` or `none` (a unique prefix is accepted, as in Tcl). */
  buffering?: string;
  /** An integer, clamped to 1..1048576. */
  buffersize?: number | string;
  /** A Tcl encoding name; `''` means `binary`. */
  encoding?: string;
  /** One character for both sides, a pair `[input, output]`, or a Tcl list (`'{} x'`); `''` means none. */
  eofchar?: string | readonly [string, string];
  /** One mode for both sides, a pair `[input, output]`, or a Tcl list (`'lf crlf'`); `''` in a pair leaves that side. */
  translation?: string | readonly [string, string];
  /** Encoding error profile (Tcl 9's `-profile`); not part of Tcl 8.6's option listing. */
  profile?: ChannelProfile;
}

/** The generic options in Tcl's order (the full `configure()` listing starts with them). */
export const GENERIC_OPTION_NAMES = ['blocking', 'buffering', 'buffersize', 'encoding', 'eofchar', 'translation'] as const;
/** A generic option name. */
export type GenericOptionName = (typeof GENERIC_OPTION_NAMES)[number];

/** Largest `-buffersize` Tcl accepts (larger values are clamped). */
export const MAX_BUFFER_SIZE = 1024 * 1024;

function badValue(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] });
}

/**
 * Tcl's unknown-option error: `bad option "-foo": should be one of -a, -b, or -c`.
 * `names` are without dashes, in the order Tcl lists them.
 */
export function badOptionError(option: string, names: readonly string[]): SockchanError {
  const shown = option.startsWith('-') ? option : `-${option}`;
  return new SockchanError(`bad option "${shown}": should be one of ${formatChoices(names.map((n) => `-${n}`))}`, {
    code: 'ERR_SOCKCHAN_ARGS',
    errorCode: ['NONE'],
  });
}

/** Strips one leading dash: option names are accepted with or without it. */
export function optionWord(name: string): string {
  return name.startsWith('-') ? name.slice(1) : name;
}

/**
 * Matches an option word against the generic options as Tcl does: an exact name or a unique
 * prefix. Returns `undefined` when none or several match (Tcl then asks the driver).
 */
export function matchGenericOption(word: string): GenericOptionName | undefined {
  return matchUniquePrefix(optionWord(word), GENERIC_OPTION_NAMES) as GenericOptionName | undefined;
}

/** Parses `-blocking`: a Tcl boolean (`expected boolean value but got "maybe"`). */
export function parseBlocking(value: boolean | number | string): boolean {
  return parseTclBoolean(value);
}

/** Parses `-buffering`: `full`, `line`, `none` or a unique prefix. */
export function parseBuffering(value: string): Buffering {
  const hit = matchUniquePrefix(valueText(value), ['full', 'line', 'none']);
  if (hit === undefined) throw badValue('bad value for -buffering: must be one of full, line, or none');
  return hit as Buffering;
}

/** Parses `-buffersize`: a Tcl integer, silently clamped to 1..1048576 as Tcl does. */
export function parseBuffersize(value: number | string): number {
  const n = parseTclInteger(value);
  if (n < 1) return 1;
  if (n > MAX_BUFFER_SIZE) return MAX_BUFFER_SIZE;
  return n;
}

const TRANSLATION_WORDS = ['auto', 'binary', 'cr', 'lf', 'crlf', 'platform'];

/**
 * Parses one `-translation` word (`auto binary cr lf crlf platform`, exact). `platform` is `lf` on
 * the platforms Node runs sockchan on (Unix); on Windows it is `crlf`.
 */
export function parseTranslationWord(word: string): Translation {
  if (!TRANSLATION_WORDS.includes(word)) {
    throw badValue('bad value for -translation: must be one of auto, binary, cr, lf, crlf, or platform');
  }
  if (word === 'platform') return process.platform === 'win32' ? 'crlf' : 'lf';
  return word as Translation;
}

/**
 * Splits a `-translation` value into its input and output words (`undefined` or `''` leaves a side
 * unchanged). A single word applies to both sides. Throws
 * `bad value for -translation: must be a one or two element list`.
 */
export function splitTranslationValue(value: string | readonly [string, string]): [string, string] {
  // Untyped callers can pass anything: a value that is neither text nor a list is a bad value.
  const words = typeof value === 'string' ? splitTclList(value) : stringList(value);
  if (words === undefined || words.length < 1 || words.length > 2) {
    throw badValue('bad value for -translation: must be a one or two element list');
  }
  const [a, b] = words as [string, string?];
  return words.length === 1 ? [a, a] : [a, b ?? ''];
}

/**
 * A list value given as an array: its strings, or `undefined` (a bad value) when it is not an
 * array of strings. Untyped callers can pass anything; that must fail with the option's text,
 * not with a TypeError.
 */
function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const words: unknown[] = value;
  return words.every((w): w is string => typeof w === 'string') ? words : undefined;
}

/**
 * Parses one `-eofchar` element: `''` means none; otherwise its first character, which must be a
 * non-NUL ASCII character (`bad value for -eofchar: must be non-NUL ASCII character`).
 */
export function parseEofcharWord(word: string): string {
  if (word === '') return '';
  const code = word.charCodeAt(0);
  if (code === 0 || code >= 0x80) throw badValue('bad value for -eofchar: must be non-NUL ASCII character');
  return word[0] ?? '';
}

/**
 * Parses an `-eofchar` value into `[input, output]` (`''` = none). One element sets both sides,
 * an empty list clears both. Throws `bad value for -eofchar: should be a list of zero, one, or two elements`.
 */
export function parseEofcharValue(value: string | readonly [string, string]): [string, string] {
  let words: string[] | undefined;
  if (typeof value === 'string') {
    // A lone character that is itself list syntax (`{`, `"`, a space) is meant literally.
    words = value.length === 1 ? [value] : splitTclList(value);
  } else {
    words = stringList(value);
  }
  if (words === undefined || words.length > 2) {
    throw badValue('bad value for -eofchar: should be a list of zero, one, or two elements');
  }
  if (words.length === 0) return ['', ''];
  const a = parseEofcharWord(words[0] ?? '');
  const b = words.length === 1 ? a : parseEofcharWord(words[1] ?? '');
  return [a, b];
}

/** Parses a profile name (`tcl8`, `strict`, `replace`). */
export function parseProfile(value: string): ChannelProfile {
  if (value === 'tcl8' || value === 'strict' || value === 'replace') return value;
  throw badValue(`bad value for -profile: must be one of replace, strict, or tcl8`);
}

/**
 * Checks a value for {@link Channel.maxLine} (the input limit of `gets`): a non-negative safe
 * integer, `0` meaning no limit. Returns it; anything else throws a `SockchanError` with code
 * `ERR_SOCKCHAN_BAD_VALUE`: `bad value for maxLine: expected a non-negative integer (0: no limit) but got "x"`.
 */
export function parseMaxLine(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SockchanError(`bad value for maxLine: expected a non-negative integer (0: no limit) but got "${valueText(value)}"`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['TCL', 'VALUE', 'NUMBER'],
    });
  }
  return value;
}
