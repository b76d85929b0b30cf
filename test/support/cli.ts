// Runs the real `lastcall` executable in a child process, as an operator would, with only the
// environment given (plus PATH) and a scratch working directory (so no stray .env is read).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LASTCALL_BIN = join(import.meta.dirname, '..', '..', 'bin', 'lastcall.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const scratch = options.cwd ? undefined : mkdtempSync(join(tmpdir(), 'lastcall-cli-'));
  const cwd = options.cwd ?? (scratch as string);
  return new Promise<CliResult>((resolve, reject) => {
    execFile(
      process.execPath,
      [LASTCALL_BIN, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  }).finally(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
}
