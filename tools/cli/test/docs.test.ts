import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The documentation's checks: the API reference builds without warnings (TypeDoc with the root
// typedoc.json: treatWarningsAsErrors and validation.notDocumented, so every public export has a
// doc comment), links between the pages resolve, the Tcl page covers every command the manual
// uses, and the TypeScript snippets of the pages compile against the real packages.

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const cliDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** The pages this suite checks: the README, docs/*.md, every package's and tool's README. */
function pages(): string[] {
  const found = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const top of ['packages', 'tools']) {
    for (const dir of readdirSync(join(root, top))) {
      if (existsSync(join(root, top, dir, 'README.md'))) found.push(`${top}/${dir}/README.md`);
    }
  }
  return found;
}

describe('API reference', () => {
  it('TypeDoc validates every package with no warning (every public export documented)', () => {
    const r = spawnSync(join(root, 'node_modules/.bin/typedoc'), ['--emit', 'none'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    const output = `${r.stdout}${r.stderr}`;
    expect(output, output).not.toMatch(/\[warning\]|\[error\]/);
    expect(r.status, output).toBe(0);
  }, 200_000);
});

describe('published declarations', () => {
  // stripInternal drops a statement whose doc comment says @internal; a module comment that only
  // mentions the tag attaches to the first import and drops it, leaving names unresolved in the
  // .d.ts a user installs (check-install caught it late, after every test had passed).
  it('every package\'s dist/*.d.ts type-checks on its own (strict, no skipLibCheck)', () => {
    const files: string[] = [];
    for (const dir of readdirSync(join(root, 'packages'))) {
      const dist = join(root, 'packages', dir, 'dist');
      if (!existsSync(dist)) continue;
      for (const f of readdirSync(dist)) if (f.endsWith('.d.ts')) files.push(join(dist, f));
    }
    expect(files.length).toBeGreaterThan(20);
    const r = spawnSync(
      join(root, 'node_modules/.bin/tsc'),
      ['--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', ...files],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    const output = `${r.stdout}${r.stderr}`;
    expect(output, output).toBe('');
    expect(r.status, output).toBe(0);
  }, 150_000);
});

describe('pages', () => {
  it('the README opens with the two commands', () => {
    expect(read('README.md')).toMatch(
      /^# sockchan\n\n```sh\nnpx -y pnpm@12\.21\.0 demo {5}# [^\n]*\nnpx -y pnpm@12\.21\.0 test {5}# [^\n]*\n```\n/,
    );
  });

  it('relative links point at files that exist', () => {
    const broken: string[] = [];
    for (const page of pages()) {
      for (const m of read(page).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(resolve(root, dirname(page), target))) broken.push(`${page}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('docs/for-tcl-programmers.md maps every Tcl command and socket option the manual uses', () => {
    const text = read('docs/for-tcl-programmers.md');
    const tcl = ['socket', 'chan configure', 'gets', 'puts', 'read', 'flush', 'close', 'fblocked', 'eof', 'chan event', 'vwait'];
    const options = ['-myaddr', '-myport', '-async', '-server', '-blocking', '-buffering', '-buffersize', '-encoding', '-translation', '-eofchar', '-error', '-sockname', '-peername', '-connecting'];
    // Each appears as code in a table row's first column.
    const firstColumns = [...text.matchAll(/^\| (.+?) \|/gm)].map((m) => m[1] ?? '');
    for (const word of [...tcl, ...options]) {
      expect(firstColumns.some((c) => new RegExp(`\`${word}( [^\`]*)?\``).test(c)), word).toBe(true);
    }
  });
});

/** ```ts blocks of a page. */
function snippets(page: string): string[] {
  return [...read(page).matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

describe('snippets', () => {
  it('the TypeScript snippets of the READMEs and docs compile against the built packages', () => {
    const all = pages();
    const dir = mkdtempSync(join(cliDir, '.snippets-'));
    try {
      const files: string[] = [];
      for (const page of all) {
        snippets(page).forEach((code, i) => {
          // Snippets that import nothing are fragments of a larger program: not compiled alone.
          if (!/^import /m.test(code)) return;
          const file = `${page.replace(/[/.]/g, '_')}_${i}.ts`;
          writeFileSync(join(dir, file), `${code}\nexport {};\n`);
          files.push(file);
        });
      }
      expect(files.length).toBeGreaterThan(0);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: '../../../tsconfig.base.json',
          compilerOptions: {
            noEmit: true,
            // Snippets use vitest's globals (`it`) and import every workspace package by name.
            types: ['node', 'vitest/globals'],
            paths: {
              sockchan: ['../../../packages/sockchan/dist/index.d.ts'],
              '@sockchan/test-support': ['../../../tools/test-support/dist/index.d.ts'],
              '@sockchan/*': ['../../../packages/*/dist/index.d.ts'],
            },
          },
          files,
        }),
      );
      const r = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
