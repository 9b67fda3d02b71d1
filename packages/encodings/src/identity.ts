import { Buffer } from 'node:buffer';
import { EncoderBase } from './codec.js';

/*
 * `identity` writes Tcl 8.6's internal string form: UTF-8 with NUL as C0 80 and each surrogate
 * (paired or not) in its own 3-byte form (CESU-8); every character has a form, so it never fails,
 * whatever the profile.
 * Reading it back goes through Tcl's lenient UTF-8 reading: the utf-8 decoder.
 */

// eslint-disable-next-line no-control-regex -- NUL is one of the characters written specially
const SPECIAL = /[\x00\uD800-\uDFFF]/g;

/** Encoder of `identity`. */
export class IdentityEncoder extends EncoderBase {
  protected encodeText(text: string): Uint8Array {
    SPECIAL.lastIndex = 0;
    if (!SPECIAL.test(text)) return Buffer.from(text, 'utf8');
    const parts: Uint8Array[] = [];
    let last = 0;
    SPECIAL.lastIndex = 0;
    for (let m = SPECIAL.exec(text); m !== null; m = SPECIAL.exec(text)) {
      const c = text.charCodeAt(m.index);
      parts.push(Buffer.from(text.slice(last, m.index), 'utf8'));
      parts.push(c === 0 ? Uint8Array.of(0xc0, 0x80) : Uint8Array.of(0xed, 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)));
      last = m.index + 1;
    }
    parts.push(Buffer.from(text.slice(last), 'utf8'));
    return Buffer.concat(parts);
  }

  protected resetState(): void {}

  protected cloneState(): IdentityEncoder {
    return new IdentityEncoder(this.encoding, this.profile);
  }
}
