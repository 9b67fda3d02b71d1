#!/usr/bin/env node
// Sweeps every encoding of @sockchan/encodings against the local tclsh and prints a table of the
// differences. Decoding: every byte of each table, every lead/trail pair of the double-byte tables,
// the utf-8 sequences of 1 and 2 bytes and of 3 and 4 bytes around every lead byte, UTF-16 units,
// and random byte strings (also for the escape encodings). Encoding: every BMP character (one
// string per encoding, which also checks that table encoders need no state), surrogates lone and
// paired, and random strings. All requests go to one tclsh process (scripts/sweep.tcl).
//
// CLI: node scripts/sweep.mjs [--json] [encoding ...]   (uses the built dist/; exit 1 on differences)
// Module: runSweep({ convertFrom, convertTo, encodings?, tclsh?, seed? }) -> Promise<Report>
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
/* global console */

const here = dirname(fileURLToPath(import.meta.url));
const bigEndian = endianness() === 'BE';

/** Deterministic PRNG (mulberry32), so a difference can be reproduced. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hexOfBytes = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
function hexOfText(text) {
  const b = Buffer.from(text, 'utf16le');
  if (bigEndian) b.swap16();
  return b.toString('hex');
}

const ESCAPES = {
  'iso2022-jp': ['\x1b(B', '\x1b(J', '\x1b$B', '\x1b$@', '\x1b$(D', '\x1b$A', '\x1b$(C'],
  'iso2022-kr': ['\x1b$)C', '\x0f', '\x0e'],
  iso2022: ['\x1b(B', '\x1b(J', '\x1b(T', '\x1b$B', '\x1b$@', '\x1b$(D', '\x1b$A', '\x1b$(C', '\x1b&@\x1b$B'],
};

/** Decode probes (byte arrays) for one encoding. `leads` are its lead bytes as tclsh reports them. */
function decodeProbes(name, leads, rand) {
  const probes = [];
  const randomBytes = (count, maxLen, pool) => {
    for (let k = 0; k < count; k++) {
      const len = 1 + Math.floor(rand() * maxLen);
      const p = new Uint8Array(len);
      for (let i = 0; i < len; i++) p[i] = pool ? pool[Math.floor(rand() * pool.length)] : Math.floor(rand() * 256);
      probes.push(p);
    }
  };
  if (name === 'utf-8' || name === 'identity') {
    for (let a = 0; a < 256; a++) {
      probes.push(Uint8Array.of(a));
      for (let b = 0; b < 256; b++) probes.push(Uint8Array.of(a, b));
    }
    const seconds = [];
    for (let b = 0x70; b < 0xd0; b++) seconds.push(b);
    const others = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc3, 0xe2, 0xf0, 0xff];
    for (let a = 0xe0; a < 0xf8; a++) {
      for (const b of seconds) {
        for (let c = 0x80; c < 0xc0; c += a < 0xf0 ? 1 : 7) {
          probes.push(Uint8Array.of(a, b, c));
          if (a >= 0xf0) for (const d of [0x41, 0x80, 0x9f, 0xbf, 0xc0]) probes.push(Uint8Array.of(a, b, c, d));
        }
        for (const c of others) probes.push(Uint8Array.of(a, b, c));
      }
    }
    const pool = [0x00, 0x0a, 0x41, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xf8, 0xff];
    randomBytes(3000, 14, pool);
    randomBytes(1000, 14);
    return probes;
  }
  if (name === 'unicode') {
    const all = new Uint8Array(0x20000);
    for (let u = 0; u < 0x10000; u++) {
      all[2 * u] = bigEndian ? u >> 8 : u & 0xff;
      all[2 * u + 1] = bigEndian ? u & 0xff : u >> 8;
    }
    probes.push(all, all.subarray(0, 0x1ffff), Uint8Array.of(0x41));
    const pool = [0x00, 0x41, 0xd8, 0xdb, 0xdc, 0xdf, 0x3d, 0x0a];
    randomBytes(2000, 13, pool);
    return probes;
  }
  if (name in ESCAPES) {
    const seqs = ESCAPES[name].map((s) => [...Buffer.from(s, 'latin1')]);
    for (let k = 0; k < 4000; k++) {
      const parts = [];
      const pieces = 1 + Math.floor(rand() * 6);
      for (let j = 0; j < pieces; j++) {
        const r = rand();
        if (r < 0.35) parts.push(...seqs[Math.floor(rand() * seqs.length)]);
        else if (r < 0.45) parts.push(0x1b, ...[0x24, 0x28, 0x26, 0x29, 0x41, 0x42].slice(0, Math.floor(rand() * 4)));
        else {
          const len = 1 + Math.floor(rand() * 6);
          for (let i = 0; i < len; i++) parts.push(rand() < 0.7 ? 0x21 + Math.floor(rand() * 0x5e) : Math.floor(rand() * 256));
        }
      }
      probes.push(Uint8Array.from(parts));
    }
    return probes;
  }
  // Table encodings (and iso8859-1, ascii).
  const all = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    probes.push(Uint8Array.of(b));
    all[b] = b;
  }
  probes.push(all);
  for (const lead of leads) {
    for (let t = 0; t < 256; t++) {
      probes.push(Uint8Array.of(lead, t));
      probes.push(Uint8Array.of(lead, t, 0x41));
    }
  }
  randomBytes(1500, 10, leads.length > 0 ? [...leads, ...leads, 0x0a, 0x41, 0x5c, 0x80, 0xa1, 0xfe, 0xff] : undefined);
  return probes;
}

