// unref(): a process whose only remaining handles are an unref'd listener's sockets exits.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

function runModule(code: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: PACKAGE_DIR });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 10 s: ${out}`));
    }, 10_000);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, out });
    });
  });
}

describe('unref', () => {
  it('lets the process exit while the listener is all that is left', async () => {
    const r = await runModule(
      "import { listen } from '@sockchan/server'; const l = await listen(0, { onConnection() {} }); l.unref(); console.log('listening', l.addresses().length);",
    );
    expect(r).toEqual({ code: 0, out: 'listening 2\n' });
  });
});
