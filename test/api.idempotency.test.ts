// Idempotency-Key (docs/api.md, "Idempotency"): the same POST, PUT or DELETE replayed, at once or
// later within 24 hours, answers the first answer and does nothing again; a key reused for another
// request is refused; after 24 hours the key is free again. Keys belong to the caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, CAMPAIGN, person, startApi } from './support/api.ts';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

const key = (k: string) => ({ 'idempotency-key': k });
const rows = async (sql: string, params: unknown[] = []) =>
  (await api.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))!.n;

describe('Idempotency-Key', () => {
  it('ten concurrent copies of one PUT create one subscriber and all get the first answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        api.call('PUT', '/api/v1/subscribers/idem-1', { body: person(1), headers: key('put-1') }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    expect(await rows("consent_events WHERE subscriber_id = 'idem-1'")).toBe(2);
  });

  it('concurrent copies of one POST start run the start once', async () => {
    await api.call('PUT', '/api/v1/campaigns/idem', { body: { ...CAMPAIGN, id: 'idem' } });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        api.call('POST', '/api/v1/campaigns/idem/start', { headers: key('start-1') }),
      ),
    );
    // Without the key, the repeats would answer {started: false}: every copy says started.
    expect(answers.map((a) => a.json.started)).toEqual([true, true, true, true, true]);
  });

  it('a replay later returns the first answer even though the state has moved on', async () => {
    await api.call('POST', '/api/v1/campaigns/idem/pause');
    const replay = await api.call('POST', '/api/v1/campaigns/idem/start', { headers: key('start-1') });
    expect(replay.status).toBe(200);
    expect(replay.json.started).toBe(true);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.call('GET', '/api/v1/campaigns/idem')).json.state).toBe('paused');
  });

  it('an error answer is kept too: the replay of a refused request is refused the same way', async () => {
    const first = await api.call('POST', '/api/v1/campaigns/idem/start', { headers: key('start-2') });
    expect(first.status).toBe(409);
    await api.call('POST', '/api/v1/campaigns/idem/resume');
    const again = await api.call('POST', '/api/v1/campaigns/idem/start', { headers: key('start-2') });
    expect(again.status).toBe(409);
    expect(again.text).toBe(first.text);
  });

  it('a DELETE replayed erases once and answers the erasure again, not 404', async () => {
    await api.call('PUT', '/api/v1/subscribers/idem-2', { body: person(2) });
    const first = await api.call('DELETE', '/api/v1/subscribers/idem-2', { headers: key('del-1') });
    const second = await api.call('DELETE', '/api/v1/subscribers/idem-2', { headers: key('del-1') });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
    expect((await api.call('DELETE', '/api/v1/subscribers/idem-2')).status).toBe(404);
  });

  it('the same key for a different request is 422; nothing done', async () => {
    const answer = await api.call('PUT', '/api/v1/subscribers/idem-3', {
      body: person(3),
      headers: key('put-1'),
    });
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual([
      { path: 'Idempotency-Key', message: 'already used for a different request' },
    ]);
    expect(await rows("subscribers WHERE id = 'idem-3'")).toBe(0);
  });

  it('keys belong to the caller: another key may use the same Idempotency-Key', async () => {
    const { createApiKeyService } = await import('../src/access/api-keys.ts');
    const other = await createApiKeyService(api.db).create('other-app', 'write', api.clock.now());
    const answer = await api.call('PUT', '/api/v1/subscribers/idem-4', {
      key: other.key,
      body: person(4),
      headers: key('put-1'),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
  });

  it('after 24 hours the key runs the request again', async () => {
    const body = person(5);
    expect((await api.call('PUT', '/api/v1/subscribers/idem-5', { body, headers: key('day') })).status).toBe(
      201,
    );
    await api.db.exec("DELETE FROM subscribers WHERE id = 'idem-5'");
    const sameDay = await api.call('PUT', '/api/v1/subscribers/idem-5', { body, headers: key('day') });
    expect(sameDay.headers.get('idempotent-replayed')).toBe('true');
    expect(await rows("subscribers WHERE id = 'idem-5'")).toBe(0);
    api.clock.advance(24 * 3600_000 + 1000);
    const nextDay = await api.call('PUT', '/api/v1/subscribers/idem-5', { body, headers: key('day') });
    expect(nextDay.status).toBe(201);
    expect(nextDay.headers.get('idempotent-replayed')).toBeNull();
    expect(await rows("subscribers WHERE id = 'idem-5'")).toBe(1);
  });
});
