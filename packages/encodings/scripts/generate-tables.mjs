#!/usr/bin/env node
// Regenerates data/<encoding>.json for every table encoding of the local tclsh (8.6.13), from what
// `encoding convertfrom` / `encoding convertto` report (scripts/dump-tables.tcl). The data files are
// committed; the runtime never needs tclsh. Run: `node scripts/generate-tables.mjs` in the package.
//
// File format (all numbers are UTF-16 code units or byte values):
//   type      'S' single-byte, 'M' mixed one/two bytes, 'D' always two bytes
//   single    base64 of Uint16Array(256): decode of each non-lead byte; UNMAPPED when Tcl has no
//             mapping (Tcl 8.6 then yields the character with the byte's number)
//   leads     the lead bytes (a lone lead byte decodes to nothing: it waits for its trail byte)
//   rows      the lead bytes that have at least one mapped pair, in order
//   pairs     base64 of Uint16Array(rows.length * 256): decode of lead+trail, UNMAPPED when none
//             (Tcl 8.6 then yields the lead byte as a character and goes on with the trail byte);
//             the pairs of a lead byte not in `rows` are all UNMAPPED
//   fallback  the bytes written for a character Tcl cannot encode (hex)
//   encodeExceptions  [codePoint, word] where Tcl's encoder differs from the inverse of the decode
//             table (first byte sequence in byte order wins); word -1 means "not encodable"
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import process from 'node:process';
/* global console */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'data');
const UNMAPPED = 0xffff;
// Encodings with their own code (not table driven in Tcl either, or needing state).
const SPECIAL = new Set(['utf-8', 'unicode', 'identity', 'iso2022', 'iso2022-jp', 'iso2022-kr', 'binary']);

const tclsh = process.env.TCLSH ?? 'tclsh';
const names = spawnSync(tclsh, [], { input: 'puts [lsort [encoding names]]', encoding: 'utf8' }).stdout.trim().split(/\s+/);
const tableNames = names.filter((n) => !SPECIAL.has(n));
const dump = spawnSync(tclsh, [join(here, 'dump-tables.tcl'), ...tableNames], { encoding: 'latin1', maxBuffer: 1 << 30 });
if (dump.status !== 0) throw new Error(`dump-tables.tcl failed: ${dump.stderr}`);

/** UTF-16 code units of a dump word ("-" = empty). */
function units(word) {
  if (word === '-') return [];
  const out = [];
  for (let i = 0; i < word.length; i += 4) out.push(parseInt(word.slice(i + 2, i + 4) + word.slice(i, i + 2), 16));
  return out;
}
const b64 = (u16) => Buffer.from(u16.buffer, u16.byteOffset, u16.byteLength).toString('base64');

function bmpChars() {
  const cps = [];
  for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c >= 0xe000) cps.push(c);
  return cps;
}
const BMP = bmpChars();

