#!/usr/bin/env node
// The whole test suite, as README's test command runs it (`npx -y pnpm@12.21.0 test`):
//  1. checks the Debian tools the tests need (scripts/ensure-system-deps.sh: as root it installs
//     what is missing; as any other user it stops at once with the one command to run);
//  2. builds every package (tests import siblings through their built entry points);
//  3. re-runs itself under scripts/with-test-names, the sandbox with the private hosts table (its
//     own mount and network namespaces; a user namespace for an ordinary user), so no name lookup
//     leaves the machine and network-namespace tests run without real root;
//  4. runs each package's vitest suite in turn and ends with one line "N passed, N failed".
// Arguments filter packages by folder: `pnpm test packages/core tools/test-support`.
// Any failure, or a test that could not run, makes the exit code non-zero.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const run = (cmd, argv, opts = {}) => spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
const bin = (name) => join(root, 'node_modules', '.bin', name);
process.env.TURBO_TELEMETRY_DISABLED = '1';

if (!process.env.SOCKCHAN_TEST_NAMES) {
  const deps = run('bash', [join(root, 'scripts/ensure-system-deps.sh')]);
  // ensure-system-deps.sh has said what is missing and what to run.
  if (deps.status !== 0) process.exit(1);
  // turbo needs a `pnpm` binary on PATH: there is one under `pnpm test`; when this script is
  // started directly with node, go through npx.
  const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;
  const build = hasPnpm
    ? run(bin('turbo'), ['run', 'build', '--concurrency=2', '--output-logs=errors-only'])
    : run('npx', ['-y', 'pnpm@12.21.0', 'exec', 'turbo', 'run', 'build', '--concurrency=2', '--output-logs=errors-only']);
  if (build.status !== 0) process.exit(build.status ?? 1);
  const inner = run(join(root, 'scripts/with-test-names'), [process.execPath, fileURLToPath(import.meta.url), ...args]);
  process.exit(inner.status ?? 1);
}

// Inside the sandbox from here on.
const folders = ['packages', 'tools']
  .flatMap((top) => readdirSync(join(root, top), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${top}/${d.name}`))
  .concat(['examples'])
  .filter((dir) => existsSync(join(root, dir, 'test')) && existsSync(join(root, dir, 'vitest.config.ts')))
  .filter((dir) => args.length === 0 || args.some((a) => dir === a.replace(/\/$/, '')));
// Foundations first, the umbrella and tools last.
const order = ['packages/base', 'packages/encodings', 'packages/core', 'packages/async-connect', 'packages/server', 'packages/tls', 'packages/sockchan'];
folders.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));

const PACKAGE_TIMEOUT_MS = Number(process.env.SOCKCHAN_PACKAGE_TIMEOUT_MS ?? 15 * 60_000);
const reports = mkdtempSync(join(tmpdir(), 'sockchan-tests-'));
let passed = 0, failed = 0, skipped = 0;
const problems = [];
for (const dir of folders) {
  const hasTests = readdirSync(join(root, dir, 'test'), { recursive: true }).some((f) => String(f).endsWith('.test.ts'));
  if (!hasTests) continue;
  console.log(`\n=== ${dir}`);
  const out = join(reports, dir.replace('/', '_') + '.json');
  // A bound per package: a suite that hangs fails loudly instead of using up CI's time.
  const r = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {
    cwd: join(root, dir),
    timeout: PACKAGE_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') {
    failed += 1;
    problems.push(`${dir}: did not finish within ${PACKAGE_TIMEOUT_MS / 60_000} minutes and was killed`);
    continue;
  }
  if (!existsSync(out)) {
    failed += 1;
    problems.push(`${dir}: vitest produced no report (exit ${r.status})`);
    continue;
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  if (r.status !== 0 && report.numFailedTests === 0) {
    failed += 1;
    problems.push(`${dir}: vitest exited ${r.status} (errors outside tests, e.g. unhandled rejections or failed suites)`);
  } else if (report.numFailedTests > 0) {
    problems.push(`${dir}: ${report.numFailedTests} failed`);
  }
}
rmSync(reports, { recursive: true, force: true });
if (problems.length > 0) console.log('\nProblems:\n  ' + problems.join('\n  '));
if (passed + failed === 0) {
  console.log('no tests ran');
  process.exit(1);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
