// The demo's data folder as root: the private PostgreSQL runs as another user (initdb refuses
// root), who must be able to enter every folder down to its own. A clone in a 0700 folder moves
// the default data folder to one that user can reach; a chosen one stops with why and what to do.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closedFolder, demoDataDir } from './demo-services.ts';

// Another user than the one running the tests (who owns the folders made here).
const OTHER = { uid: 54_321, gid: 54_321 };
const made: string[] = [];

function clone(mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-clone-'));
  made.push(dir);
  chmodSync(dir, mode);
  mkdirSync(join(dir, 'repo'));
  return join(dir, 'repo');
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the demo data folder', () => {
  it('stays where asked when the PostgreSQL user can reach it, or when nobody else runs it', () => {
    const open = clone(0o755);
    expect(closedFolder(join(open, '.lastcall-demo'), OTHER)).toBeUndefined();
    expect(demoDataDir(join(open, '.lastcall-demo'), false, OTHER)).toEqual({
      dir: join(open, '.lastcall-demo'),
    });
    const closed = clone(0o700);
    expect(demoDataDir(join(closed, '.lastcall-demo'), false, null)).toEqual({
      dir: join(closed, '.lastcall-demo'),
    });
  });

  it('moves the default folder out of a 0700 clone, to the same place each run, and says why', () => {
    const repo = clone(0o700);
    const parent = join(repo, '..');
    const requested = join(repo, '.lastcall-demo');
    expect(closedFolder(requested, OTHER)).toBe(parent);
    const choice = demoDataDir(requested, false, OTHER);
    expect(choice.dir.startsWith(join(tmpdir(), 'lastcall-demo-'))).toBe(true);
    expect(closedFolder(choice.dir, OTHER)).toBeUndefined();
    expect(choice.moved).toBe(
      `not ${requested}: the private PostgreSQL runs as uid 54321 (initdb refuses root), which cannot enter ${parent} (mode 0700); --data-dir chooses another`,
    );
    expect(demoDataDir(requested, false, OTHER).dir).toBe(choice.dir);
  });

  it('stops on a chosen --data-dir the PostgreSQL user cannot reach, saying what to do', () => {
    const repo = clone(0o700);
    const parent = join(repo, '..');
    expect(() => demoDataDir(join(repo, 'data'), true, OTHER)).toThrow(
      `--data-dir ${join(repo, 'data')}: the private PostgreSQL runs as uid 54321 (initdb refuses root), which cannot enter ${parent} (mode 0700). Choose a folder that user can reach (e.g. --data-dir ${join(tmpdir(), 'lastcall-demo')}), or open ${parent} to it (chmod o+x ${parent}).`,
    );
  });
});