function build(name, lines) {
  const S = lines.find((l) => l.startsWith('S ')).slice(2).split(' ');
  const type = lines.find((l) => l.startsWith('T ')).slice(2);
  const B = Buffer.from(lines.find((l) => l.startsWith('B ')).slice(2), 'hex');
  const leads = [];
  const pairRows = new Map();
  for (const l of lines.filter((x) => x.startsWith('P '))) {
    const parts = l.split(' ');
    const lead = Number(parts[1]);
    leads.push(lead);
    pairRows.set(lead, parts.slice(2));
  }
  // Tcl's encoding of every BMP character, as a "word" (byte or lead<<8|trail).
  const tclEncode = new Map();
  if (type === 'S') {
    if (B.length !== BMP.length) throw new Error(`${name}: expected ${BMP.length} bytes, got ${B.length}`);
    BMP.forEach((c, i) => tclEncode.set(c, [B[i]]));
  } else if (type === 'D') {
    if (B.length !== 2 * BMP.length) throw new Error(`${name}: expected ${2 * BMP.length} bytes, got ${B.length}`);
    BMP.forEach((c, i) => tclEncode.set(c, [B[2 * i], B[2 * i + 1]]));
  } else {
    let pos = 0;
    for (const c of BMP) {
      const end = B.indexOf(1, pos + (c === 1 ? 1 : 0));
      const seq = [...B.subarray(pos, c === 1 ? end - 1 : end)];
      if (c === 1 && B[pos] !== 1) throw new Error(`${name}: U+0001 does not encode as 01`);
      if (seq.length < (c === 1 ? 0 : 1) || seq.length > 2) throw new Error(`${name}: U+${c.toString(16)} encodes to ${seq.length} bytes`);
      tclEncode.set(c, c === 1 ? [1] : seq);
      pos = end + 1;
    }
    if (pos !== B.length) throw new Error(`${name}: trailing encode bytes`);
  }
  const encodesTo = (c, bytes) => {
    const e = tclEncode.get(c);
    return e !== undefined && e.length === bytes.length && e.every((x, i) => x === bytes[i]);
  };
  // Fallback: the most common encoding of characters that nothing decodes to.
  const decoded = new Set();
  const single = new Uint16Array(256);
  for (let b = 0; b < 256; b++) {
    if (leads.includes(b)) { single[b] = UNMAPPED; continue; }
    const u = units(S[b]);
    if (u.length !== 1) throw new Error(`${name}: byte ${b} decodes to ${u.length} units`);
    if (u[0] === UNMAPPED) throw new Error(`${name}: byte ${b} decodes to U+FFFF`);
    // A byte decoding to the character with its own number may be Tcl's "no mapping" fallback:
    // it is a real mapping only when Tcl encodes that character back to the byte.
    const mapped = u[0] !== b || encodesTo(b, [b]);
    single[b] = mapped ? u[0] : UNMAPPED;
    if (mapped) decoded.add(u[0]);
  }
  const pairs = new Uint16Array(leads.length * 256);
  let ambiguous = 0;
  leads.forEach((lead, li) => {
    const row = pairRows.get(lead);
    for (let t = 0; t < 256; t++) {
      const u = units(row[t]);
      // Unmapped pair: Tcl yields U+lead and decodes the trail byte on its own.
      const tail = leads.includes(t) ? [] : [single[t] === UNMAPPED ? t : single[t]];
      const unmappedOut = [lead, ...tail];
      const isUnmappedShape = u.length === unmappedOut.length && u.every((x, i) => x === unmappedOut[i]);
      let value;
      if (u.length === 1 && !(isUnmappedShape)) value = u[0];
      else if (isUnmappedShape && u.length === 1) {
        // Either a mapping to U+lead or no mapping with a lead trail: ask the encoder.
        ambiguous++;
        value = encodesTo(lead, [lead, t]) ? lead : UNMAPPED;
      } else if (isUnmappedShape) value = UNMAPPED;
      else throw new Error(`${name}: pair ${lead},${t} decodes to ${row[t]}`);
      pairs[li * 256 + t] = value;
      if (value !== UNMAPPED) decoded.add(value);
    }
  });
  // Inverse of the decode table, as the runtime builds it: singles first, then pairs in byte order;
  // the first byte sequence for a character wins.
  const inverse = new Map();
  for (let b = 0; b < 256; b++) if (single[b] !== UNMAPPED && !inverse.has(single[b])) inverse.set(single[b], [b]);
  leads.forEach((lead, li) => {
    for (let t = 0; t < 256; t++) {
      const v = pairs[li * 256 + t];
      if (v !== UNMAPPED && !inverse.has(v)) inverse.set(v, [lead, t]);
    }
  });
  const counts = new Map();
  for (const c of BMP) {
    if (inverse.has(c)) continue;
    const k = Buffer.from(tclEncode.get(c)).toString('hex');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const fallback = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const exceptions = [];
  const word = (bytes) => (bytes.length === 2 ? (bytes[0] << 8) | bytes[1] : bytes[0]);
  for (const c of BMP) {
    const tcl = tclEncode.get(c);
    const inv = inverse.get(c);
    const tclIsFallback = Buffer.from(tcl).toString('hex') === fallback && (inv === undefined || Buffer.from(inv).toString('hex') !== fallback);
    if (inv === undefined) {
      if (!tclIsFallback) exceptions.push([c, word(tcl)]);
    } else if (tclIsFallback) {
      exceptions.push([c, -1]);
    } else if (Buffer.from(tcl).toString('hex') !== Buffer.from(inv).toString('hex')) {
      exceptions.push([c, word(tcl)]);
    }
  }
  for (const [c, w] of exceptions) if (w === UNMAPPED || c === UNMAPPED) throw new Error(`${name}: U+FFFF or word FFFF in use`);
  const rows = leads.filter((_, li) => pairs.subarray(li * 256, li * 256 + 256).some((v) => v !== UNMAPPED));
  const kept = new Uint16Array(rows.length * 256);
  rows.forEach((lead, ri) => {
    const li = leads.indexOf(lead);
    kept.set(pairs.subarray(li * 256, li * 256 + 256), ri * 256);
  });
  return { name, type, single: b64(single), leads, rows, pairs: b64(kept), fallback, encodeExceptions: exceptions, ambiguous };
}

mkdirSync(dataDir, { recursive: true });
const blocks = dump.stdout.split(/^E /m).filter(Boolean);
const summary = [];
for (const block of blocks) {
  const lines = block.split('\n');
  const name = lines[0].trim();
  const table = build(name, lines.slice(1));
  const { ambiguous, ...data } = table;
  writeFileSync(join(dataDir, `${name}.json`), JSON.stringify(data) + '\n');
  summary.push(`${name}: ${data.type} leads=${data.leads.length} fallback=${data.fallback} exceptions=${data.encodeExceptions.length} ambiguous=${ambiguous}`);
}
console.log(summary.join('\n'));
