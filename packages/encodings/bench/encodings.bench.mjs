// `pnpm bench encodings`: decode and encode throughput (MB/s of encoded bytes) of
// @sockchan/encodings for utf-8, iso8859-1, cp1252, shiftjis and euc-jp, on 64 KiB and on
// 100-byte chunks, next to Buffer / TextDecoder and iconv-lite called directly, in the same run.
//
// Module: `run({ quick, reps, progress })` -> rows for tools/bench (CustomWorkloadModule).
// CLI:    `node bench/encodings.bench.mjs [--quick] [--reps N] [word ...]` prints a table and one
//         JSON line per row (words select metrics, e.g. `64KiB` or `utf-8`).
// sockchan's codecs run as a channel uses them: one streaming decoder/encoder per run, fed chunk
// by chunk. Buffer and iconv-lite are called per chunk too (Buffer without carrying a cut
// sequence over, which is the cheapest possible baseline). Ratios: utf-8 and iso8859-1 against
// Buffer, the table encodings against iconv-lite.
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import iconv from 'iconv-lite';
import { convertTo, createDecoder, createEncoder } from '../dist/index.js';
/* global console, TextDecoder, setImmediate */

const ENCODINGS = [
  { tcl: 'utf-8', iconv: 'utf8', node: 'utf8', whatwg: 'utf-8', baseline: 'Buffer' },
  { tcl: 'iso8859-1', iconv: 'latin1', node: 'latin1', whatwg: null, baseline: 'Buffer' },
  { tcl: 'cp1252', iconv: 'windows-1252', node: null, whatwg: 'windows-1252', baseline: 'iconv-lite' },
  { tcl: 'shiftjis', iconv: 'shift_jis', node: null, whatwg: 'shift_jis', baseline: 'iconv-lite' },
  { tcl: 'euc-jp', iconv: 'euc-jp', node: null, whatwg: 'euc-jp', baseline: 'iconv-lite' },
];
const CHUNKS = [
  { label: '64KiB', size: 65536 },
  { label: '100B', size: 100 },
];

/** Deterministic sample text that each encoding can encode (mostly ASCII, as protocols are). */
function sampleText(tcl, length) {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const words = ['the ', 'quick ', 'brown ', 'fox ', 'jumps ', 'over ', 'lazy ', 'dog ', '123 ', 'line\n'];
  const extra =
    tcl === 'utf-8' ? ['é', 'ü', '€', 'あ', '中', '😀'] :
    tcl === 'iso8859-1' ? ['é', 'ü', 'ß', '©', '±'] :
    tcl === 'cp1252' ? ['é', '€', '“', '”', 'Ÿ'] :
    ['あ', 'い', 'ア', '中', '日本', '語', 'ｱ'];
  let s = '';
  while (s.length < length) s += rand() < 0.15 ? extra[Math.floor(rand() * extra.length)] : words[Math.floor(rand() * words.length)];
  return s.slice(0, length).replace(/[\uD800-\uDBFF]$/, '');
}

/**
 * Uses a decoded string the way a channel does (a search for a line end), so every library pays
 * for a flat string: a decoder that returns a joined (rope) string is not measured as faster
 * just because nobody read its result.
 */
function consume(text) {
  return text.indexOf('\u0001') + text.length;
}

