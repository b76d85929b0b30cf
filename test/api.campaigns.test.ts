// /api/v1/campaigns over the real server and database: create or update from JSON and YAML with
// the CLI's rules and words, lifecycle with its conflicts, stats, keyset pages of deliveries,
// the NDJSON plan preview; each kind of bad input answered with a problem, nothing half-written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ADMIN, type Api, CAMPAIGN, person, START, startApi } from './support/api.ts';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

const campaignCount = async () =>
  (await api.db.one<{ n: number }>('SELECT count(*)::int AS n FROM campaigns'))!.n;

describe('PUT /api/v1/campaigns/{id}', () => {
  it('creates from JSON (201), then updates (200), as campaign create', async () => {
    const created = await api.call('PUT', '/api/v1/campaigns/api-test', { body: CAMPAIGN });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: 'api-test', outcome: 'created', state: 'draft' });
    const updated = await api.call('PUT', '/api/v1/campaigns/api-test', {
      body: { ...CAMPAIGN, name: 'Renamed' },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.outcome).toBe('updated');
    expect(
      (await api.db.one<{ name: string }>("SELECT name FROM campaigns WHERE id = 'api-test'"))!.name,
    ).toBe('Renamed');
  });

  it('creates from YAML with Content-Type: application/yaml', async () => {
    const yaml = stringify({ ...CAMPAIGN, id: 'from-yaml' });
    const answer = await api.call('PUT', '/api/v1/campaigns/from-yaml', {
      body: yaml,
      type: 'application/yaml',
    });
    expect(answer.status).toBe(201);
  });

  it('422 with every problem, its path and the CLI words; nothing written', async () => {
    const before = await campaignCount();
    const bad = {
      ...CAMPAIGN,
      id: 'bad-one',
      deadline: '2030-06-01T00:00:00',
      steps: [{ id: 'd7', before: 'p7d', channels: ['sms'], template: 'first-notice' }],
      colour: 'red',
    };
    const answer = await api.call('PUT', '/api/v1/campaigns/bad-one', { body: bad });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    const paths = answer.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(['deadline', 'steps[0].before', 'steps[0].channels[0]', 'colour']),
    );
    const deadline = answer.json.errors.find((e: { path: string }) => e.path === 'deadline');
    expect(deadline.message).toContain('must end with an offset or Z');
    expect(answer.json.errors.find((e: { path: string }) => e.path === 'colour').message).toContain(
      'unknown key',
    );
    expect(await campaignCount()).toBe(before);
  });

  it('422 for YAML syntax (with its line), an id unlike the path, an unknown template', async () => {
    const syntax = await api.call('PUT', '/api/v1/campaigns/x', {
      body: 'id: x\nsteps: [\n',
      type: 'application/yaml',
    });
    expect(syntax.status).toBe(422);
    expect(syntax.json.errors[0].path).toMatch(/^line \d+, column \d+$/);
    const mismatch = await api.call('PUT', '/api/v1/campaigns/other', { body: CAMPAIGN });
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.errors).toEqual([{ path: 'id', message: 'must be the id in the path ("other")' }]);
    const template = await api.call('PUT', '/api/v1/campaigns/tpl', {
      body: {
        ...CAMPAIGN,
        id: 'tpl',
        steps: [{ id: 's', before: 'P1D', channels: ['email'], template: 'no-such' }],
      },
    });
    expect(template.status).toBe(422);
    expect(template.json.detail).toContain('message templates are not');
  });

  it('400 for unreadable JSON, 415 for another media type, 413 for a body too large', async () => {
    expect((await api.call('PUT', '/api/v1/campaigns/x', { body: '{"id":' })).status).toBe(400);
    expect((await api.call('PUT', '/api/v1/campaigns/x', { body: 'id=x', type: 'text/plain' })).status).toBe(
      415,
    );
    const huge = { ...CAMPAIGN, name: 'x'.repeat(2 * 1024 * 1024) };
    expect((await api.call('PUT', '/api/v1/campaigns/api-test', { body: huge })).status).toBe(413);
  });

  it("409 when a started campaign's timing would change", async () => {
    await api.call('PUT', '/api/v1/campaigns/frozen', { body: { ...CAMPAIGN, id: 'frozen' } });
    expect((await api.call('POST', '/api/v1/campaigns/frozen/start')).status).toBe(200);
    const answer = await api.call('PUT', '/api/v1/campaigns/frozen', {
      body: { ...CAMPAIGN, id: 'frozen', sendAt: '11:00' },
    });
    expect(answer.status).toBe(409);
    expect(answer.json.detail).toContain('timing cannot change once started (changed: sendAt)');
  });
});

