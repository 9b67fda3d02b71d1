// The Tcl 8.6.13 channel vectors (test/fixtures/tcl-channel, copied from the shared reference):
// every input case decoded through a streaming decoder, chunk by chunk as the peer sent it, then
// with the simple EOL translation and eofchar of its config applied, must give the text of Tcl's
// blocking `read`. The channel-level behaviours (gets, blocking, events) are @sockchan/core's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDecoder, encodingNames } from '../src/index.js';

interface InputCase {
  id: string;
  config: { encoding?: string; translation?: string; eofchar?: string };
  chunks: string[];
  read: { cp: string[] };
  note: string;
}

const fixtures = new URL('./fixtures/tcl-channel/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('input.json', fixtures), 'utf8')) as InputCase[];
const meta = JSON.parse(readFileSync(new URL('meta.json', fixtures), 'utf8')) as { encodingNames: string[] };

/** The sane results where Tcl 8.6.13 has a bug we do not copy (given in the case's note). */
const SANE: Record<string, string> = {
  // 4-byte UTF-8 split after its third byte: U+1F600, not a lone surrogate and Latin-1 bytes.
  'utf8-4b-split3': '\u{1F600}\n',
};

function translate(text: string, translation: string | undefined): string {
  switch (translation) {
    case 'auto':
      return text.replace(/\r\n?/g, '\n');
    case 'crlf':
      return text.replace(/\r\n/g, '\n');
    case 'cr':
      return text.replace(/\r/g, '\n');
    default:
      return text;
  }
}

function readLike(c: InputCase, chunks: Uint8Array[]): string {
  const decoder = createDecoder(c.config.encoding ?? 'binary');
  let text = '';
  for (const chunk of chunks) text += decoder.decode(chunk);
  text += decoder.end();
  expect(decoder.error).toBeUndefined();
  text = translate(text, c.config.translation === 'binary' ? 'lf' : c.config.translation);
  const eof = c.config.eofchar;
  if (eof !== undefined && eof !== '') {
    const at = text.indexOf(eof);
    if (at >= 0) text = text.slice(0, at);
  }
  return text;
}

describe('Tcl 8.6.13 channel vectors (input.json)', () => {
  it('has the recorded cases', () => {
    expect(cases.length).toBeGreaterThan(70);
  });

  for (const c of cases) {
    it(`${c.id}: read gives Tcl's text`, () => {
      const chunks = c.chunks.map((h) => Buffer.from(h, 'hex'));
      const expected = SANE[c.id] ?? String.fromCharCode(...c.read.cp.map((h) => parseInt(h, 16)));
      expect(readLike(c, chunks)).toBe(expected);
      // However the same bytes are split, the text is the same.
      const all = Buffer.concat(chunks);
      for (let cut = 0; cut <= all.length; cut++) {
        expect(readLike(c, [all.subarray(0, cut), all.subarray(cut)])).toBe(expected);
      }
      expect(readLike(c, [...all].map((b) => Uint8Array.of(b)))).toBe(expected);
    });
  }
});

describe('encoding names', () => {
  it("are Tcl 8.6.13's `encoding names` plus binary", () => {
    expect(encodingNames()).toEqual([...meta.encodingNames, 'binary'].sort());
    expect(encodingNames()).toHaveLength(84);
  });
});
