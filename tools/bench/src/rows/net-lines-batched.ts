// lines, raw node:net hand-tuned past gets/puts (the `node:net batched` row, a reference, not the
// baseline): pipelined line echo where no line becomes a value of its own. The client writes
// `count` lines of 40 bytes in ~4 KiB batches (respecting backpressure) while it counts the
// echoes by their newlines, without taking any line out; the server finds each line end
// (indexOf '\n' on a latin1 string) and writes the echoes of one chunk with one write of their
// joined text. net-lines.ts, the baseline, takes every line as a string and writes it.
import { runNetLines } from './net-lines-common.js';

runNetLines('batched', 'net-lines-batched.js');
