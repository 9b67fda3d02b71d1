import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { parseSocketArgs, SOCKET_WRONG_ARGS } from '../src/tcl-args.js';
import { SockchanError } from '@sockchan/base';

// Each case is checked against the real tclsh: Tcl's message and errorCode must be ours.
// Only argument errors are compared (cases that would open a socket are parsed, not run).
const cases: string[][] = [
  [], ['localhost'], ['-asy', 'localhost', '80'], ['-server'], ['-server', 'cmd'], ['-myaddr'], ['-myport'],
  ['-async', '-server', 'cmd', '0'], ['-server', 'cmd', '-async', '0'], ['-server', 'cmd', '-myport', '5', '0'],
  ['-myport', '5', '-server', 'cmd', '0'], ['a', 'b', 'c'], ['--', 'localhost', '80'], ['-server', 'cmd', '-1'],
  ['-server', 'cmd', '0', 'extra'], ['-server', 'cmd', '-myaddr', '127.0.0.1'], ['-reuseaddr', '1', 'localhost', '80'],
  ['-server', 'cmd', '70000'], ['-server', 'cmd', 'x'], ['-myport', 'x', '127.0.0.1', '80'],
  ['-myport', '70000', '127.0.0.1', '80'], ['127.0.0.1', '70000'], ['-async'], ['-async', '-async', '127.0.0.1'],
  ['-myaddr', '127.0.0.1', '-myaddr'], ['-async', '-server', 'cmd'], ['-server', 'cmd', '-myport', '5'],
  ['-server', 'cmd', '-myaddr', '127.0.0.1', '-bogus', '0'], ['-myport', '70000', '127.0.0.1', 'x'],
  ['-myport', 'x', '127.0.0.1', '70000'], ['127.0.0.1', ''], ['127.0.0.1', '65535.0'], ['127.0.0.1', '080'],
];

function tclErrors(list: string[][]): { message: string; errorCode: string[] }[] {
  const quote = (w: string) => `{${w}}`;
  const script = [
    'proc t {args} { if {[catch {socket {*}$args} r o]} { puts [list ERR $r [dict get $o -errorcode]] } else { puts [list OK]; close $r } }',
    ...list.map((words) => `t ${words.map(quote).join(' ')}`),
  ].join('\n');
  const out = execFileSync('tclsh', [], { input: script, encoding: 'utf8', timeout: 20_000 });
  // Each output line is a Tcl list: ERR {message} {errorCode}. Parse it with tclsh's help: re-emit as JSON-ish.
  return out.trim().split('\n').map((line) => parseTclErrLine(line));
}

function parseTclErrLine(line: string): { message: string; errorCode: string[] } {
  // Lines are produced by [list ERR $r $code]; a tiny Tcl list reader (braces and bare words) is enough here.
  const words: string[] = [];
  let i = 0;
  const readWord = (): string => {
    if (line[i] === '{') {
      let depth = 1; const start = ++i;
      while (depth > 0) { if (line[i] === '{') depth++; else if (line[i] === '}') depth--; i++; }
      return line.slice(start, i - 1);
    }
    const start = i;
    while (i < line.length && line[i] !== ' ') { if (line[i] === '\\') i++; i++; }
    return line.slice(start, i).replace(/\\(.)/g, '$1');
  };
  while (i < line.length) { words.push(readWord()); while (line[i] === ' ') i++; }
  if (words[0] !== 'ERR') return { message: 'OK', errorCode: [] };
  const codeLine = words[2] ?? '';
  const code: string[] = [];
  const save = line; // reuse the reader on the errorCode list
  line = codeLine; i = 0;
  while (i < line.length) { code.push(readWord()); while (line[i] === ' ') i++; }
  line = save;
  return { message: words[1] ?? '', errorCode: code };
}

describe('parseSocketArgs matches tclsh 8.6.13', () => {
  const expected = tclErrors(cases);
  it.each(cases.map((c, k) => [c.join(' ') || '(none)', c, k] as const))('%s', (_label, words, k) => {
    const tcl = expected[k]!;
    let ours: { message: string; errorCode: string[] } = { message: 'OK', errorCode: [] };
    try {
      parseSocketArgs(words);
    } catch (e) {
      expect(e).toBeInstanceOf(SockchanError);
      ours = { message: (e as SockchanError).message, errorCode: [...(e as SockchanError).errorCode] };
    }
    if (tcl.message === 'OK' || /connection refused|Servname/.test(tcl.message)) {
      // Tcl got past argument parsing (and then tried to connect): so must we.
      expect(ours.message).toBe('OK');
    } else {
      expect(ours).toEqual(tcl);
    }
  });
});

describe('parseSocketArgs results', () => {
  it('client form with every option', () => {
    expect(parseSocketArgs(['-async', '-myaddr', '127.0.0.1', '-myport', 'http', 'localhost', 9900])).toEqual({
      server: false, async: true, host: 'localhost', port: 9900, myaddr: '127.0.0.1', myport: 80,
    });
  });
  it('server form with a callback', () => {
    const cb = () => undefined;
    const parsed = parseSocketArgs(['-server', cb, '-myaddr', 'localhost', '0x0']);
    expect(parsed).toEqual({ server: true, command: cb, port: 0, myaddr: 'localhost' });
  });
  it('repeated options: the last one wins', () => {
    expect(parseSocketArgs(['-myaddr', 'a', '-myaddr', 'b', 'h', 1])).toMatchObject({ myaddr: 'b' });
  });
  it('a negative number word is an option, as in Tcl', () => {
    expect(() => parseSocketArgs(['-server', 'cmd', -1])).toThrow('bad option "-1"');
  });
  it('wrong # args text', () => {
    expect(() => parseSocketArgs([])).toThrow(SOCKET_WRONG_ARGS);
  });
});
