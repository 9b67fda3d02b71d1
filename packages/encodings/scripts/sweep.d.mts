/** Types of scripts/sweep.mjs, for the test that runs it. */
export interface SweepRow {
  encoding: string;
  decodeProbes: number;
  decodeDiffs: number;
  undefinedInTcl: number;
  encodeProbes: number;
  encodeDiffs: number;
  examples: string[];
}
export interface SweepReport {
  rows: SweepRow[];
  differences: number;
}
export interface SweepOptions {
  convertFrom(name: string, bytes: Uint8Array): string;
  convertTo(name: string, text: string): Uint8Array;
  encodings?: string[];
  tclsh?: string;
  seed?: number;
}
export function runSweep(options: SweepOptions): Promise<SweepReport>;
export function formatReport(report: SweepReport): string;
