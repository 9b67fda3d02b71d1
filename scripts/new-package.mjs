#!/usr/bin/env node
// Writes the standard files of a workspace package (package.json, tsconfigs, vitest config)
// without touching existing src/test files. Usage: node scripts/new-package.mjs <dir> <name> <description> [dep...]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description, ...deps] = process.argv.slice(2);
if (!dir || !name || !description) {
  console.error('usage: new-package.mjs <dir> <name> <description> [dep...]');
  process.exit(2);
}
const isTool = dir.startsWith('tools/');
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const pkg = {
  name,
  version: '0.0.0',
  description,
  license: 'MIT',
  ...(isTool ? { private: true } : {}),
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20' },
  exports: {
    '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    './package.json': './package.json',
  },
  types: './dist/index.d.ts',
  files: ['dist', 'src'],
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'eslint .',
    test: 'vitest run',
  },
  dependencies: Object.fromEntries(deps.map((d) => (d.includes('@', 1) ? [d.slice(0, d.lastIndexOf('@')), d.slice(d.lastIndexOf('@') + 1)] : [d, 'workspace:*']))),
  ...(isTool ? {} : {
    repository: { type: 'git', url: 'git+https://example.invalid/sockchan.git', directory: dir },
    publishConfig: { access: 'public' },
    keywords: ['tcl', 'socket', 'channel'],
  }),
};
if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { noEmit: true, rootDir: '.' },
  include: ['src', 'test', '*.ts'],
}, null, 2) + '\n');
writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { rootDir: 'src', outDir: 'dist' },
  include: ['src'],
}, null, 2) + '\n');
writeFileSync(join(dir, 'vitest.config.ts'), `import { defineConfig } from 'vitest/config';

// 2 cores: one forked worker per package (turbo runs two packages at a time).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
`);
console.log('wrote', dir);