describe('reading and lifecycle', () => {
  it('lists and shows campaigns; 404 names the unknown id', async () => {
    const list = await api.call('GET', '/api/v1/campaigns');
    expect(list.json.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining(['api-test', 'from-yaml']),
    );
    // A draft has no counts yet.
    expect(list.json.find((c: { id: string }) => c.id === 'api-test')).toMatchObject({ counts: null });
    const shown = await api.call('GET', '/api/v1/campaigns/api-test');
    expect(shown.json).toMatchObject({
      id: 'api-test',
      state: 'draft',
      steps: 2,
      deadline: '2030-05-31T22:00:00Z',
    });
    const missing = await api.call('GET', '/api/v1/campaigns/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.detail).toBe('unknown campaign "nope"');
    expect((await api.call('GET', '/api/v1/campaigns/NOT_A_SLUG')).status).toBe(422);
  });

  it('start, pause, resume, cancel as the CLI; a refused change is 409 with the state', async () => {
    for (const n of [1, 2, 3]) await api.call('PUT', `/api/v1/subscribers/p${n}`, { body: person(n) });
    const started = await api.call('POST', '/api/v1/campaigns/api-test/start');
    expect(started.json).toMatchObject({ id: 'api-test', started: true, reach: 6 });
    expect((await api.call('POST', '/api/v1/campaigns/api-test/pause')).json).toMatchObject({
      state: 'paused',
      changed: true,
    });
    const again = await api.call('POST', '/api/v1/campaigns/api-test/start');
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ state: 'paused', allowed: ['draft'] });
    expect((await api.call('POST', '/api/v1/campaigns/api-test/resume')).json.state).toBe('running');
    // Started: the list counts what its slots will make (6 reached, nothing due yet).
    const listed = (await api.call('GET', '/api/v1/campaigns')).json.find(
      (c: { id: string }) => c.id === 'api-test',
    );
    expect(listed.counts).toMatchObject({ created: 0, sent: 0 });
    expect(listed.counts.expected).toBeGreaterThanOrEqual(6);
    expect((await api.call('GET', '/api/v1/campaigns/api-test')).json.slots.length).toBeGreaterThan(0);
  });

  it('starting after the deadline is 409 and says when it was', async () => {
    await api.call('PUT', '/api/v1/campaigns/late', {
      body: { ...CAMPAIGN, id: 'late', deadline: '2030-05-01T00:00:00Z' },
    });
    const answer = await api.call('POST', '/api/v1/campaigns/late/start');
    expect(answer.status).toBe(409);
    expect(answer.json.detail).toContain('2030-05-01T00:00:00Z');
    expect(answer.json.detail).toContain('has passed');
  });

  it('stats are the JSON of campaign stats --json', async () => {
    const stats = await api.call('GET', '/api/v1/campaigns/api-test/stats');
    expect(stats.json).toMatchObject({ id: 'api-test', state: 'running', deadline: '2030-05-31T22:00:00Z' });
    expect(stats.json.steps).toHaveLength(4);
    expect(stats.json.steps.every((s: { planned: number }) => s.planned === 3)).toBe(true);
  });

  it('deliveries come in keyset pages, filtered by status', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => i);
    for (const i of rows)
      await api.db.exec(
        `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
         VALUES ('api-test', 'd7', $1, $2, 'scheduled', $3)`,
        [`p${(i % 3) + 1}`, i < 3 ? 'whatsapp' : 'email', i === 4 ? 'failed' : 'sent'],
      );
    const first = await api.call('GET', '/api/v1/campaigns/api-test/deliveries?limit=2');
    expect(first.json.items).toHaveLength(2);
    const second = await api.call(
      'GET',
      `/api/v1/campaigns/api-test/deliveries?limit=2&cursor=${first.json.nextCursor}`,
    );
    const third = await api.call(
      'GET',
      `/api/v1/campaigns/api-test/deliveries?limit=2&cursor=${second.json.nextCursor}`,
    );
    expect(third.json.nextCursor).toBeNull();
    const ids = [...first.json.items, ...second.json.items, ...third.json.items].map(
      (d: { id: number }) => d.id,
    );
    expect(new Set(ids).size).toBe(5);
    const failed = await api.call('GET', '/api/v1/campaigns/api-test/deliveries?status=failed');
    expect(failed.json.items.map((d: { status: string }) => d.status)).toEqual(['failed']);
    const bad = await api.call('GET', '/api/v1/campaigns/api-test/deliveries?status=lost&limit=0');
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['limit', 'status']);
  });

  it('the plan preview is NDJSON with the fields of `lastcall plan`, per stored subscriber', async () => {
    const answer = await api.call(
      'GET',
      `/api/v1/campaigns/api-test/plan?now=${new Date(START).toISOString()}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/x-ndjson');
    expect(answer.headers.get('lastcall-tz-data')).toBe(process.versions.tz);
    const lines = answer.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3 * 2 * 2);
    expect(Object.keys(lines[0]!)).toEqual([
      'subscriber',
      'step',
      'channel',
      'sendAt',
      'local',
      'zone',
      'kind',
    ]);
    const p3 = lines.find((l) => l.subscriber === 'p3' && l.step === 'd1' && l.channel === 'email');
    expect(p3).toMatchObject({ zone: 'America/New_York', sendAt: '2030-05-30T14:00:00Z', kind: 'scheduled' });
    expect((await api.call('GET', '/api/v1/campaigns/api-test/plan?now=yesterday')).status).toBe(422);
    expect((await api.call('GET', '/api/v1/campaigns/nope/plan')).status).toBe(404);
  });

  it('cancel ends it; cancel again changes nothing', async () => {
    expect((await api.call('POST', '/api/v1/campaigns/api-test/cancel')).json).toMatchObject({
      state: 'cancelled',
      changed: true,
    });
    expect((await api.call('POST', '/api/v1/campaigns/api-test/cancel')).json.changed).toBe(false);
  });
});

describe('bodiless actions', () => {
  it('take an empty body whatever its Content-Type, as Python urllib and JSON clients send it', async () => {
    await api.call('PUT', '/api/v1/campaigns/bodiless', { body: { ...CAMPAIGN, id: 'bodiless' } });
    const empty = (action: string, type: string) =>
      api.call('POST', `/api/v1/campaigns/bodiless/${action}`, { body: '', type });
    const form = await empty('start', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(200);
    expect(form.json).toMatchObject({ id: 'bodiless', started: true });
    const json = await empty('pause', 'application/json');
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({ state: 'paused', changed: true });
    const text = await empty('resume', 'text/plain');
    expect(text.status).toBe(200);
    expect(text.json).toMatchObject({ state: 'running', changed: true });
  });

  it('still refuse a body that is not empty and not JSON (415), changing nothing', async () => {
    const answer = await fetch(`${api.url}/api/v1/campaigns/bodiless/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'really=yes',
    });
    expect(answer.status).toBe(415);
    const state = await api.db.one<{ state: string }>("SELECT state FROM campaigns WHERE id = 'bodiless'");
    expect(state?.state).toBe('running');
  });
});
