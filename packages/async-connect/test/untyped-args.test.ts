import { describe, expect, it } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { checkConnectArguments } from '../src/index.js';

// Found by the reliability fuzzing (issue 9): objects that cannot be turned into a string
// (`{ toString: 0 }`, `Object.create(null)`) made the argument checks throw a TypeError.
describe('argument checks with values no string conversion accepts', () => {
  const odd = [{ toString: 0 }, Object.create(null) as object];
  it.each(odd)('host, port, myaddr and tuning %# fail with a SockchanError', (v) => {
    expect(() => checkConnectArguments(v, 80)).toThrow(SockchanError);
    expect(() => checkConnectArguments(v, 80)).toThrow(/^expected a host name or address but got "/);
    expect(() => checkConnectArguments('127.0.0.1', v)).toThrow(/^expected integer but got "/);
    expect(() => checkConnectArguments('127.0.0.1', 80, { myaddr: v as unknown as string })).toThrow(/^expected a local address but got "/);
    expect(() => checkConnectArguments('127.0.0.1', 80, { connectTimeout: v as unknown as number })).toThrow(/^bad connectTimeout "/);
    expect(() => checkConnectArguments('127.0.0.1', 80, { connectionAttemptDelay: v as unknown as number })).toThrow(/^bad connectionAttemptDelay "/);
  });
});
