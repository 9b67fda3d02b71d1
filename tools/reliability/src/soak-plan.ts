import { Prng } from './payload.js';
import type { IoMode, ReadStyle, SessionPlan, StreamFormat } from './session.js';

/**
 * The soak's connection plans: what each connection does on each side, derived from a master
 * seed and the connection's number, and the one-line header that tells the server its part.
 */

/** Both sides' plans of one connection. */
export interface ConnectionPlan {
  /** The connection's number (0-based). */
  readonly id: number;
  /** What the client side does. */
  readonly client: SessionPlan;
  /** What the server side does (sent in the header). */
  readonly server: SessionPlan;
}

const FORMATS: readonly StreamFormat[] = ['text', 'binary'];
const MODES: readonly IoMode[] = ['blocking', 'nonblocking'];
const READ_STYLES: readonly ReadStyle[] = ['gets', 'iterator', 'read', 'readBytes'];
const BUFFERINGS: readonly SessionPlan['buffering'][] = ['full', 'full', 'line', 'none'];

function pick<T>(p: Prng, list: readonly T[]): T {
  return list[p.int(0, list.length - 1)] as T;
}

/**
 * The plan of connection `id`: format, each side's mode, read style and buffering, and the
 * bytes each side sends (between `minBytes` and `maxBytes`).
 */
export function connectionPlan(masterSeed: number, id: number, minBytes: number, maxBytes: number): ConnectionPlan {
  const p = new Prng((masterSeed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0);
  const format = FORMATS[id % 2] as StreamFormat;
  // Modes cycle so that every combination of client and server mode occurs.
  const clientMode = MODES[Math.floor(id / 2) % 2] as IoMode;
  const serverMode = MODES[Math.floor(id / 4) % 2] as IoMode;
  const clientBytes = p.int(minBytes, maxBytes);
  const serverBytes = p.int(minBytes, maxBytes);
  const clientSeed = p.nextU32();
  const serverSeed = p.nextU32();
  const client: SessionPlan = {
    format,
    mode: clientMode,
    readStyle: pick(p, READ_STYLES),
    buffering: pick(p, BUFFERINGS),
    sendBytes: clientBytes,
    sendSeed: clientSeed,
    recvBytes: serverBytes,
    recvSeed: serverSeed,
    sizeSeed: p.nextU32(),
  };
  const server: SessionPlan = {
    format,
    mode: serverMode,
    readStyle: pick(p, READ_STYLES),
    buffering: pick(p, BUFFERINGS),
    sendBytes: serverBytes,
    sendSeed: serverSeed,
    recvBytes: clientBytes,
    recvSeed: clientSeed,
    sizeSeed: p.nextU32(),
  };
  return { id, client, server };
}

/** The header line the client sends first: the server's plan, in words. */
export function planHeader(plan: ConnectionPlan): string {
  const s = plan.server;
  return ['SOAK', plan.id, s.format, s.mode, s.readStyle, s.buffering, s.sendBytes, s.sendSeed, s.recvBytes, s.recvSeed, s.sizeSeed].join(' ');
}

/** Parses a header line back into the id and the server's plan; `undefined` when malformed. */
export function parsePlanHeader(line: string): { id: number; plan: SessionPlan } | undefined {
  const w = line.split(' ');
  if (w.length !== 11 || w[0] !== 'SOAK') return undefined;
  const num = (i: number): number => Number(w[i]);
  const format = w[2] as StreamFormat;
  const mode = w[3] as IoMode;
  const readStyle = w[4] as ReadStyle;
  const buffering = w[5] as SessionPlan['buffering'];
  if (!FORMATS.includes(format) || !MODES.includes(mode) || !READ_STYLES.includes(readStyle) || !BUFFERINGS.includes(buffering)) return undefined;
  const nums = [1, 6, 7, 8, 9, 10].map(num);
  if (nums.some((n) => !Number.isSafeInteger(n) || n < 0)) return undefined;
  return {
    id: num(1),
    plan: { format, mode, readStyle, buffering, sendBytes: num(6), sendSeed: num(7), recvBytes: num(8), recvSeed: num(9), sizeSeed: num(10) },
  };
}
