import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteStream, ByteVerifier, TextStream, TextVerifier, lineChecksum } from '../src/index.js';

function allLines(seed: number, bytes: number): string[] {
  const s = new TextStream(seed, bytes);
  const out: string[] = [];
  for (let l = s.nextLine(); l !== null; l = s.nextLine()) out.push(l);
  return out;
}

describe('payload streams and verifiers (the soak relies on them to see every loss)', () => {
  it('a byte stream is the same however it is cut', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 40 }), (seed, cuts) => {
        const whole = new ByteStream(seed, 1000).next(1000);
        const s = new ByteStream(seed, 1000);
        const parts: Buffer[] = [];
        for (let i = 0; s.remaining > 0; i++) parts.push(s.next(cuts[i % cuts.length] as number));
        expect(Buffer.concat(parts).equals(whole)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('the byte verifier accepts the exact stream and finds a lost, a changed and an extra byte', () => {
    const data = new ByteStream(7, 5000).next(5000);
    const ok = new ByteVerifier(7, 5000);
    ok.bytes(data.subarray(0, 1234));
    ok.bytes(data.subarray(1234));
    expect(ok.end()).toEqual({ verifiedBytes: 5000, verifiedLines: 0, expectedBytes: 5000, error: undefined });

    const lost = new ByteVerifier(7, 5000);
    lost.bytes(Buffer.concat([data.subarray(0, 100), data.subarray(101)]));
    expect(lost.end().error).toMatch(/^byte 100 differs/);

    const changed = new ByteVerifier(7, 5000);
    const copy = Buffer.from(data);
    copy[4000] = (copy[4000] as number) ^ 1;
    changed.bytes(copy);
    expect(changed.end()).toMatchObject({ verifiedBytes: 4000, error: expect.stringMatching(/^byte 4000 differs/) as unknown });

    const extra = new ByteVerifier(7, 5000);
    extra.bytes(Buffer.concat([data, Buffer.from('x')]));
    expect(extra.end().error).toMatch(/after the end/);

    // Whole 1 MiB blocks repeated or skipped are seen too (each block has its own rotation).
    const big = new ByteStream(7, 3 * 1024 * 1024);
    const b0 = big.next(1024 * 1024);
    const b1 = big.next(1024 * 1024);
    const repeated = new ByteVerifier(7, 3 * 1024 * 1024);
    repeated.bytes(b0);
    repeated.bytes(b0);
    expect(repeated.end().error).toMatch(/^byte \d+ differs/);
    const skipped = new ByteVerifier(7, 3 * 1024 * 1024);
    skipped.bytes(b1);
    expect(skipped.end().error).toMatch(/^byte \d+ differs/);

    const short = new ByteVerifier(7, 5000);
    short.bytes(data.subarray(0, 4999));
    expect(short.end().error).toBe('early end: 4999 of 5000 bytes');
  });

  it('text lines carry their own sequence number and checksum', () => {
    const lines = allLines(3, 20_000);
    expect(lines.length).toBeGreaterThan(50);
    for (const [i, line] of lines.entries()) {
      const m = /^(\d+) ([0-9a-f]{8}) (.*)$/s.exec(line);
      expect(m?.[1]).toBe(String(i));
      expect(m?.[2]).toBe(lineChecksum(i, m?.[3] ?? ''));
      expect(line).not.toMatch(/[\r\n]/);
      // Whole characters only: the line survives UTF-8.
      expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
    }
    expect(lines.some((l) => /[^\x20-\x7e]/.test(l))).toBe(true);
  });

  it('the text verifier accepts the exact stream and finds a lost, a duplicated and a swapped line', () => {
    const lines = allLines(5, 20_000);
    const run = (ls: string[]) => {
      const v = new TextVerifier(5, 20_000);
      for (const l of ls) v.line(l);
      return v.end();
    };
    const ok = run(lines);
    expect(ok.error).toBeUndefined();
    expect(ok.verifiedLines).toBe(lines.length);
    expect(ok.verifiedBytes).toBe(lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));

    expect(run([...lines.slice(0, 10), ...lines.slice(11)]).error).toMatch(/^line 10 /);
    expect(run([...lines.slice(0, 10), lines[9] as string, ...lines.slice(10)]).error).toMatch(/^line 10 /);
    expect(run([...lines.slice(0, 10), lines[11] as string, lines[10] as string, ...lines.slice(12)]).error).toMatch(/^line 10 /);
    const short = run(lines.slice(0, -1));
    expect(short.error).toMatch(/^early end/);
    expect(short.expectedBytes - short.verifiedBytes).toBe(Buffer.byteLength(lines.at(-1) as string) + 1);
    expect(run([...lines, 'extra']).error).toMatch(/after the end/);
  });
});