let bmpString;
function bmp() {
  if (bmpString === undefined) {
    const units = [];
    for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c >= 0xe000) units.push(c);
    bmpString = String.fromCharCode(...units.slice(0, 30000)) + String.fromCharCode(...units.slice(30000));
  }
  return bmpString;
}

/** Encode probes (strings) for one encoding. */
function encodeProbes(name, rand) {
  const probes = [bmp(), '', 'a', '\0', '\x7f', '\ud800', '\udc00', 'a\ud800b', 'a\udc00b', '\ud83d\ude00', 'x\ud83d\ude00y', '\ud83dx', '\ude00\ud83d'];
  const pool = ['a', 'Z', '\n', '\0', '\x7f', '\x80', '\xe9', '\xff', '\u0100', '\u20ac', '\u3042', '\u4e2d', '\uac00', '\uff71', '\ud83d', '\ude00', '\ufffd', '\u2460', '\u00a5', '\u203e'];
  for (let k = 0; k < (name in ESCAPES ? 2000 : 300); k++) {
    let s = '';
    const len = 1 + Math.floor(rand() * 10);
    for (let i = 0; i < len; i++) s += rand() < 0.8 ? pool[Math.floor(rand() * pool.length)] : String.fromCharCode(Math.floor(rand() * 0x10000));
    probes.push(s);
  }
  return probes;
}

/**
 * Whether `bytes` ends with the first three bytes of a 4-byte UTF-8 sequence. Tcl 8.6.13
 * (TCL_UTF_MAX 3) then looks at the byte after the end of its buffer, so its result varies from
 * run to run; sockchan decodes the three bytes as Latin-1 characters, as Tcl does when that byte
 * is not a continuation byte (see the package README).
 */
function endsWithCutFourByteSequence(bytes) {
  const n = bytes.length;
  if (n < 3) return false;
  const [a, b, c] = [bytes[n - 3], bytes[n - 2], bytes[n - 1]];
  const second = a === 0xf0 ? b >= 0x90 && b <= 0xbf : a === 0xf4 ? b >= 0x80 && b <= 0x8f : a > 0xf0 && a < 0xf4 && b >= 0x80 && b <= 0xbf;
  return second && c >= 0x80 && c <= 0xbf;
}

