// `lastcall work` and `lastcall subscribers import` restart themselves (same pid) with a smaller
// young generation before loading any TypeScript; other commands, and an operator who set
// --max-semi-space-size, are left as they are (docs/memory.md).
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  HEAP_GROWING_PERCENT,
  MALLOC_ENV,
  restartEnvironment,
  SEMI_SPACE_MIB,
  youngGenerationRestart,
} from '../bin/young-generation.js';
import { LASTCALL_BIN } from './support/cli.ts';

/** Prints, at exit, the pid and the V8 flags the process ran with, and its new space's size. */
const REPORT = `data:text/javascript,import v8 from 'node:v8';process.on('exit',()=>{const s=v8.getHeapSpaceStatistics().find(x=>x.space_name==='new_space');process.stderr.write('\\nran '+process.pid+' '+JSON.stringify(process.execArgv.filter(a=>!a.startsWith('data:')&&a!=='--import'))+' '+(s.space_size/1048576)+'\\n')})`;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly pids: number[];
  readonly flags: string[][];
  readonly newSpaceMib: number;
}

function lastcall(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', REPORT, LASTCALL_BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        const ran = [...stderr.matchAll(/^ran (\d+) (\[.*\]) ([\d.]+)$/gm)];
        expect(ran.length).toBeGreaterThan(0);
        for (const [, pid] of ran) expect(Number(pid)).toBe(child.pid);
        resolve({
          code: typeof error?.code === 'number' ? error.code : 0,
          stdout,
          pids: ran.map((r) => Number(r[1])),
          flags: ran.map((r) => JSON.parse(r[2]!) as string[]),
          newSpaceMib: Number(ran.at(-1)![3]),
        });
      },
    );
  });
}

describe('the young generation of the memory-heavy commands', () => {
  it('`work` and `subscribers import` run in the same process with --max-semi-space-size set', async () => {
    const work = await lastcall(['work', '--help']);
    expect(work.code).toBe(0);
    expect(work.stdout).toContain('Usage: lastcall work');
    expect(work.flags).toEqual([
      [`--max-semi-space-size=${SEMI_SPACE_MIB.work}`, `--heap-growing-percent=${HEAP_GROWING_PERCENT.work}`],
    ]);
    expect(work.newSpaceMib).toBeLessThanOrEqual(2 * SEMI_SPACE_MIB.work);

    const imports = await lastcall(['subscribers', 'import', '--help']);
    expect(imports.code).toBe(0);
    expect(imports.stdout).toContain('Usage: lastcall subscribers import');
    expect(imports.flags).toEqual([[`--max-semi-space-size=${SEMI_SPACE_MIB['subscribers import']}`]]);
  });

  it('other commands, and an operator’s own young generation, are left alone', async () => {
    const plan = await lastcall(['plan', '--help']);
    expect(plan.code).toBe(0);
    expect(plan.flags).toEqual([[]]);

    const own = await lastcall(['work', '--help'], { NODE_OPTIONS: '--max-semi-space-size=8' });
    expect(own.code).toBe(0);
    expect(own.flags).toEqual([[`--heap-growing-percent=${HEAP_GROWING_PERCENT.work}`]]);
    expect(own.newSpaceMib).toBeGreaterThan(2 * SEMI_SPACE_MIB.work);
  });

  it('gives `subscribers import` a fixed malloc mmap threshold, unless the operator set one', () => {
    const argv = ['/usr/bin/node', '/app/bin/lastcall.js', 'subscribers', 'import', '--file', 'a.csv'];
    expect(restartEnvironment({ argv, env: { PATH: '/bin' } })).toEqual({
      PATH: '/bin',
      ...MALLOC_ENV['subscribers import'],
    });
    expect(MALLOC_ENV['subscribers import'].MALLOC_MMAP_THRESHOLD_).toBe('131072');
    expect(restartEnvironment({ argv, env: { MALLOC_MMAP_THRESHOLD_: '65536' } })).toEqual({
      MALLOC_MMAP_THRESHOLD_: '65536',
    });
    expect(restartEnvironment({ argv: ['/usr/bin/node', '/app/bin/lastcall.js', 'work'], env: {} })).toEqual(
      {},
    );
  });

  it('keeps the options before and after the command, and the flags Node was given', () => {
    const proc = {
      execve: () => undefined,
      platform: 'linux',
      execPath: '/usr/bin/node',
      execArgv: ['--enable-source-maps'],
      argv: ['/usr/bin/node', '/app/bin/lastcall.js', 'subscribers', 'import', '--file', 'a.csv'],
      env: {},
    };
    expect(youngGenerationRestart(proc)).toEqual([
      '/usr/bin/node',
      '--enable-source-maps',
      '--max-semi-space-size=2',
      '/app/bin/lastcall.js',
      'subscribers',
      'import',
      '--file',
      'a.csv',
    ]);
    expect(
      youngGenerationRestart({ ...proc, argv: [...proc.argv.slice(0, 2), 'subscribers', 'export'] }),
    ).toBeUndefined();
    expect(youngGenerationRestart({ ...proc, execve: undefined })).toBeUndefined();
    const worker = { ...proc, argv: [...proc.argv.slice(0, 2), 'work'] };
    expect(youngGenerationRestart({ ...worker, execArgv: ['--heap-growing-percent=50'] })).toEqual([
      '/usr/bin/node',
      '--heap-growing-percent=50',
      '--max-semi-space-size=4',
      '/app/bin/lastcall.js',
      'work',
    ]);
    expect(
      youngGenerationRestart({
        ...worker,
        execArgv: ['--heap-growing-percent=50'],
        env: { NODE_OPTIONS: '--max-semi-space-size=8' },
      }),
    ).toBeUndefined();
  });
});
