import { describe, expect, it } from 'vitest';
import {
  SockchanError,
  badDirection,
  formatChoices,
  matchUniquePrefix,
  parsePort,
  parseTclBoolean,
  parseTclInteger,
  tryParseTclInteger,
  posixError,
  toSockchanError,
  displayAddress,
  addressFamily,
} from '../src/index.js';

describe('Tcl integers', () => {
  it.each([
    ['80', 80], [' 80 ', 80], ['0x50', 80], ['0X50', 80], ['0o17', 15], ['010', 8], ['0b101', 5], ['-3', -3], ['+7', 7], ['0', 0],
  ])('%j is %d', (text, n) => expect(tryParseTclInteger(text)).toBe(n));
  it.each(['080', '65535.0', '', 'x', '1e3', '0x', '--1'])('%j is not an integer', (text) =>
    expect(tryParseTclInteger(text)).toBeUndefined());
  it('fails with Tcl text', () => {
    expect(() => parseTclInteger('abc')).toThrow('expected integer but got "abc"');
  });
});

describe('Tcl booleans', () => {
  it.each([['1', true], ['0', false], ['yes', true], ['No', false], ['t', true], ['of', false], ['on', true], ['2', true], ['0.0', false]] as const)(
    '%j is %s', (text, b) => expect(parseTclBoolean(text)).toBe(b));
  it.each(['maybe', 'o', '', 'truex'])('%j is rejected', (text) =>
    expect(() => parseTclBoolean(text)).toThrow(`expected boolean value but got "${text}"`));
});

describe('values of the wrong JavaScript type (from untyped callers)', () => {
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [false, 'false'],
    [{}, '{}'],
    [[1], '[1]'],
  ] as const)('%j gives a SockchanError, not a TypeError', (v, text) => {
    for (const f of [() => parseTclInteger(v as never), () => parsePort(v as never)]) {
      expect(f).toThrow(SockchanError);
      expect(f).toThrow(`expected integer but got "${text}"`);
    }
    if (typeof v !== 'boolean') {
      expect(() => parseTclBoolean(v as never)).toThrow(SockchanError);
      expect(() => parseTclBoolean(v as never)).toThrow(`expected boolean value but got "${text}"`);
    }
  });
});

describe('ports', () => {
  it('parses numbers, Tcl integers and service names', () => {
    expect(parsePort(9900)).toBe(9900);
    expect(parsePort('0x50')).toBe(80);
    expect(parsePort('http')).toBe(80);
    expect(parsePort('echo')).toBe(7);
  });
  it('uses Tcl texts', () => {
    expect(() => parsePort('no-such-service')).toThrow('expected integer but got "no-such-service"');
    expect(() => parsePort('65536')).toThrow("couldn't open socket: port number too high");
    expect(() => parsePort(1.5)).toThrow('expected integer but got "1.5"');
    expect(() => parsePort('HTTP')).toThrow('expected integer but got "HTTP"');
    expect(() => parsePort(-1)).toThrow(/negative/);
    expect(parsePort(-1, { rejectNegative: false })).toBe(-1);
  });
});

describe('choices', () => {
  it('formats like Tcl', () => {
    expect(formatChoices(['read', 'write'])).toBe('read or write');
    expect(formatChoices(['-async', '-myaddr', '-myport', '-server'])).toBe('-async, -myaddr, -myport, or -server');
  });
  it('matches unique prefixes only', () => {
    expect(matchUniquePrefix('peer', ['peername', 'sockname'])).toBe('peername');
    expect(matchUniquePrefix('b', ['blocking', 'buffering'])).toBeUndefined();
    expect(matchUniquePrefix('buffer', ['buffering', 'buffersize'])).toBeUndefined();
    expect(matchUniquePrefix('buffering', ['buffering', 'buffersize'])).toBe('buffering');
  });
});

describe('errors', () => {
  it('carries Tcl text, code and errorCode', () => {
    const e = posixError("couldn't open socket: ", 'ECONNREFUSED');
    expect(e).toBeInstanceOf(SockchanError);
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe("couldn't open socket: connection refused");
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.errorCode).toEqual(['POSIX', 'ECONNREFUSED', 'connection refused']);
    expect(e.name).toBe('SockchanError');
  });
  it('maps Node errors, resolver errors included', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(toSockchanError('x: ', refused).message).toBe('x: connection refused');
    const nf = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const e = toSockchanError("couldn't open socket: ", nf);
    expect(e.message).toBe("couldn't open socket: Name or service not known");
    expect(e.errorCode).toEqual(['NONE']);
  });
  it('instanceof holds for a structurally branded copy', () => {
    const brand = Symbol.for('sockchan.SockchanError');
    const foreign = Object.assign(new Error('x'), { [brand]: true });
    expect(foreign instanceof SockchanError).toBe(true);
    expect(new Error('y') instanceof SockchanError).toBe(false);
  });
});

describe('addresses', () => {
  it('displays like Tcl', () => {
    expect(displayAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(displayAddress('[::1]')).toBe('::1');
    expect(addressFamily('::1')).toBe(6);
    expect(addressFamily('localhost')).toBe(0);
  });
});

describe('errorCode lists as tclsh 8.6.13 reports them', () => {
  it('integer and boolean', () => {
    try { parseTclInteger('abc'); expect.unreachable(); } catch (e) { expect((e as SockchanError).errorCode).toEqual(['TCL', 'VALUE', 'INTEGER']); }
    try { parseTclBoolean('maybe'); expect.unreachable(); } catch (e) { expect((e as SockchanError).errorCode).toEqual(['TCL', 'VALUE', 'BOOLEAN']); }
  });
  it('bad close direction, with any value', () => {
    const e = badDirection('both');
    expect(e).toBeInstanceOf(SockchanError);
    expect(e.message).toBe('bad direction "both": must be read or write');
    expect(e.code).toBe('ERR_SOCKCHAN_ARGS');
    expect(e.errorCode).toEqual(['TCL', 'LOOKUP', 'INDEX', 'direction', 'both']);
    expect(badDirection({ toString: [] }).message).toMatch(/^bad direction ".*": must be read or write$/);
  });
});
