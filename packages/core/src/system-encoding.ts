import process from 'node:process';
import { systemEncoding } from '@sockchan/encodings';

let lastLocale: string | undefined;
let lastSystemEncoding: string | undefined;

/**
 * `systemEncoding()`: the locale variables are read each time (a locale changed at run time
 * applies to channels that need their encoding afterwards), the encoding name is worked out again
 * only when their value changed (the name lookup costs more than the read).
 */
export function currentSystemEncoding(): string {
  const env = process.env;
  // The first non-empty of LC_ALL, LC_CTYPE, LANG, as systemEncoding() takes it.
  let locale = env['LC_ALL'];
  if (locale === undefined || locale === '') locale = env['LC_CTYPE'];
  if (locale === undefined || locale === '') locale = env['LANG'];
  if (locale === '') locale = undefined;
  if (lastSystemEncoding === undefined || locale !== lastLocale) {
    lastSystemEncoding = systemEncoding(locale === undefined ? {} : { LC_ALL: locale });
    lastLocale = locale;
  }
  return lastSystemEncoding;
}
