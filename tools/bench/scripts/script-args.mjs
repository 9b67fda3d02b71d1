// Command-line options of the scripts in this folder (core-cpu.mjs, instr-count.mjs): each call
// takes its option out of `argv`, so what is left are the workload names.

/** The value after `name` in `argv` (both removed), or `fallback` when `name` is not there. */
export function takeOption(argv, name, fallback) {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
}

/** True when the flag `name` is in `argv` (removed). */
export function takeFlag(argv, name) {
  const i = argv.indexOf(name);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}