/** Starts tclsh on sweep.tcl; returns ask(lines) -> Promise<answers>. */
function startTclsh(tclsh) {
  const child = spawn(tclsh, [join(here, 'sweep.tcl')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const answers = [];
  let waiting = null;
  lines.on('line', (line) => {
    answers.push(line);
    if (waiting && answers.length >= waiting.count) {
      const w = waiting;
      waiting = null;
      w.resolve(answers.splice(0, w.count));
    }
  });
  const exited = new Promise((resolve) => child.on('close', resolve));
  child.on('error', (err) => waiting?.reject(err));
  return {
    ask(requests) {
      return new Promise((resolve, reject) => {
        waiting = { count: requests.length, resolve, reject };
        exited.then(() => { if (waiting) reject(new Error(`${tclsh} exited before answering`)); });
        child.stdin.write(requests.join('\n') + '\n');
        if (answers.length >= requests.length) {
          waiting = null;
          resolve(answers.splice(0, requests.length));
        }
      });
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * Runs the sweep. `convertFrom`/`convertTo`: the implementation under test (tcl8 profile).
 * Returns { rows: [{ encoding, decodeProbes, decodeDiffs, encodeProbes, encodeDiffs, examples }], differences }.
 */
export async function runSweep({ convertFrom, convertTo, encodings, tclsh = process.env.TCLSH ?? 'tclsh', seed = 8613 }) {
  const tcl = startTclsh(tclsh);
  try {
    const [namesLine] = await tcl.ask(['E unicode ' + hexOfText('')]); // warm-up; checks the pipe
    void namesLine;
    const names = encodings ?? (await listEncodings(tclsh));
    const rows = [];
    for (const name of names) {
      const rand = prng(seed ^ [...name].reduce((h, ch) => Math.imul(h, 31) + ch.charCodeAt(0), 7));
      // Lead bytes: single bytes that tclsh decodes to nothing.
      const singles = await tcl.ask(Array.from({ length: 256 }, (_, b) => `D ${name} ${b.toString(16).padStart(2, '0')}`));
      const leads = name === 'utf-8' || name === 'identity' || name === 'unicode' || name in ESCAPES ? [] : singles.flatMap((h, b) => (h === '' ? [b] : []));
      const dProbes = decodeProbes(name, leads, rand);
      const eProbes = encodeProbes(name, rand);
      const dAnswers = await tcl.ask(dProbes.map((p) => `D ${name} ${hexOfBytes(p)}`));
      const eAnswers = await tcl.ask(eProbes.map((s) => `E ${name} ${hexOfText(s)}`));
      const examples = [];
      let decodeDiffs = 0;
      let encodeDiffs = 0;
      let undefinedInTcl = 0;
      dProbes.forEach((p, i) => {
        const want = dAnswers[i];
        if (name === 'utf-8' && endsWithCutFourByteSequence(p)) {
          // Tcl 8.6.13 reads past the end of its buffer here: its answer depends on memory.
          undefinedInTcl++;
          return;
        }
        let got;
        try {
          got = hexOfText(convertFrom(name, p));
        } catch (err) {
          got = `! ${err.message}`;
        }
        if (got !== want) {
          decodeDiffs++;
          if (examples.length < 6) examples.push(`decode ${hexOfBytes(p).slice(0, 40)}: tclsh ${want.slice(0, 40)} ours ${got.slice(0, 40)}`);
        }
      });
      eProbes.forEach((s, i) => {
        const want = eAnswers[i];
        let got;
        try {
          got = hexOfBytes(convertTo(name, s));
        } catch (err) {
          got = `! ${err.message}`;
        }
        if (got !== want) {
          encodeDiffs++;
          let detail = '';
          if (s === bmpString) {
            // Find the first differing character for the report.
            let k = 0;
            while (k < got.length && got[k] === want[k]) k++;
            detail = ` (first difference at hex offset ${k})`;
          }
          if (examples.length < 6) examples.push(`encode ${hexOfText(s).slice(0, 40)}: tclsh ${want.slice(0, 40)} ours ${got.slice(0, 40)}${detail}`);
        }
      });
      rows.push({ encoding: name, decodeProbes: dProbes.length - undefinedInTcl, decodeDiffs, undefinedInTcl, encodeProbes: eProbes.length, encodeDiffs, examples });
    }
    return { rows, differences: rows.reduce((n, r) => n + r.decodeDiffs + r.encodeDiffs, 0) };
  } finally {
    await tcl.close();
  }
}

async function listEncodings(tclsh) {
  const child = spawn(tclsh, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end('puts [lsort [encoding names]]\n');
  let out = '';
  for await (const chunk of child.stdout) out += chunk;
  return out.trim().split(/\s+/);
}

/** The report as a text table. */
export function formatReport(report) {
  const lines = [`${'encoding'.padEnd(14)} ${'decode probes'.padStart(13)} ${'diffs'.padStart(6)} ${'encode probes'.padStart(13)} ${'diffs'.padStart(6)}  notes`];
  for (const r of report.rows) {
    const note = r.undefinedInTcl > 0 ? `  ${r.undefinedInTcl} probes skipped: Tcl reads past the end of input` : '';
    lines.push(`${r.encoding.padEnd(14)} ${String(r.decodeProbes).padStart(13)} ${String(r.decodeDiffs).padStart(6)} ${String(r.encodeProbes).padStart(13)} ${String(r.encodeDiffs).padStart(6)}${note}`);
    for (const e of r.examples) lines.push(`    ${e}`);
  }
  lines.push(`${report.differences} difference(s) in ${report.rows.length} encodings`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const encodings = args.filter((a) => a !== '--json');
  const api = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
  const started = Date.now();
  const report = await runSweep({ convertFrom: api.convertFrom, convertTo: api.convertTo, encodings: encodings.length > 0 ? encodings : undefined });
  if (json) console.log(JSON.stringify(report));
  else console.log(`${formatReport(report)}\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exitCode = report.differences === 0 ? 0 : 1;
}
