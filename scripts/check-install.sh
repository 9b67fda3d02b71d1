#!/usr/bin/env bash
# check-install: proves README's "Install" section the way a user meets it (`.ci/run` runs it;
# `npx -y pnpm@12.21.0 check-install` by hand).
#  1. builds and packs every public package (scripts/pack-packages.mjs, as README says) into a
#     scratch folder outside the workspace (mktemp -d);
#  2. installs the tarballs with npm into a fresh project there, with the dependencies and
#     overrides pack-packages printed (every package of ours pinned to its tarball, so nothing of
#     ours can come from the registry; checked below); TypeScript and @types/node come from the
#     registry at the workspace's versions;
#  3. takes README's tour (the ```ts block under "## A tour", read now, so README and this check
#     cannot drift), type-checks it with strict tsc (module nodenext) against the installed
#     packages, and runs it under scripts/with-test-names (its own network namespace: port 7777
#     is free there; `localhost` comes from the private hosts table); it must print
#     `hello` and `connected` and exit 0 by itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TURBO_TELEMETRY_DISABLED=1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sockchan-install-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tarballs" "$scratch/app"
say() { echo "check-install: $*" >&2; }

# Packed as README says: scripts/pack-packages.mjs, its JSON (dependencies and overrides) as is.
node scripts/pack-packages.mjs "$scratch/tarballs" --json > "$scratch/fragment.json"
say "packed: $(cd "$scratch/tarballs" && echo *.tgz)"

node --input-type=module - "$scratch" "$root" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [scratch, root] = process.argv.slice(2);
const fragment = JSON.parse(readFileSync(join(scratch, 'fragment.json'), 'utf8'));
const dev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies;
writeFileSync(join(scratch, 'app', 'package.json'), JSON.stringify({
  name: 'sockchan-install-check',
  private: true,
  type: 'module',
  ...fragment,
  devDependencies: { typescript: dev.typescript, '@types/node': dev['@types/node'] },
}, null, 2) + '\n');
writeFileSync(join(scratch, 'app', 'tsconfig.json'), JSON.stringify({
  compilerOptions: {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    types: ['node'],
    outDir: 'dist',
    noEmitOnError: true,
  },
  files: ['tour.ts'],
}, null, 2) + '\n');
// README's tour, as it stands.
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const tour = /^## A tour\n[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(readme);
if (!tour) throw new Error('README.md has no ```ts block under "## A tour"');
writeFileSync(join(scratch, 'app', 'tour.ts'), tour[1]);
EOF

cd "$scratch/app"
npm install --no-audit --no-fund --loglevel=error >/dev/null
# Nothing of ours came from anywhere but the tarballs.
node -e '
const lock = require("./package-lock.json");
const ours = Object.keys(require("./package.json").dependencies);
const bad = Object.entries(lock.packages).filter(([path, p]) => ours.some((n) => path.endsWith(`node_modules/${n}`)) && !String(p.resolved ?? "").startsWith("file:"));
if (bad.length > 0) { console.error("check-install: not from the tarballs:", bad.map(([path, p]) => `${path} ${p.resolved}`)); process.exit(1); }
'
say "installed $(node -p 'Object.keys(require("./package.json").dependencies).join(", ")') from the tarballs"
npx --no-install tsc -p tsconfig.json
say "README's tour type-checks (strict, module nodenext)"
out=$(timeout 60 "$root/scripts/with-test-names" node dist/tour.js)
if [ "$out" != "$(printf 'hello\nconnected')" ]; then
  say "README's tour printed something else than hello, connected:"
  printf '%s\n' "$out" >&2
  exit 1
fi
say "README's tour ran: hello, connected"
