import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The recorded Tcl 8.6.13 channel vectors (test/fixtures/tcl-channel, recorded from tclsh 8.6.13). */

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tcl-channel');

/** Text as JSON text and as UTF-16 code units in hex. */
export interface VText {
  text?: string;
  cp: string[];
}
export interface GetsResult {
  n: number;
  text?: string;
  cp?: string[];
  eof?: number;
  blocked?: number;
}
export interface ReadResult extends VText {
  eof: number;
  blocked?: number;
}
export interface InputVector {
  id: string;
  description: string;
  config: Record<string, string>;
  chunks: string[];
  gets: GetsResult[];
  read: ReadResult;
  nonblockingGetsEvents: GetsResult[][];
  nonblockingReadEvents: ReadResult[];
  note: string;
}
export interface OutputVector {
  id: string;
  description: string;
  config: Record<string, string>;
  ops: { op: 'puts' | 'putsn' | 'flush'; arg?: VText }[];
  wireHex: string;
  beforeFlushHex?: string;
}
export interface ConfigVector {
  id: string;
  settings: string[];
  result: Record<string, string>;
  error: string;
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
}

export const inputVectors = (): InputVector[] => load<InputVector[]>('input.json');
export const outputVectors = (): OutputVector[] => load<OutputVector[]>('output.json');
export const configVectors = (): ConfigVector[] => load<ConfigVector[]>('config.json');

/** A string from hex UTF-16 code units. */
export function fromCp(cp: readonly string[]): string {
  return String.fromCharCode(...cp.map((h) => parseInt(h, 16)));
}

/** Hex UTF-16 code units of a string (to compare where text cannot hold a lone surrogate). */
export function toCp(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i).toString(16).padStart(4, '0'));
  return out;
}

export function hexToBuffer(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}
