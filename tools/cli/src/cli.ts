#!/usr/bin/env node
/**
 * The `sockchan` bin: runs {@link main} on the real process, turns SIGINT and SIGTERM into a
 * clean stop (everything closed; exit 130 or 143), and sets the exit status.
 */
import { readFileSync } from 'node:fs';
import { main } from './main.js';

const controller = new AbortController();
const onSignal = (code: number) => (): void => {
  // A second Ctrl-C while closing: leave at once.
  if (controller.signal.aborted) process.exit(code);
  controller.abort(code);
};
process.on('SIGINT', onSignal(130));
process.on('SIGTERM', onSignal(143));

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };

const code = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  ...(pkg.version === undefined ? {} : { version: pkg.version }),
});
process.exitCode = code;
// Everything is closed; a terminal on stdin may still hold the event loop: do not wait for it.
setTimeout(() => process.exit(code), 1000).unref();
process.stdin.destroy();
