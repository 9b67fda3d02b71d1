import { execFileSync } from 'node:child_process';
import { SockchanError } from '@sockchan/base';

/** A failure as Tcl reports it: the message and the errorCode list (channel names normalised). */
export interface TclFailure {
  message: string;
  errorCode: string[];
}

/** Tcl channel names (`sock55d4c3a1b2f0`) and ours (`sock7`) compare equal after this. */
export function normaliseNames(text: string): string {
  return text.replace(/\bsock[0-9a-f]+\b/g, 'sockN');
}

/** Runs the script made of `lines` in one tclsh (20 s at most) and returns what it printed. */
export function runTclsh(lines: readonly string[]): string {
  return execFileSync('tclsh', [], { input: lines.join('\n'), encoding: 'utf8', timeout: 20_000 });
}

/**
 * Runs each Tcl command in `commands` (after `setup`) in one tclsh and returns what `catch` saw:
 * the message and errorCode, or `{ message: 'OK' }` when the command succeeded.
 */
export function tclFailures(setup: string, commands: readonly string[]): TclFailure[] {
  const out = runTclsh([
    setup,
    'proc report {script} { if {[catch {uplevel #0 $script} r o]} { puts [list ERR $r [dict get $o -errorcode]] } else { puts [list OK $r {}] } }',
    ...commands.map((c) => `report {${c}}`),
    'exit',
  ]);
  return parseReport(out);
}

function parseReport(out: string): TclFailure[] {
  // Simple Tcl list reader for the three-element lines produced by `report`.
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const words = splitTclList(line);
      if (words[0] !== 'ERR') return { message: 'OK', errorCode: [] };
      return { message: normaliseNames(words[1] ?? ''), errorCode: splitTclList(words[2] ?? '').map(normaliseNames) };
    });
}

/** A small Tcl list splitter (braces, quotes, backslashes): enough for the lines `report` prints. */
export function splitTclList(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i] ?? '')) i++;
    if (i >= n) break;
    if (text[i] === '{') {
      let depth = 1;
      const start = ++i;
      while (i < n && depth > 0) {
        if (text[i] === '\\') i++;
        else if (text[i] === '{') depth++;
        else if (text[i] === '}') depth--;
        i++;
      }
      words.push(text.slice(start, i - 1));
    } else if (text[i] === '"') {
      const start = ++i;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      words.push(unescape(text.slice(start, i)));
      i++;
    } else {
      const start = i;
      while (i < n && !/\s/.test(text[i] ?? '')) i += text[i] === '\\' ? 2 : 1;
      words.push(unescape(text.slice(start, i)));
    }
  }
  return words;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** What a sockchan failure looks like in the same shape. */
export function ours(err: unknown): TclFailure {
  if (!(err instanceof SockchanError)) throw new Error(`expected a SockchanError, got ${String(err)}`);
  return { message: normaliseNames(err.message), errorCode: err.errorCode.map(normaliseNames) };
}

/** Runs `f` and returns its failure (sync throw or rejection); fails the test when it succeeds. */
export async function failureOf(f: () => unknown): Promise<TclFailure> {
  try {
    await f();
  } catch (err) {
    return ours(err);
  }
  throw new Error('expected a failure, but it succeeded');
}

/**
 * Runs `f` with `LC_ALL=C.UTF-8` in this process's environment (restored afterwards), so that
 * sockchan and a tclsh started meanwhile agree on the system encoding (under C/POSIX Tcl 8.6 says
 * iso8859-1 where sockchan says utf-8).
 */
export async function withUtf8Locale<T>(f: () => Promise<T> | T): Promise<T> {
  const saved = process.env['LC_ALL'];
  process.env['LC_ALL'] = 'C.UTF-8';
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env['LC_ALL'];
    else process.env['LC_ALL'] = saved;
  }
}
