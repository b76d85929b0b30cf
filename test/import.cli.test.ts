// `lastcall subscribers import` in a child process: the --json summary's shape, bad rows with
// their lines, --strict exiting 2 with nothing written, --dry-run, a file that is not UTF-8, a bad
// --threads.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'import');
let t: TestDatabase;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(['subscribers', 'import', ...args], env);
const subscribers = async () => (await t.db.one<{ n: number }>('SELECT count(*) AS n FROM subscribers'))!.n;

beforeAll(async () => {
  t = await createTestDatabase();
  env = { DATABASE_URL: t.url, LASTCALL_ENV: 'development', LOG_LEVEL: 'silent' };
});
afterAll(() => t.drop());

// Every command is a fresh Node process loading the whole CLI: give a loaded machine time.
describe('lastcall subscribers import (CLI)', { timeout: 120_000 }, () => {
  it('--strict with bad rows exits 2 and writes nothing', async () => {
    const result = await cli('--file', join(FIXTURES, 'bad.csv'), '--strict', '--json');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--strict: 3 bad rows, nothing was imported');
    expect(JSON.parse(result.stdout)).toMatchObject({ strict: true, committed: false, bad: 3 });
    expect(await subscribers()).toBe(0);
  });

  it('refuses a --threads that is not a whole number from 0 to 16, writing nothing', async () => {
    const result = await cli('--file', join(FIXTURES, 'good.csv'), '--threads', 'two');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--threads');
    expect(result.stderr).toContain('a whole number from 0 to 16');
    expect(await subscribers()).toBe(0);
  });

  it('--dry-run writes nothing', async () => {
    const result = await cli('--file', join(FIXTURES, 'good.csv'), '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run of');
    expect(result.stdout).toContain('3 would be inserted');
    expect(await subscribers()).toBe(0);
  });

  it('prints a JSON summary', async () => {
    const result = await cli('--file', join(FIXTURES, 'good.csv'), '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const summary = JSON.parse(result.stdout);
    expect(Object.keys(summary).sort()).toEqual(
      [
        'bad',
        'badRows',
        'committed',
        'consentEvents',
        'dryRun',
        'file',
        'inserted',
        'notes',
        'optOutsKept',
        'planned',
        'rows',
        'strict',
        'unchanged',
        'updated',
      ].sort(),
    );
    expect(summary).toMatchObject({ rows: 3, inserted: 3, updated: 0, unchanged: 0, bad: 0, badRows: [] });
    expect(summary.planned).toEqual({ subscribers: 0, slots: 0 });
    expect(await subscribers()).toBe(3);
  });

  it('reports bad rows by line as text and imports the rest (exit 0)', async () => {
    const result = await cli('--file', join(FIXTURES, 'bad.csv'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('5: 2 inserted, 0 updated, 0 unchanged, 3 bad');
    expect(result.stdout).toMatch(/line 3: phone: must be an E\.164 phone number/);
    expect(result.stdout).toMatch(/line 4: timezone: /);
    expect(result.stdout).toMatch(/line 5: consent_at: is required/);
    // No personal data in the report: names and the bad phone are not echoed back.
    expect(result.stdout).not.toContain('Bad Phone');
    expect(result.stdout).not.toMatch(/\b12345\b/);
  });

  it('refuses a file that is not UTF-8 with its line, writing nothing (exit 2)', async () => {
    const before = await subscribers();
    const result = await cli('--file', join(FIXTURES, 'windows-1252.csv'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('windows-1252.csv is not UTF-8');
    expect(result.stderr).toContain(
      'line 3: not UTF-8: byte 0xE9 after 5 characters cannot be read as UTF-8; save the file as UTF-8 (in Excel: "CSV UTF-8")',
    );
    expect(await subscribers()).toBe(before);
  });

  it('exits 2 for a missing file', async () => {
    const result = await cli('--file', join(FIXTURES, 'missing.csv'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('file not found');
  });
});
