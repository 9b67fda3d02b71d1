import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** The machine a run happened on, printed in the header and saved with the results. */
export interface MachineInfo {
  readonly node: string;
  readonly tclsh: string | null;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run started: other work on the machine makes noise. */
  readonly loadAverage: number;
}

/** tclsh's patchlevel, or null when tclsh cannot be run. */
export function tclshPatchlevel(): string | null {
  const r = spawnSync('tclsh', [], { input: 'puts [info patchlevel]\n', encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Collects {@link MachineInfo}. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    tclsh: tclshPatchlevel(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg()[0] ?? 0,
  };
}