function chunksOf(bytes, size) {
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** Splits text into pieces whose encoding is about `size` bytes (never inside a surrogate pair). */
function textChunksOf(text, totalBytes, size) {
  const per = Math.max(1, Math.round((size * text.length) / totalBytes));
  const out = [];
  for (let i = 0; i < text.length; ) {
    let j = Math.min(text.length, i + per);
    const c = text.charCodeAt(j - 1);
    if (c >= 0xd800 && c <= 0xdbff && j < text.length) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** MB/s of `bytes` processed by `fn`, best of a few inner loops lasting at least `minMs`. */
function measure(fn, bytes, minMs) {
  fn(); // warm-up
  let loops = 0;
  const start = performance.now();
  let elapsed;
  do {
    fn();
    loops++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (bytes * loops) / 1e6 / (elapsed / 1000);
}

let sink = 0;

function cases(quick) {
  const total = quick ? 256 * 1024 : 2 * 1024 * 1024;
  const list = [];
  for (const enc of ENCODINGS) {
    const text = sampleText(enc.tcl, total);
    const bytes = Buffer.from(convertTo(enc.tcl, text));
    for (const chunk of CHUNKS) {
      const byteChunks = chunksOf(bytes, chunk.size);
      const textChunks = textChunksOf(text, bytes.length, chunk.size);
      const decode = {
        sockchan: () => {
          const d = createDecoder(enc.tcl);
          for (const c of byteChunks) sink += consume(d.decode(c));
          sink += consume(d.end());
        },
        'iconv-lite': () => {
          const d = iconv.getDecoder(enc.iconv);
          for (const c of byteChunks) sink += consume(d.write(c));
          sink += consume(d.end() ?? '');
        },
      };
      if (enc.node !== null) {
        decode.Buffer = () => {
          for (const c of byteChunks) sink += consume(c.toString(enc.node));
        };
      }
      if (enc.whatwg !== null) {
        decode.TextDecoder = () => {
          const d = new TextDecoder(enc.whatwg);
          for (const c of byteChunks) sink += consume(d.decode(c, { stream: true }));
          sink += consume(d.decode());
        };
      }
      const encode = {
        sockchan: () => {
          const e = createEncoder(enc.tcl);
          for (const t of textChunks) sink += e.encode(t).length;
          sink += e.end().length;
        },
        'iconv-lite': () => {
          const e = iconv.getEncoder(enc.iconv);
          for (const t of textChunks) sink += e.write(t).length;
          sink += (e.end() ?? Buffer.alloc(0)).length;
        },
      };
      if (enc.node !== null) {
        encode.Buffer = () => {
          for (const t of textChunks) sink += Buffer.from(t, enc.node).length;
        };
      }
      list.push({ enc, chunk, direction: 'decode', impls: decode, bytes: bytes.length });
      list.push({ enc, chunk, direction: 'encode', impls: encode, bytes: bytes.length });
    }
  }
  return list;
}

/** tools/bench entry point: one row per implementation and metric, `reps` samples each. */
export async function run({ quick = false, reps = 5, progress = () => {}, only = [] } = {}) {
  const minMs = quick ? 30 : 150;
  const rows = [];
  for (const c of cases(quick)) {
    const metric = `${c.enc.tcl} ${c.direction} ${c.chunk.label}`;
    if (only.length > 0 && !only.some((word) => metric.includes(word))) continue;
    const samples = Object.fromEntries(Object.keys(c.impls).map((k) => [k, []]));
    // Interleave the implementations in each repetition, and rotate who goes first, so that
    // machine noise and the garbage one leaves for the next to collect hit all alike.
    const impls = Object.entries(c.impls);
    for (let r = 0; r < reps; r++) {
      for (let k = 0; k < impls.length; k++) {
        const [impl, fn] = impls[(r + k) % impls.length];
        samples[impl].push(measure(fn, c.bytes, minMs));
      }
    }
    progress(`${metric}: done`);
    for (const [impl, s] of Object.entries(samples)) {
      rows.push({ impl, metric, unit: 'MB/s', samples: s, better: 'higher', baseline: c.enc.baseline });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (sink === -1) console.log(sink);
  return rows;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The rows as a table with the ratio of sockchan to the baseline of each metric. */
export function formatRows(rows) {
  const byMetric = new Map();
  for (const r of rows) {
    if (!byMetric.has(r.metric)) byMetric.set(r.metric, []);
    byMetric.get(r.metric).push(r);
  }
  const lines = [`${'metric'.padEnd(26)} ${'sockchan'.padStart(9)} ${'Buffer'.padStart(9)} ${'TextDec'.padStart(9)} ${'iconv'.padStart(9)}  ratio (vs)`];
  for (const [metric, list] of byMetric) {
    const get = (impl) => list.find((r) => r.impl === impl);
    const cell = (impl) => (get(impl) ? median(get(impl).samples).toFixed(0) : '-').padStart(9);
    const base = get(list[0].baseline);
    const ratio = base ? (median(get('sockchan').samples) / median(base.samples)).toFixed(2) : '-';
    lines.push(`${metric.padEnd(26)} ${cell('sockchan')} ${cell('Buffer')} ${cell('TextDecoder')} ${cell('iconv-lite')}  ${ratio}x (${list[0].baseline})`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const repsAt = args.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : quick ? 1 : 5;
  const only = args.filter((a, i) => !a.startsWith('--') && (repsAt < 0 || i !== repsAt + 1));
  const rows = await run({ quick, reps, only, progress: (l) => process.stderr.write(`${l}\n`) });
  console.log(formatRows(rows));
  for (const r of rows) console.log(JSON.stringify({ workload: 'encodings', ...r, median: median(r.samples) }));
}
