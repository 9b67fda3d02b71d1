/**
 * `@sockchan/encodings`: every encoding of Tcl 8.6.13 (`encoding names`, plus `binary`),
 * byte-exact, one-shot and streaming, with Tcl 9's error profiles (`tcl8`, `strict`, `replace`).
 * @packageDocumentation
 */
export type { EncodingProfile, CodecOptions, Decoder, Encoder } from './types.js';
export { encodingNames, isEncodingName, resolveEncodingName } from './names.js';
export { systemEncoding } from './system.js';
export { createDecoder, createEncoder, convertFrom, convertTo } from './registry.js';
