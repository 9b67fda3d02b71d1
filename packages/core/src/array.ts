/** Small array helpers for the hot paths (internal: not part of the package's surface). */

/** Empties an array in place: V8 inlines `pop`, while `length = 0` is a call into the runtime. */
export function clearArray(a: unknown[]): void {
  if (a.length > 8) a.length = 0;
  else while (a.length > 0) a.pop();
}
