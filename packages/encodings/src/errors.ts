import { SockchanError } from '@sockchan/base';

/** Tcl's error for a name that is not an encoding: `unknown encoding "latin1"`. */
export function unknownEncoding(name: string): SockchanError {
  return new SockchanError(`unknown encoding "${name}"`, {
    code: 'ERR_SOCKCHAN_ENCODING',
    errorCode: ['TCL', 'LOOKUP', 'ENCODING', name],
  });
}

// Tcl 9's `encoding convertfrom/convertto -profile strict` errorCode: TCL ENCODING ILLEGALSEQUENCE <index>.
const illegalSequence = (index: number): string[] => ['TCL', 'ENCODING', 'ILLEGALSEQUENCE', String(index)];

/** Tcl 9's strict-profile decoding error. `index` counts bytes from the start of the stream. */
export function invalidByteSequence(index: number, byte: number): SockchanError {
  const hex = byte.toString(16).toUpperCase().padStart(2, '0');
  return new SockchanError(`unexpected byte sequence starting at index ${index}: '\\x${hex}'`, {
    code: 'EILSEQ',
    errorCode: illegalSequence(index),
  });
}

/** Tcl 9's strict-profile encoding error. `index` counts characters from the start of the stream. */
export function unencodableCharacter(index: number, codePoint: number): SockchanError {
  const hex = codePoint.toString(16).toUpperCase().padStart(6, '0');
  return new SockchanError(`unexpected character at index ${index}: 'U+${hex}'`, {
    code: 'EILSEQ',
    errorCode: illegalSequence(index),
  });
}
