/**
 * Tcl's `clock format $seconds` with its default format, `%a %b %d %H:%M:%S %Z %Y`
 * (`Tue Nov 24 07:30:00 UTC 2026`), in the local time zone.
 */
export function clockFormat(seconds: number): string {
  const date = new Date(seconds * 1000);
  const part = (options: Intl.DateTimeFormatOptions, type: Intl.DateTimeFormatPartTypes): string =>
    new Intl.DateTimeFormat('en-US', { ...options, hourCycle: 'h23' }).formatToParts(date).find((p) => p.type === type)?.value ?? '';
  const two = (n: number): string => String(n).padStart(2, '0');
  const zone = part({ timeZoneName: 'short' }, 'timeZoneName');
  const weekday = part({ weekday: 'short' }, 'weekday');
  const month = part({ month: 'short' }, 'month');
  return `${weekday} ${month} ${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone} ${date.getFullYear()}`;
}

/** Tcl's `clock seconds`. */
export function clockSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
