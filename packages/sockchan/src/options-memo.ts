import { Buffer } from 'node:buffer';

/**
 * The result of checking an options object, kept for the next call with the same object while it
 * holds the same values: a client that connects again and again with one options object (the
 * common case: a constant of the program) pays for the checks once instead of on every connect,
 * where they cost about as much as the rest of a call's own work.
 *
 * A kept check is used only when nothing could make a new check differ: the object is a plain
 * one (no prototype of its own, whose properties the checks would also read), its own keys are
 * the same in the same order, each value is the same (`===`), and the contents of arrays and
 * byte arrays (`ca`, `alpn`), which the caller may have changed in place, are equal to copies
 * taken when it was checked. Options naming files are never kept (a check reads the file again,
 * so a replaced CA file is seen by the next connect).
 */
export class OptionsMemo<T> {
  readonly #kept = new WeakMap<object, KeptCheck<T>>();
  readonly #fileOptions: readonly string[];

  /** `fileOptions`: option names whose value is a file the check reads (never kept). */
  constructor(fileOptions: readonly string[]) {
    this.#fileOptions = fileOptions;
  }

  /** The kept result for `options` with these arguments, if it still holds. */
  get(options: object, host: unknown, port: unknown): T | undefined {
    const kept = this.#kept.get(options);
    if (kept === undefined || kept.host !== host || kept.port !== port) return undefined;
    const o = options as Record<string, unknown>;
    const keys = kept.keys;
    let i = 0;
    for (const key in o) {
      if (i === keys.length || key !== keys[i] || !sameValue(o[key], kept.values[i])) return undefined;
      i += 1;
    }
    return i === keys.length ? kept.result : undefined;
  }

  /** Keeps `result` for `options` (unless it names files or is not a plain object). */
  set(options: object, host: unknown, port: unknown, result: T): void {
    const proto = Object.getPrototypeOf(options) as unknown;
    if (proto !== Object.prototype && proto !== null) return;
    const o = options as Record<string, unknown>;
    const keys: string[] = [];
    const values: unknown[] = [];
    for (const key in o) {
      const value = o[key];
      if (this.#fileOptions.includes(key) && value !== undefined) return;
      keys.push(key);
      values.push(snapshot(value));
    }
    this.#kept.set(options, { host, port, keys, values, result });
  }
}

interface KeptCheck<T> {
  readonly host: unknown;
  readonly port: unknown;
  readonly keys: readonly string[];
  /** The values as checked: arrays and byte arrays as copies (see {@link snapshot}). */
  readonly values: readonly unknown[];
  readonly result: T;
}

/** A kept array or byte array: the object, and a copy of its contents as checked. */
class Copied {
  constructor(
    readonly original: object,
    readonly items: readonly unknown[] | Uint8Array,
  ) {}
}

/** What a value is compared with next time: itself, or for an array or byte array a {@link Copied} (a copy, never a view: a Buffer's `slice` is one). */
function snapshot(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Copied(value, new Uint8Array(value));
  if (Array.isArray(value)) return new Copied(value, value.map((v: unknown) => (v instanceof Uint8Array ? new Uint8Array(v) : v)));
  return value;
}

/** Equal bytes (Buffer's native compare takes any Uint8Array). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function sameValue(now: unknown, kept: unknown): boolean {
  if (!(kept instanceof Copied)) return now === kept;
  if (now !== kept.original) return false;
  const items = kept.items;
  if (items instanceof Uint8Array) return sameBytes(now as Uint8Array, items);
  const list = now as readonly unknown[];
  if (list.length !== items.length) return false;
  for (let i = 0; i < items.length; i++) {
    const a = list[i];
    const b = items[i];
    if (b instanceof Uint8Array ? !(a instanceof Uint8Array) || !sameBytes(a, b) : a !== b) return false;
  }
  return true;
}
