import process from 'node:process';
import { isEncodingName } from './names.js';

/*
 * Tcl's way to find the system encoding from the environment (unix/tclUnixInit.c,
 * TclpGetEncodingNameFromEnvironment's fallback path): the first non-empty of LC_ALL, LC_CTYPE
 * and LANG, lower-cased; the whole value, then the codeset after the dot, looked up among known
 * locale and codeset names and then among encoding names. Where Tcl 8.6 then falls back to
 * iso8859-1 (nothing set, the C/POSIX locale, an unknown codeset), we choose utf-8, as Tcl 9 does.
 */

/**
 * Tcl 8.6's table of locale and codeset spellings (lower case) that are not Tcl encoding names
 * themselves (tclUnixInit.c's localeTable; hpux entries left out).
 */
const KNOWN: ReadonlyMap<string, string> = new Map([
  ['ansi-1251', 'cp1251'],
  ['eucjp', 'euc-jp'],
  ['euckr', 'euc-kr'],
  ['euctw', 'euc-cn'],
  ['gb2312-1980', 'gb2312'],
  ['greek8', 'cp869'],
  ['ja', 'euc-jp'],
  ['ja_jp', 'euc-jp'],
  ['ja_jp.euc', 'euc-jp'],
  ['ja_jp.eucjp', 'euc-jp'],
  ['ja_jp.jis', 'iso2022-jp'],
  ['ja_jp.mscode', 'shiftjis'],
  ['ja_jp.sjis', 'shiftjis'],
  ['ja_jp.ujis', 'euc-jp'],
  ['japan', 'euc-jp'],
  ['japanese', 'euc-jp'],
  ['japanese-sjis', 'shiftjis'],
  ['japanese-ujis', 'euc-jp'],
  ['japanese.euc', 'euc-jp'],
  ['japanese.sjis', 'shiftjis'],
  ['jp_jp', 'shiftjis'],
  ['ko', 'euc-kr'],
  ['ko_kr', 'euc-kr'],
  ['ko_kr.euc', 'euc-kr'],
  ['ko_kw.euckw', 'euc-kr'],
  ['korean', 'euc-kr'],
  ['roman8', 'iso8859-1'],
  ['ru', 'iso8859-5'],
  ['ru_ru', 'iso8859-5'],
  ['ru_su', 'iso8859-5'],
  ['sjis', 'shiftjis'],
  ['tis620', 'tis-620'],
  ['turkish8', 'cp857'],
  ['utf8', 'utf-8'],
  ['zh', 'cp936'],
  ['zh_cn.gb2312', 'euc-cn'],
  ['zh_cn.gbk', 'euc-cn'],
  ['zh_cz.gb2312', 'euc-cn'],
  ['zh_tw.big5', 'big5'],
  ['ansi_x3.4-1968', 'iso8859-1'],
]);

/** Known spelling or Tcl name (matched case-insensitively) of a lower-cased word. */
function lookup(word: string): string | undefined {
  const known = KNOWN.get(word);
  if (known !== undefined) return known;
  // The table's regular families: iso-8859-N, iso8859-N, iso8859N; cpNNN, ibmNNN; the
  // mixed-case Tcl names (macroman is macRoman).
  const iso = /^iso-?8859-?(\d+)$/.exec(word);
  if (iso !== null && isEncodingName(`iso8859-${iso[1]}`)) return `iso8859-${iso[1]}`;
  const cp = /^(?:cp|ibm)(\d+)$/.exec(word);
  if (cp !== null && isEncodingName(`cp${cp[1]}`)) return `cp${cp[1]}`;
  if (word === 'utf-8') return 'utf-8';
  if (/^iso-?2022(-jp|-kr)?$/.test(word)) return word.replace('iso-', 'iso');
  return TCL_NAMES_LOWER.get(word);
}

const TCL_NAMES_LOWER: ReadonlyMap<string, string> = new Map(
  [
    'ascii', 'big5', 'cp932', 'cp936', 'cp949', 'cp950', 'dingbats', 'ebcdic', 'euc-cn', 'euc-jp', 'euc-kr',
    'gb12345', 'gb1988', 'gb2312', 'gb2312-raw', 'jis0201', 'jis0208', 'jis0212', 'koi8-r', 'koi8-u', 'ksc5601',
    'macCentEuro', 'macCroatian', 'macCyrillic', 'macDingbats', 'macGreek', 'macIceland', 'macJapan', 'macRoman',
    'macRomania', 'macThai', 'macTurkish', 'macUkraine', 'shiftjis', 'symbol', 'tis-620',
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * The system encoding Tcl would choose for the locale in `env` (default `process.env`): the first
 * non-empty of LC_ALL, LC_CTYPE and LANG; its codeset (after the dot, without an `@modifier`)
 * mapped to a Tcl name (`ja_JP.eucJP` gives `euc-jp`, `de_DE.ISO-8859-15@euro` gives
 * `iso8859-15`); a bare locale Tcl knows (`ja_JP` gives `euc-jp`). When nothing usable is set,
 * or the locale is C/POSIX, `utf-8` (Tcl 9's choice; Tcl 8.6 would say iso8859-1).
 */
export function systemEncoding(env: NodeJS.ProcessEnv = process.env): string {
  const value = [env['LC_ALL'], env['LC_CTYPE'], env['LANG']].find((v) => v !== undefined && v !== '');
  if (value === undefined) return 'utf-8';
  const lower = value.toLowerCase();
  const whole = lookup(lower);
  if (whole !== undefined) return whole;
  const dot = lower.indexOf('.');
  if (dot >= 0) {
    const codeset = lower.slice(dot + 1).replace(/@.*$/, '');
    const found = lookup(codeset);
    if (found !== undefined) return found;
  }
  return 'utf-8';
}
