import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';

/*
 * The table data of Tcl 8.6.13's table-driven encodings, generated from what tclsh reports by
 * scripts/generate-tables.mjs into data/<name>.json (format described there), loaded on first use.
 */

/** Marks "no mapping" in the decode tables and "not encodable" in the encode tables. */
export const UNMAPPED = 0xffff;

/** A loaded table encoding. */
export interface Table {
  /** 'S' single-byte, 'M' one or two bytes, 'D' always two bytes. */
  readonly type: 'S' | 'M' | 'D';
  /** Decode of each non-lead byte, UNMAPPED when Tcl has no mapping. */
  readonly single: Uint16Array;
  /** 1 for lead bytes. */
  readonly isLead: Uint8Array;
  /** Decode of lead<<8|trail, UNMAPPED when none (only when there are lead bytes). */
  readonly pairs: Uint16Array;
  /** Encode of each BMP code unit: a byte, or lead<<8|trail; UNMAPPED when not encodable. */
  readonly encode: Uint16Array;
  /** The bytes Tcl writes for a character it cannot encode. */
  readonly fallback: Uint8Array;
}

interface TableFile {
  type: 'S' | 'M' | 'D';
  single: string;
  leads: number[];
  rows: number[];
  pairs: string;
  fallback: string;
  encodeExceptions: [number, number][];
}

const cache = new Map<string, Table>();

function units(base64: string): Uint16Array {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Uint16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readUInt16LE(2 * i);
  return out;
}

/** The table of a table encoding (read from the package's data folder once). */
export function loadTable(name: string): Table {
  let table = cache.get(name);
  if (table !== undefined) return table;
  const file = JSON.parse(readFileSync(new URL(`../data/${name}.json`, import.meta.url), 'utf8')) as TableFile;
  const single = units(file.single);
  const isLead = new Uint8Array(256);
  for (const lead of file.leads) isLead[lead] = 1;
  const rows = units(file.pairs);
  const pairs = new Uint16Array(file.leads.length > 0 ? 0x10000 : 0).fill(UNMAPPED);
  file.rows.forEach((lead, row) => pairs.set(rows.subarray(row * 256, row * 256 + 256), lead << 8));
  // Encoding: the inverse of the decode tables (first byte sequence in byte order wins), then
  // the characters where Tcl's own encoding table says otherwise.
  const encode = new Uint16Array(0x10000).fill(UNMAPPED);
  for (let b = 0; b < 256; b++) {
    const c = single[b]!;
    if (c !== UNMAPPED && isLead[b] === 0 && encode[c] === UNMAPPED) encode[c] = b;
  }
  for (const lead of file.rows) {
    for (let t = 0; t < 256; t++) {
      const c = pairs[(lead << 8) | t]!;
      if (c !== UNMAPPED && encode[c] === UNMAPPED) encode[c] = (lead << 8) | t;
    }
  }
  for (const [c, word] of file.encodeExceptions) encode[c] = word < 0 ? UNMAPPED : word;
  table = { type: file.type, single, isLead, pairs, encode, fallback: Uint8Array.from(Buffer.from(file.fallback, 'hex')) };
  cache.set(name, table);
  return table;
}
