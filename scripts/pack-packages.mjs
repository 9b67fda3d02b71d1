#!/usr/bin/env node
// `npx -y pnpm@12.21.0 run pack-packages DIR`: builds every public package (packages/*), packs each
// into DIR (`pnpm pack`: workspace:* becomes the version), and prints the `dependencies` and
// `overrides` to put in a project's package.json: every name of ours pinned to its tarball, so
// that npm never asks the registry for any of them. README's "Install" section; check-install.sh
// uses the same. `--json` prints only the JSON.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const dirArg = args.find((a) => !a.startsWith('--'));
if (dirArg === undefined) {
  console.error('usage: pack-packages DIR [--json]');
  process.exit(2);
}
const out = resolve(process.env.INIT_CWD ?? process.cwd(), dirArg);
mkdirSync(out, { recursive: true });
// turbo and pack need a `pnpm` binary: there is one under `pnpm run`; otherwise go through npx.
const pnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0 ? ['pnpm'] : ['npx', '-y', 'pnpm@12.21.0'];
const run = (argv, cwd) => {
  const r = spawnSync(pnpm[0], [...pnpm.slice(1), ...argv], { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? '');
    console.error(`pack-packages: \`pnpm ${argv.join(' ')}\` failed in ${cwd}`);
    process.exit(1);
  }
  return r.stdout;
};
run(['exec', 'turbo', 'run', 'build', '--concurrency=2', '--output-logs=errors-only', '--filter=./packages/*'], root);
const deps = {};
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.private === true) continue;
  const tarball = `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;
  run(['pack', '--pack-destination', out], dir);
  if (!existsSync(join(out, tarball))) {
    console.error(`pack-packages: pnpm pack did not write ${join(out, tarball)}`);
    process.exit(1);
  }
  deps[manifest.name] = `file:${join(out, tarball)}`;
}
const fragment = { dependencies: deps, overrides: deps };
if (json) {
  console.log(JSON.stringify(fragment, null, 2));
} else {
  console.log(`Packed ${Object.keys(deps).length} packages into ${out}. Add to your project's package.json, then \`npm install\`:`);
  console.log(JSON.stringify(fragment, null, 2));
}
