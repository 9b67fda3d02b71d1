/**
 * Tcl's `clock format $seconds` with its default format, `%a %b %d %H:%M:%S %Z %Y`, in local
 * time: `Tue Nov 24 07:03:47 UTC 2026`. The time server sends this line, as the manual's does.
 */
export function formatClock(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getDay()] as string;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getMonth()] as string;
  const zone =
    new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${day} ${month} ${pad(date.getDate())} ${time} ${zone} ${date.getFullYear()}`;
}
