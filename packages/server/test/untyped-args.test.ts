import { describe, expect, it } from 'vitest';
import { SockchanError } from '@sockchan/base';
import { listen } from '../src/index.js';

// Found by the reliability fuzzing (issue 9): objects that cannot be turned into a string
// (`{ toString: 0 }`) made listen() throw a TypeError instead of rejecting with Tcl's text.
describe('listen() with values no string conversion accepts', () => {
  const odd = { toString: 0 };
  it('port', async () => {
    const p = listen(odd as unknown as number, { myaddr: '127.0.0.1', onConnection: () => undefined });
    await expect(p).rejects.toThrow(SockchanError);
    await expect(p).rejects.toThrow('expected integer but got "{"toString":0}"');
  });
  it('maxConnections', async () => {
    const p = listen(0, { myaddr: '127.0.0.1', maxConnections: odd as unknown as number, onConnection: () => undefined });
    await expect(p).rejects.toThrow(SockchanError);
    await expect(p).rejects.toThrow('bad value for maxConnections: must be a positive integer, got "{"toString":0}"');
  });
});
