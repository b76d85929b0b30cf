// The `campaign` commands as an operator runs them: `node bin/lastcall.js …` in a child process
// with DATABASE_URL pointing at this file's database. Exit codes: 0 ok, 1 run-time failure,
// 2 bad input (unknown id, past deadline).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { campaignFile, seedSubscriber } from './support/campaign.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const SHIPPED = join(import.meta.dirname, '..', 'config', 'campaigns', 'ai-assistants-leave-whatsapp.yaml');
const ID = 'ai-assistants-leave-whatsapp';

let t: TestDatabase;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);

beforeAll(async () => {
  t = await createTestDatabase();
  env = { DATABASE_URL: t.url, LASTCALL_ENV: 'development', LOG_LEVEL: 'silent' };
  await seedSubscriber(t.db, { id: 'p1', zone: 'Europe/Paris', channels: ['whatsapp', 'email'] });
});
afterAll(() => t.drop());

// Every command is a fresh Node process loading the whole CLI: give a loaded machine time.
describe('lastcall campaign (CLI)', { timeout: 120_000 }, () => {
  it('creates the shipped campaign, then refuses to start it: its deadline has passed', async () => {
    const created = await cli('campaign', 'create', '--file', SHIPPED);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created campaign ${ID} (draft)`);

    const started = await cli('campaign', 'start', ID);
    expect(started.code).toBe(2);
    expect(started.stderr).toContain(
      `campaign "${ID}" cannot start: its deadline 2026-01-15T00:00:00+01:00 (2026-01-14T23:00:00Z) has passed`,
    );
    expect(await t.db.query('SELECT id FROM slots')).toEqual([]);
    expect(await t.db.query('SELECT id FROM deliveries')).toEqual([]);
    expect((await t.db.one('SELECT state FROM campaigns WHERE id = $1', [ID]))?.state).toBe('draft');
  });

  it('starts, pauses, resumes and cancels a campaign with a future deadline', async () => {
    const file = campaignFile('future', { deadline: '2099-01-15T00:00:00+01:00' });
    expect((await cli('campaign', 'create', '--file', file)).code).toBe(0);
    const started = await cli('campaign', 'start', 'future');
    expect(started).toMatchObject({ code: 0, stderr: '' });
    expect(started.stdout).toContain('started campaign future: 5 slots in 1 zone, 2 subscriber channels');
    expect((await cli('campaign', 'pause', 'future')).stdout).toContain('paused campaign future');
    expect((await cli('campaign', 'resume', 'future')).stdout).toContain('resumed campaign future');
    const cancelled = await cli('campaign', 'cancel', 'future');
    expect(cancelled.stdout).toContain('cancelled campaign future');
    expect(cancelled.stdout).toContain('5 pending slots cancelled');
  });

  it('reports create, start, pause, resume and cancel as JSON with --json', async () => {
    const file = campaignFile('json-one', { deadline: '2099-01-15T00:00:00+01:00' });
    const created = await cli('campaign', 'create', '--file', file, '--json');
    expect(JSON.parse(created.stdout)).toMatchObject({ id: 'json-one', outcome: 'created', state: 'draft' });
    const started = await cli('campaign', 'start', 'json-one', '--json');
    expect(JSON.parse(started.stdout)).toMatchObject({ started: true, slotsCreated: 5, zones: 1, reach: 2 });
    const paused = await cli('campaign', 'pause', 'json-one', '--json');
    expect(JSON.parse(paused.stdout)).toMatchObject({ id: 'json-one', changed: true, state: 'paused' });
    const resumed = await cli('campaign', 'resume', 'json-one', '--json');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ changed: true, state: 'running', slotsMoved: 0 });
    const cancelled = await cli('campaign', 'cancel', 'json-one', '--json');
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      changed: true,
      state: 'cancelled',
      slotsCancelled: 5,
    });
  });

  it('lists and shows campaigns, as text and JSON', async () => {
    const list = await cli('campaign', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: ID, state: 'draft', deadline: '2026-01-14T23:00:00Z', steps: 4 }),
        expect.objectContaining({ id: 'future', state: 'cancelled' }),
      ]),
    );
    const show = await cli('campaign', 'show', ID, '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({
      id: ID,
      deadlineText: '2026-01-15T00:00:00+01:00',
      definition: { steps: [{ id: 'd30' }, { id: 'd7' }, { id: 'd1' }, { id: 'h6' }] },
      slots: [],
      nextSlot: null,
    });
    expect((await cli('campaign', 'show', ID)).stdout).toContain(
      'deadline   2026-01-15T00:00:00+01:00 (2026-01-14T23:00:00Z)',
    );
  });

  it('prints stats as a table or JSON', async () => {
    const json = await cli('campaign', 'stats', 'future', '--json');
    expect(json.code).toBe(0);
    const stats = JSON.parse(json.stdout);
    expect(stats).toMatchObject({ id: 'future', state: 'cancelled', deadline: '2099-01-14T23:00:00Z' });
    expect(stats.steps).toHaveLength(5);
    expect(stats.steps[0]).toEqual({
      step: 'd7',
      channel: 'whatsapp',
      planned: 0,
      queued: 0,
      sent: 0,
      delivered: 0,
      read: 0,
      failed: 0,
      skipped: 0,
      unknown: 0,
      bounced: 0,
      softBounced: 0,
      complained: 0,
      failedByCode: {},
      skippedByReason: {},
      unknownByReason: {},
    });
    const table = await cli('campaign', 'stats', ID);
    expect(table.stdout).toMatch(
      /step\s.*channel\s.*planned\s.*queued\s.*sent\s.*delivered\s.*read\s.*failed\s.*skipped/,
    );
    expect(table.stdout).toMatch(/h6\s.*whatsapp/);
  });

  it('exits 2 for an unknown campaign id', async () => {
    for (const command of ['start', 'stats']) {
      const result = await cli('campaign', command, 'nope');
      expect(result.code, command).toBe(2);
      expect(result.stderr).toContain('unknown campaign "nope"');
    }
  });

  it('exits 2 for a bad campaign file', async () => {
    const result = await cli('campaign', 'create', '--file', join(import.meta.dirname, 'no-such-file.yaml'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('file not found');
  });

  it('validates as JSON, for machines: every problem, and exit 2 still says invalid', async () => {
    const broken = await cli(
      'campaign',
      'validate',
      '--file',
      join(import.meta.dirname, 'fixtures', 'campaigns', 'broken.yaml'),
      '--json',
    );
    expect(broken.code).toBe(2);
    const report = JSON.parse(broken.stdout);
    expect(report).toMatchObject({
      valid: false,
      error: expect.stringContaining('is invalid (11 problems)'),
    });
    expect(report.problems).toHaveLength(11);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ path: 'nme', rule: expect.stringContaining('unknown key') }),
    );
    const good = await cli('campaign', 'validate', '--file', SHIPPED, '--json');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, id: ID, deadline: '2026-01-14T23:00:00Z' });
  });

  it('names the attributes the templates read, and with --database counts the audience without them', async () => {
    await seedSubscriber(t.db, { id: 'no-attr', zone: 'Asia/Tokyo', channels: ['email'] });
    await t.db.exec(`UPDATE subscribers SET attributes = '{}' WHERE id = 'no-attr'`);
    try {
      const offline = await cli('campaign', 'validate', '--file', SHIPPED);
      expect(offline.code).toBe(0);
      expect(offline.stdout).toContain(
        'attributes the templates read assistant (--database counts the audience without them)',
      );
      const counted = await cli('campaign', 'validate', '--file', SHIPPED, '--database');
      expect(counted.stderr).toBe('');
      expect(counted.stdout).toMatch(/\n {4}assistant +1 of 2 lack it/);
      const json = await cli('campaign', 'validate', '--file', SHIPPED, '--database', '--json');
      expect(JSON.parse(json.stdout).attributes).toEqual([{ name: 'assistant', missing: 1, audience: 2 }]);
    } finally {
      await t.db.exec(`DELETE FROM subscribers WHERE id = 'no-attr'`);
    }
  });

  it('reports db migrate as JSON', async () => {
    const migrated = await cli('db', 'migrate', '--json');
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ database: t.name, applied: [] });
  });

  it('exits 1 naming DATABASE_URL when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const result = await runCli(['campaign', 'list'], {
      ...env,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/lastcall`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
  });
});
