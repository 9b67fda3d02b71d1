import { SockchanError } from './errors.js';

/**
 * Parsing of Tcl values the way Tcl 8.6 does it: integers (`Tcl_GetInt`), booleans
 * (`Tcl_GetBoolean`), and choice lists (`Tcl_GetIndexFromObj`), with Tcl's error texts.
 */

const TCL_SPACE = /^[ \t\n\v\f\r]*|[ \t\n\v\f\r]*$/g;

/**
 * Parses a Tcl 8.6 integer: optional surrounding white space, optional sign, then decimal,
 * `0x` hex, `0o` or leading-`0` octal, or `0b` binary. Returns `undefined` when the text is
 * not an integer (so `080` and `65535.0` are rejected, as in Tcl 8.6).
 */
export function tryParseTclInteger(text: string): number | undefined {
  const s = text.replace(TCL_SPACE, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2] ?? '';
  let value: number;
  if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0')) value = parseInt(body.slice(1), 8);
  else value = parseInt(body, 10);
  if (!Number.isSafeInteger(value)) return undefined;
  return sign * value;
}

/**
 * The text of a value of the wrong type from an untyped caller, for error messages: objects
 * as JSON (`{}`, `[1]`), anything else as `String()` gives it (`null`, `undefined`, `false`).
 */
export function valueText(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** The error Tcl gives for a word that is not an integer: `expected integer but got "x"`. */
export function notAnInteger(text: string): SockchanError {
  return new SockchanError(`expected integer but got "${text}"`, {
    code: 'ERR_SOCKCHAN_BAD_VALUE',
    errorCode: ['TCL', 'VALUE', 'INTEGER'],
  });
}

/**
 * The error of `close` with a direction other than `read` or `write`, as Tcl gives it
 * (`Tcl_GetIndexFromObj`): `bad direction "x": must be read or write`, errorCode
 * `TCL LOOKUP INDEX direction x`. For every channel type's `close`.
 */
export function badDirection(direction: unknown): SockchanError {
  const word = valueText(direction);
  return new SockchanError(`bad direction "${word}": must be read or write`, {
    code: 'ERR_SOCKCHAN_ARGS',
    errorCode: ['TCL', 'LOOKUP', 'INDEX', 'direction', word],
  });
}

/**
 * Parses a Tcl integer or throws Tcl's `expected integer but got "x"`.
 * A JavaScript number must be a safe integer.
 */
export function parseTclInteger(value: string | number): number {
  // JavaScript callers can pass anything: a wrong type is a bad value too, never a TypeError.
  if (typeof value !== 'string' && typeof value !== 'number') throw notAnInteger(valueText(value));
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    throw notAnInteger(String(value));
  }
  const n = tryParseTclInteger(value);
  if (n === undefined) throw notAnInteger(value);
  return n;
}

const TRUE_WORDS = ['true', 'yes', 'on'];
const FALSE_WORDS = ['false', 'no', 'off'];

/**
 * Parses a Tcl boolean (`Tcl_GetBoolean`): numbers (non-zero is true), and unique prefixes of
 * `true false yes no on off`, any case. Throws `expected boolean value but got "maybe"`.
 */
export function parseTclBoolean(value: string | number | boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value !== 0;
    throw notABoolean(String(value));
  }
  // JavaScript callers can pass anything: a wrong type is a bad value too, never a TypeError.
  if (typeof value !== 'string') throw notABoolean(valueText(value));
  const s = value.replace(TCL_SPACE, '');
  const n = tryParseTclInteger(s);
  if (n !== undefined) return n !== 0;
  if (s !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s) !== 0;
  const lower = value.toLowerCase();
  if (lower.length > 0) {
    const t = TRUE_WORDS.filter((w) => w.startsWith(lower));
    const f = FALSE_WORDS.filter((w) => w.startsWith(lower));
    // `o` is a prefix of both `on` and `off`: ambiguous, so an error, as in Tcl.
    if (t.length === 1 && f.length === 0) return true;
    if (f.length === 1 && t.length === 0) return false;
  }
  throw notABoolean(value);
}

function notABoolean(text: string): SockchanError {
  return new SockchanError(`expected boolean value but got "${text}"`, {
    code: 'ERR_SOCKCHAN_BAD_VALUE',
    errorCode: ['TCL', 'VALUE', 'BOOLEAN'],
  });
}

/**
 * Formats a list of choices as Tcl does in its messages: `a`, `a or b`, `a, b, or c`.
 */
export function formatChoices(choices: readonly string[], conjunction = 'or'): string {
  if (choices.length <= 1) return choices.join('');
  if (choices.length === 2) return `${choices[0]} ${conjunction} ${choices[1]}`;
  return `${choices.slice(0, -1).join(', ')}, ${conjunction} ${choices[choices.length - 1]}`;
}

/**
 * Finds `word` in `choices` the way `Tcl_GetIndexFromObj` does: an exact match, or else a
 * unique prefix. Returns the matched choice, or `undefined` when none or several match.
 */
export function matchUniquePrefix(word: string, choices: readonly string[]): string | undefined {
  if (choices.includes(word)) return word;
  if (word === '') return undefined;
  const hits = choices.filter((c) => c.startsWith(word));
  return hits.length === 1 ? hits[0] : undefined;
}
