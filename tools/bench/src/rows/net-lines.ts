// lines, raw node:net: the hand-split gets/puts baseline of pipelined line echo. What a Node
// program does with gets/puts by hand: the server splits each chunk into lines (indexOf '\n' on
// a latin1 string), takes every line as a string (gets) and writes it with its newline (puts:
// one write per line), corked for the chunk so the kernel sees one write per chunk, as a
// full-buffered Tcl channel flushed when its input is drained; the client writes `count` lines
// of 40 bytes in ~4 KiB batches (respecting backpressure) and takes every echoed line as a
// string, checking its length. This baseline runs about 1.7-2x tclsh, as the core issue expects;
// net-lines-batched.ts (the `node:net batched` row) skips the per-line strings and writes.
import { runNetLines } from './net-lines-common.js';

runNetLines('per-line', 'net-lines.js');
