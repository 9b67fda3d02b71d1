import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tools/bench, found from this file whether it runs from src (tests) or dist (the CLI). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository root (two levels above tools/bench). */
export const repoRoot = join(packageRoot, '..', '..');

/** Compiled node row scripts. */
export const distRows = join(packageRoot, 'dist', 'rows');

/** Tcl row scripts are read by tclsh straight from src (tsc does not copy them). */
export const tclRows = join(packageRoot, 'src', 'rows');
