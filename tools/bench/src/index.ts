// The bench package's surface: the row registry and the types a row or a custom workload
// module follows. The CLI (src/cli.ts) is what `pnpm bench` runs.
export type {
  Better,
  BuiltinWorkload,
  ChildSpec,
  CustomRow,
  CustomRunOptions,
  CustomWorkload,
  CustomWorkloadModule,
  Pairing,
  ResultRow,
  RowSpec,
  Runtime,
} from './types.js';
export { customWorkloads, nodeRow, rows, tclRow } from './registry.js';
export { median } from './stats.js';
