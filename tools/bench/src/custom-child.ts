// Runs a custom workload module in its own process:
//   node custom-child.js run module=<specifier or absolute path> quick=0|1 reps=N
// Prints `RESULT <json rows>`; progress from the module goes to stderr.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail, intParam, parseRowArgs } from './rows/common.js';
import type { CustomRow, CustomWorkloadModule } from './types.js';

const args = parseRowArgs();
const specifier = args.params.get('module');
if (args.role !== 'run' || specifier === undefined) fail('usage: custom-child.js run module=<specifier> quick=0|1 reps=N');
const quick = intParam(args, 'quick') === 1;
const reps = intParam(args, 'reps');
const mod = (await import(isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier)) as Partial<CustomWorkloadModule>;
if (typeof mod.run !== 'function') fail(`${specifier} exports no run(options) function`);
const rows: CustomRow[] = await mod.run({ quick, reps, progress: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`RESULT ${JSON.stringify(rows)}\n`);
