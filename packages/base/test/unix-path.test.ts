import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SockchanError, UNIX_PATH_MAX, checkUnixPath } from '../src/index.js';

describe('checkUnixPath', () => {
  it('takes a path as it is and an abstract name with a NUL for the @', () => {
    expect(checkUnixPath('/run/app.sock')).toEqual({ path: '/run/app.sock', nodePath: '/run/app.sock', abstract: false });
    expect(checkUnixPath('@app', 'linux')).toEqual({ path: '@app', nodePath: '\0app', abstract: true });
    expect(checkUnixPath('rel.sock').nodePath).toBe('rel.sock');
  });

  it('accepts exactly the limit and refuses one byte more, counted in UTF-8 (Linux: 107)', () => {
    expect(UNIX_PATH_MAX).toBe(process.platform === 'linux' ? 107 : 103);
    const at = `/${'a'.repeat(106)}`;
    expect(checkUnixPath(at, 'linux').path).toBe(at);
    expect(checkUnixPath(`@${'a'.repeat(107)}`, 'linux').abstract).toBe(true);
    // 105 ASCII bytes and one two-byte character: 107 characters would pass, 108 bytes do not.
    const multibyte = `/${'a'.repeat(105)}é`;
    let err: unknown;
    try {
      checkUnixPath(multibyte, 'linux');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SockchanError);
    expect((err as SockchanError).message).toBe(
      `couldn't open socket: file name too long (socket path "${multibyte}" is 108 bytes; the limit is 107)`,
    );
    expect((err as SockchanError).code).toBe('ENAMETOOLONG');
    expect((err as SockchanError).errorCode).toEqual(['POSIX', 'ENAMETOOLONG', 'file name too long']);
    expect(() => checkUnixPath(`@${'b'.repeat(108)}`, 'linux')).toThrow('abstract socket name "@bbb');
    expect(() => checkUnixPath(`/${'a'.repeat(103)}`, 'darwin')).toThrow('the limit is 103');
  });

  it('refuses what is not a path, with a clear message', () => {
    expect(() => checkUnixPath('')).toThrow('bad value for path: expected a socket path but got ""');
    expect(() => checkUnixPath(42)).toThrow('bad value for path: expected a socket path but got 42');
    expect(() => checkUnixPath('/a\0b')).toThrow('cannot hold a NUL character');
    expect(() => checkUnixPath('@', 'linux')).toThrow('needs a name after "@"');
    expect(() => checkUnixPath('@app', 'darwin')).toThrow('exist on Linux only');
  });

  it('never truncates: any path is either taken whole or refused', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 140 }), (path) => {
        let result;
        try {
          result = checkUnixPath(path, 'linux');
        } catch (e) {
          expect(e).toBeInstanceOf(SockchanError);
          return;
        }
        expect(result.path).toBe(path);
        expect(Buffer.byteLength(result.nodePath)).toBeLessThanOrEqual(108);
        expect(result.nodePath.slice(1)).toBe(path.slice(1));
      }),
      { numRuns: 300 },
    );
  });
});
