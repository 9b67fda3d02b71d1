import { SockchanError, formatChoices, valueText } from '@sockchan/base';
import { EMPTY, concatBytes } from './codec.js';
import { Latin1Decoder, Latin1Encoder, encodeLatin1 } from './latin1.js';
import { resolveEncodingName } from './names.js';
import { TableDecoder, TableEncoder } from './table-codec.js';
import type { CodecOptions, Decoder, Encoder, EncodingProfile } from './types.js';
import { Utf16Decoder, Utf16Encoder } from './utf16.js';
import { Utf8Decoder, Utf8Encoder, encodeUtf8 } from './utf8.js';
import { EscapeDecoder, EscapeEncoder } from './escape.js';
import { IdentityEncoder } from './identity.js';

const PROFILES: readonly EncodingProfile[] = ['replace', 'strict', 'tcl8'];

/** The profile of `opts`, checked (`tcl8` when absent). */
function profileOf(opts: CodecOptions | undefined): EncodingProfile {
  const profile = opts?.profile ?? 'tcl8';
  if (!PROFILES.includes(profile)) {
    throw new SockchanError(`bad profile name "${valueText(profile)}": must be ${formatChoices(PROFILES)}`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['TCL', 'LOOKUP', 'PROFILE', valueText(profile)],
    });
  }
  return profile;
}

/**
 * A streaming decoder for the Tcl encoding `name` (see {@link Decoder}). Throws
 * `unknown encoding "x"` for a name Tcl 8.6 does not know.
 */
export function createDecoder(name: string, opts?: CodecOptions): Decoder {
  const encoding = resolveEncodingName(name);
  const profile = profileOf(opts);
  switch (encoding) {
    case 'utf-8':
    case 'identity':
      return new Utf8Decoder(encoding, profile);
    case 'iso8859-1':
    case 'binary':
      return new Latin1Decoder(encoding, profile, 256);
    case 'ascii':
      return new Latin1Decoder(encoding, profile, 0x7f);
    case 'unicode':
      return new Utf16Decoder(encoding, profile);
    case 'iso2022':
    case 'iso2022-jp':
    case 'iso2022-kr':
      return new EscapeDecoder(encoding, profile);
    default:
      return new TableDecoder(encoding, profile);
  }
}

/**
 * A streaming encoder for the Tcl encoding `name` (see {@link Encoder}). Throws
 * `unknown encoding "x"` for a name Tcl 8.6 does not know.
 */
export function createEncoder(name: string, opts?: CodecOptions): Encoder {
  const encoding = resolveEncodingName(name);
  const profile = profileOf(opts);
  switch (encoding) {
    case 'utf-8':
      return new Utf8Encoder(encoding, profile);
    case 'identity':
      return new IdentityEncoder(encoding, profile);
    case 'iso8859-1':
    case 'binary':
      return new Latin1Encoder(encoding, profile, 256);
    case 'ascii':
      return new Latin1Encoder(encoding, profile, 0x7f);
    case 'unicode':
      return new Utf16Encoder(encoding, profile);
    case 'iso2022':
    case 'iso2022-jp':
    case 'iso2022-kr':
      return new EscapeEncoder(encoding, profile);
    default:
      return new TableEncoder(encoding, profile);
  }
}

/**
 * `encoding convertfrom`: the text of `bytes` in encoding `name`. Under the `strict` profile an
 * invalid sequence throws the decoder's `EILSEQ` error (`unexpected byte sequence starting at
 * index N: '\xNN'`); a truncated sequence at the end is handled as the profile says.
 */
export function convertFrom(name: string, bytes: Uint8Array, opts?: CodecOptions): string {
  const decoder = createDecoder(name, opts);
  const text = decoder.decode(bytes) + decoder.end();
  if (decoder.error !== undefined) throw decoder.error;
  return text;
}

/**
 * `encoding convertto`: the bytes of `text` in encoding `name`. Under the `strict` profile an
 * unencodable character throws `unexpected character at index N: 'U+XXXXXX'` (code `EILSEQ`).
 */
export function convertTo(name: string, text: string, opts?: CodecOptions): Uint8Array {
  if (name === 'utf-8' || name === 'iso8859-1') {
    // Stateless, and failing only under strict: the same bytes without a streaming encoder.
    const profile = profileOf(opts);
    if (profile !== 'strict') return name === 'utf-8' ? encodeUtf8(text, profile) : encodeLatin1(text, profile);
  }
  const encoder = createEncoder(name, opts);
  // Tcl writes an escape encoding's init sequence even for empty text.
  const start = encoder instanceof EscapeEncoder ? encoder.begin() : EMPTY;
  const bytes = concatBytes(concatBytes(start, encoder.encode(text)), encoder.end());
  if (encoder.error !== undefined) throw encoder.error;
  return bytes;
}
