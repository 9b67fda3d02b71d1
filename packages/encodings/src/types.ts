import type { SockchanError } from '@sockchan/base';

/**
 * How a codec treats input it cannot convert, as Tcl 9's `-profile` option:
 * - `tcl8` (default): Tcl 8.6's behaviour. Decoding never fails: an invalid byte becomes the
 *   character with the same number (and `C0 80` is NUL in utf-8); an unencodable character becomes
 *   the encoding's fallback (`?`); `binary` keeps the low 8 bits.
 * - `strict`: the first invalid byte or unencodable character is an error (`EILSEQ`).
 * - `replace`: invalid input decodes to U+FFFD; an unencodable character becomes the encoding's
 *   replacement (`?`, or U+FFFD's bytes in the Unicode encodings).
 */
export type EncodingProfile = 'tcl8' | 'strict' | 'replace';

/** Options of the codec functions. */
export interface CodecOptions {
  /** Error profile; default `'tcl8'`. */
  profile?: EncodingProfile;
}

/**
 * A streaming decoder: bytes in, text out. The text never depends on how the bytes are split
 * into chunks; a sequence cut at the end of a chunk is held until the next chunk or {@link end}.
 */
export interface Decoder {
  /** Canonical Tcl name of the encoding. */
  readonly encoding: string;
  /** The error profile. */
  readonly profile: EncodingProfile;
  /** Decodes a chunk. Bytes of an incomplete trailing sequence are held until the next chunk or end(). */
  decode(chunk: Uint8Array): string;
  /**
   * End of input: the held bytes, handled as the profile says (Tcl 8.6 drops a truncated
   * double-byte or UTF-16 sequence and turns a truncated UTF-8 sequence into Latin-1 characters;
   * a channel and `encoding convertfrom` agree on this). Afterwards the decoder is back in its
   * initial state, except that {@link error} stays set until {@link reset}.
   */
  end(): string;
  /** Number of bytes held back (an incomplete sequence). */
  readonly pending: number;
  /**
   * `strict` profile only: set (instead of throwing) when decode() or end() met an invalid
   * sequence; decode() returned the good text before it and returns `''` from then on until
   * {@link reset}. A {@link SockchanError} with code `EILSEQ` and Tcl 9's message
   * `unexpected byte sequence starting at index N: '\xNN'` (N counts bytes from the start of the stream).
   */
  readonly error: SockchanError | undefined;
  /** An independent copy with the same state. */
  clone(): Decoder;
  /**
   * The state, to go back to later with {@link fromMark}: a {@link clone}, or, when the state is
   * only the stream offset (no byte held, no shift state, no error), that offset, which costs
   * nothing to keep. A channel marks its decoder at every chunk it decodes.
   */
  mark(): Decoder | number;
  /** A new decoder in the state {@link mark} gave (a mark of this decoder). */
  fromMark(mark: Decoder | number): Decoder;
  /** Back to the initial state (held bytes, stream offset and error cleared). */
  reset(): void;
}

/**
 * A streaming encoder: text in, bytes out. The bytes never depend on how the text is split.
 */
export interface Encoder {
  /** Canonical Tcl name of the encoding. */
  readonly encoding: string;
  /** The error profile. */
  readonly profile: EncodingProfile;
  /** Encodes text. A lone high surrogate at the end is held until the next call or end(). */
  encode(text: string): Uint8Array;
  /**
   * End of output: held state flushed; stateful encodings (iso2022-*) write their return-to-initial
   * escape here. Afterwards the encoder is back in its initial state (error kept until reset()).
   */
  end(): Uint8Array;
  /**
   * `strict` profile only: set when a character could not be encoded; encode() returned the
   * bytes before it and returns nothing from then on until {@link reset}. A {@link SockchanError}
   * with code `EILSEQ` and Tcl 9's message `unexpected character at index N: 'U+XXXXXX'`
   * (N counts characters from the start of the stream).
   */
  readonly error: SockchanError | undefined;
  /** An independent copy with the same state. */
  clone(): Encoder;
  /** Back to the initial state. */
  reset(): void;
}
