import { unknownEncoding } from './errors.js';

/**
 * Tcl 8.6.13's `encoding names` (83), plus `binary` (accepted by `chan configure -encoding`),
 * sorted as Tcl's `lsort` sorts them. Names are case-sensitive, as in Tcl.
 */
const NAMES: readonly string[] = Object.freeze(
  [
    'ascii', 'big5', 'binary', 'cns11643', 'cp1250', 'cp1251', 'cp1252', 'cp1253', 'cp1254', 'cp1255', 'cp1256',
    'cp1257', 'cp1258', 'cp437', 'cp737', 'cp775', 'cp850', 'cp852', 'cp855', 'cp857', 'cp860', 'cp861', 'cp862',
    'cp863', 'cp864', 'cp865', 'cp866', 'cp869', 'cp874', 'cp932', 'cp936', 'cp949', 'cp950', 'dingbats', 'ebcdic',
    'euc-cn', 'euc-jp', 'euc-kr', 'gb12345', 'gb1988', 'gb2312', 'gb2312-raw', 'identity', 'iso2022', 'iso2022-jp',
    'iso2022-kr', 'iso8859-1', 'iso8859-10', 'iso8859-11', 'iso8859-13', 'iso8859-14', 'iso8859-15', 'iso8859-16',
    'iso8859-2', 'iso8859-3', 'iso8859-4', 'iso8859-5', 'iso8859-6', 'iso8859-7', 'iso8859-8', 'iso8859-9',
    'jis0201', 'jis0208', 'jis0212', 'koi8-r', 'koi8-u', 'ksc5601', 'macCentEuro', 'macCroatian', 'macCyrillic',
    'macDingbats', 'macGreek', 'macIceland', 'macJapan', 'macRoman', 'macRomania', 'macThai', 'macTurkish',
    'macUkraine', 'shiftjis', 'symbol', 'tis-620', 'unicode', 'utf-8',
  ].sort(),
);
const NAME_SET: ReadonlySet<string> = new Set(NAMES);

/** Tcl 8.6.13's `encoding names` plus `binary`, sorted (a fresh array each call). */
export function encodingNames(): string[] {
  return [...NAMES];
}

/** Whether `name` is one of {@link encodingNames} (exact, case-sensitive, as Tcl). */
export function isEncodingName(name: string): boolean {
  return NAME_SET.has(name);
}

/**
 * The canonical Tcl name of an encoding: `name` itself when it is one, else a SockchanError
 * `unknown encoding "latin1"` (code `ERR_SOCKCHAN_ENCODING`, errorCode `TCL LOOKUP ENCODING latin1`).
 */
export function resolveEncodingName(name: string): string {
  if (!NAME_SET.has(name)) throw unknownEncoding(name);
  return name;
}
