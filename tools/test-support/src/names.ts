/**
 * Name isolation: tests that resolve names must run under the repository's
 * `scripts/with-test-names` (a sandbox of its own mount and network namespaces whose /etc/hosts
 * knows only localhost, dual.test, v4only.test and v6only.test, and whose nsswitch.conf uses
 * files only), so no lookup ever reaches real DNS. `scripts/run-tests.mjs` runs every suite there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestSupportError } from './errors.js';

/** Names the wrapper's hosts table defines, with the addresses it gives them (glibc order). */
export const TEST_NAMES: Readonly<Record<'localhost' | 'dual.test' | 'v4only.test' | 'v6only.test', readonly string[]>> = {
  localhost: ['::1', '127.0.0.1'],
  'dual.test': ['::1', '127.0.0.1'],
  'v4only.test': ['127.0.0.1'],
  'v6only.test': ['::1'],
};

/** The repository root: this file lives in tools/test-support/{src,dist}/. */
function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

/**
 * The path of the repository's `scripts/with-test-names` (the sandbox with the private hosts
 * table). Throws `ERR_TEST_SUPPORT_MISSING_TOOL` when it is not there (a copy of the package
 * outside the repository).
 */
export function withTestNamesPath(): string {
  const path = resolve(repoRoot(), 'scripts/with-test-names');
  if (!existsSync(path)) {
    throw new TestSupportError(`the names wrapper ${path} is missing: tests resolve names only under it`, 'ERR_TEST_SUPPORT_MISSING_TOOL');
  }
  return path;
}

/** True when this process runs under the names wrapper (env set and its hosts table mounted). */
export function underTestNames(): boolean {
  if (process.env['SOCKCHAN_TEST_NAMES'] === undefined || process.env['SOCKCHAN_TEST_NAMES'] === '') return false;
  try {
    // The env variable is inherited by anything; the hosts table proves the mount is there.
    return /^\s*(?:127\.0\.0\.1|::1)\s+.*\bdual\.test\b/m.test(readFileSync('/etc/hosts', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Throws `ERR_TEST_SUPPORT_NO_TEST_NAMES` unless this process runs under the names wrapper
 * (`SOCKCHAN_TEST_NAMES=1` and /etc/hosts defining dual.test). Call it at the top of every
 * suite that resolves a name, so that a suite run by hand outside the wrapper fails instead of
 * querying real DNS.
 */
export function assertTestNames(): void {
  if (underTestNames()) return;
  const why =
    process.env['SOCKCHAN_TEST_NAMES'] === undefined || process.env['SOCKCHAN_TEST_NAMES'] === ''
      ? 'SOCKCHAN_TEST_NAMES is not set'
      : 'SOCKCHAN_TEST_NAMES is set but /etc/hosts does not define dual.test';
  throw new TestSupportError(
    `this test resolves names and must run under the names wrapper (${why}): ` +
      `run it with \`npx -y pnpm@12.21.0 test <folder>\` from the repository root, or \`${safeWrapperPath()} npx vitest run\``,
    'ERR_TEST_SUPPORT_NO_TEST_NAMES',
  );
}

function safeWrapperPath(): string {
  try {
    return withTestNamesPath();
  } catch {
    return 'scripts/with-test-names';
  }
}
