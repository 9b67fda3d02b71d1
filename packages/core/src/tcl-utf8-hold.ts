/**
 * How many bytes at the end of `b` Tcl 8.6.13's UTF-8 decoder leaves for the next read when more
 * data may follow. Tcl stops at a character that starts within the last two bytes of the data and
 * looks incomplete by its lead byte (`Tcl_UtfCharComplete`, where a stray continuation byte counts
 * as needing three bytes), or at a sequence that runs past the end. So `61 E2 82 0A` decodes `a`
 * and the Latin-1 `â`, and keeps `82 0A` until more bytes or the end arrive (vector
 * `utf8-trunc-eol`); a valid sequence is never held once complete.
 */
export function tclUtf8HeldBytes(b: Buffer, startsAtCharacter = false): number {
  const len = b.length;
  if (len === 0) return 0;
  // Start from a byte that is certainly a character start: ASCII or a lead byte, at or before
  // len-3 (or the first byte, when the caller knows it starts a character).
  let q = 0;
  if (!startsAtCharacter || len > 8) {
    q = Math.min(len - 1, Math.max(0, len - 3));
    const floor = Math.max(0, len - 8);
    while (q > floor && (b[q] as number) >= 0x80 && (b[q] as number) < 0xc0) q--;
    const first = b[q] as number;
    if (first >= 0x80 && first < 0xc0 && !(startsAtCharacter && q === 0)) return 0;
  }
  let p = q;
  while (p < len) {
    const c = b[p] as number;
    const need = c < 0x80 ? 1 : c < 0xc0 ? 3 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 1;
    if (p >= len - 2 && need > len - p) return len - p;
    if (need === 1 || c < 0xc0) {
      p += 1;
      continue;
    }
    // A lead byte: a well-formed sequence is consumed whole, anything else one byte at a time.
    let ok = !(c === 0xc0 || c === 0xc1) || (c === 0xc0 && b[p + 1] === 0x80);
    for (let k = 1; ok && k < need; k++) {
      if (p + k >= len) return len - p; // runs past the end: wait for the rest
      const d = b[p + k] as number;
      ok = d >= 0x80 && d < 0xc0;
    }
    p += ok ? need : 1;
  }
  return 0;
}
