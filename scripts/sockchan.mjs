#!/usr/bin/env node
// `npx -y pnpm@12.21.0 sockchan ARGS...`: the `sockchan` command (tools/cli) from a clone, as
// README shows it. Builds the command and what it imports when needed (turbo: a no-op when
// nothing changed), then runs it with ARGS. The build is quiet unless it fails (then its output
// goes to stderr), so stdout carries only what the socket sent.
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const turbo = ['run', 'build', '--concurrency=2', '--output-logs=errors-only', '--filter=@sockchan/cli...'];
// turbo needs a `pnpm` binary on PATH: there is one under `pnpm sockchan`; otherwise go through npx.
const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;
const [command, argv] = hasPnpm
  ? [join(root, 'node_modules', '.bin', 'turbo'), turbo]
  : ['npx', ['-y', 'pnpm@12.21.0', 'exec', 'turbo', ...turbo]];
const build = spawnSync(command, argv, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
  console.error(`sockchan: building the command failed (${build.error?.message ?? `exit ${build.status}`})`);
  process.exit(1);
}
// The CLI reads process.argv itself: hand it ours without this script's own path.
const cli = join(root, 'tools/cli/dist/cli.js');
process.argv.splice(1, 1, cli);
await import(pathToFileURL(cli).href);
