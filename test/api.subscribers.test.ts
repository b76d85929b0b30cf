// /api/v1/subscribers over the real server and database: upsert one with the import's rules and
// words, a CSV body streamed into the import (dry run, strict, bad rows by line), keyset pages,
// a profile by id, phone or email, erasure with its tombstone; nothing half-written on refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, person, startApi } from './support/api.ts';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

const count = async (table: string) =>
  (await api.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))!.n;

const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';
const row = (n: number) =>
  `c${n},Client ${n},+3362${String(1_000_000 + n).padStart(7, '0')},client${n}@example.org,fr,Europe/Paris,copilot,whatsapp;email,2030-05-01T08:00:00Z,import file,`;

describe('PUT /api/v1/subscribers/{id}', () => {
  it('creates (201), updates (200), then changes nothing for the same body', async () => {
    const created = await api.call('PUT', '/api/v1/subscribers/s1', { body: person(1, { tags: ['vip'] }) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 's1', outcome: 'created', consentEvents: 2 });
    const channels = await api.db.query(
      'SELECT channel, state FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY 1',
      ['s1'],
    );
    expect(channels).toEqual([
      { channel: 'email', state: 'active' },
      { channel: 'whatsapp', state: 'active' },
    ]);
    const updated = await api.call('PUT', '/api/v1/subscribers/s1', {
      body: person(1, { timezone: 'Asia/Kolkata' }),
    });
    expect(updated.json.outcome).toBe('updated');
    const same = await api.call('PUT', '/api/v1/subscribers/s1', {
      body: person(1, { timezone: 'Asia/Kolkata' }),
    });
    expect(same.json.outcome).toBe('unchanged');
  });

  it('sets attributes as a JSON object: assistant is one of them, null removes one, others are kept', async () => {
    const body = person(9, { attributes: { plan: 'pro', city: 'Lyon' } });
    expect((await api.call('PUT', '/api/v1/subscribers/a9', { body })).status).toBe(201);
    const stored = async () =>
      (await api.db.one<{ attributes: unknown }>('SELECT attributes FROM subscribers WHERE id = $1', ['a9']))!
        .attributes;
    expect(await stored()).toEqual({ assistant: 'chatgpt', plan: 'pro', city: 'Lyon' });
    const { assistant: _, ...withoutAssistant } = person(9);
    const changed = await api.call('PUT', '/api/v1/subscribers/a9', {
      body: { ...withoutAssistant, attributes: { city: null, plan: 'team' } },
    });
    expect(changed.json.outcome).toBe('updated');
    expect(await stored()).toEqual({ assistant: 'chatgpt', plan: 'team' });
    const profile = await api.call('GET', '/api/v1/subscribers/a9');
    expect(profile.json.attributes).toEqual({ assistant: 'chatgpt', plan: 'team' });
    const bad = await api.call('PUT', '/api/v1/subscribers/a9', {
      body: { ...withoutAssistant, attributes: { Plan: 'x', note: 'y'.repeat(501) } },
    });
    expect(bad.status).toBe(422);
    // One answer: the name (the service's rule) and the length (the body's type), not two rounds.
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'attributes.Plan',
      'attributes.note',
    ]);
    const badName = await api.call('PUT', '/api/v1/subscribers/a9', {
      body: { ...withoutAssistant, attributes: { Plan: 'x' } },
    });
    expect(badName.json.errors).toEqual([
      {
        path: 'attributes.Plan',
        message: 'an attribute name is a lower-case letter, then up to 39 lower-case letters, digits or _',
      },
    ]);
    await api.call('DELETE', '/api/v1/subscribers/a9');
  });

  it("422 in one round: the body's types and the import's rules together, a missing field named with its rule", async () => {
    const { locale: _, ...withoutLocale } = person(5, {
      phone: '0612',
      timezone: 'Mars/Olympus',
      channels: 'email',
    });
    const answer = await api.call('PUT', '/api/v1/subscribers/s5', { body: withoutLocale });
    expect(answer.status).toBe(422);
    const byPath = Object.fromEntries(
      answer.json.errors.map((e: { path: string; message: string }) => [e.path, e.message]),
    );
    expect(byPath).toMatchObject({
      locale: 'is required: fr or en',
      phone: 'must be an E.164 phone number like +33612345678, with its country code',
      channels: 'must be an array, not a string',
      timezone: 'must be an IANA time zone name like Europe/Paris',
    });
    expect(await count("subscribers WHERE id = 's5'")).toBe(0);
  });

  it("422 in the import's words, each field named; nothing written", async () => {
    const before = await count('subscribers');
    const answer = await api.call('PUT', '/api/v1/subscribers/s2', {
      body: person(2, { phone: '0612', timezone: 'Mars/Olympus', consent_at: undefined }),
    });
    expect(answer.status).toBe(422);
    const paths = answer.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['consent_at']));
    const invalid = await api.call('PUT', '/api/v1/subscribers/s2', {
      body: person(2, { phone: '0612', timezone: 'Mars/Olympus' }),
    });
    expect(invalid.status).toBe(422);
    expect(invalid.json.errors).toEqual(
      expect.arrayContaining([
        { path: 'phone', message: 'must be an E.164 phone number like +33612345678, with its country code' },
        expect.objectContaining({ path: 'timezone' }),
      ]),
    );
    expect(JSON.stringify(invalid.json)).not.toContain('0612');
    const wrongTypes = await api.call('PUT', '/api/v1/subscribers/s2', {
      body: person(2, { channels: 'email', extra: 1 }),
    });
    expect(wrongTypes.status).toBe(422);
    expect(wrongTypes.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['channels', 'extra']);
    const taken = await api.call('PUT', '/api/v1/subscribers/s3', { body: person(1) });
    expect(taken.status).toBe(422);
    expect(taken.json.errors[0].message).toContain('already belongs to another subscriber');
    expect(await count('subscribers')).toBe(before);
  });
});

describe('a locale neither fr nor en', () => {
  it('is stored as en, and the answer says so (PUT and CSV import)', async () => {
    const put = await api.call('PUT', '/api/v1/subscribers/l1', { body: person(21, { locale: 'xx' }) });
    expect(put.status).toBe(201);
    expect(put.json.notes).toEqual([
      { path: 'locale', value: '"xx"', rule: 'is neither fr nor en: stored as en' },
    ]);
    const english = await api.call('PUT', '/api/v1/subscribers/l2', {
      body: person(22, { locale: 'en-GB' }),
    });
    expect(english.json.notes).toEqual([]);
    expect(
      await api.db.query("SELECT id, locale FROM subscribers WHERE id IN ('l1', 'l2') ORDER BY id"),
    ).toEqual([
      { id: 'l1', locale: 'en' },
      { id: 'l2', locale: 'en' },
    ]);
    const csv = [
      HEADER,
      'l3,Client,+33620000023,l3@example.org,de-DE,Europe/Berlin,copilot,whatsapp;email,2030-05-01T08:00:00Z,file,',
      'l4,Client,+33620000024,l4@example.org,fr-CA,America/Montreal,copilot,whatsapp;email,2030-05-01T08:00:00Z,file,',
    ].join('\n');
    const imported = await api.call('POST', '/api/v1/subscribers/import', { body: csv, type: 'text/csv' });
    expect(imported.json).toMatchObject({ inserted: 2, bad: 0 });
    expect(imported.json.notes).toEqual([
      {
        line: 2,
        problems: [{ path: 'locale', value: '"de-DE"', rule: 'is neither fr nor en: stored as en' }],
      },
    ]);
    for (const id of ['l1', 'l2', 'l3', 'l4']) await api.call('DELETE', `/api/v1/subscribers/${id}`);
  });
});

describe('POST /api/v1/subscribers/import', () => {
  it('imports a CSV body and answers the summary of subscribers import --json', async () => {
    const csv = [
      HEADER,
      row(1),
      row(2),
      'c3,Bad,+33,x,fr,Europe/Paris,copilot,whatsapp,2030-05-01T08:00:00Z,file,',
      row(4),
    ].join('\r\n');
    const answer = await api.call('POST', '/api/v1/subscribers/import', { body: csv, type: 'text/csv' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ committed: true, rows: 4, inserted: 3, bad: 1 });
    expect(answer.json.badRows[0].line).toBe(4);
    expect(await count("subscribers WHERE id LIKE 'c%'")).toBe(3);
  });

  it('dryRun writes nothing; strict with a bad row writes nothing', async () => {
    const csv = [HEADER, row(10), row(11)].join('\n');
    const dry = await api.call('POST', '/api/v1/subscribers/import?dryRun=true', {
      body: csv,
      type: 'text/csv',
    });
    expect(dry.json).toMatchObject({ dryRun: true, committed: false, inserted: 2 });
    const strict = await api.call('POST', '/api/v1/subscribers/import?strict=true', {
      body: [HEADER, row(12), 'c13,x,,,fr,Europe/Paris,copilot,email,2030-05-01T08:00:00Z,file,'].join('\n'),
      type: 'text/csv',
    });
    expect(strict.status).toBe(422);
    expect(strict.json.detail).toBe('the import was refused: 1 bad row and strict=true, nothing was written');
    expect(strict.json.errors).toEqual([
      { path: 'line 3: phone, email', message: 'at least one is required (both are empty)' },
      { path: 'line 3: channels', message: 'email needs an email address' },
    ]);
    expect(await count("subscribers WHERE id IN ('c10', 'c11', 'c12')")).toBe(0);
  });

  it('422 for a bad header or query, 415 for a body that is not CSV', async () => {
    const header = await api.call('POST', '/api/v1/subscribers/import', {
      body: 'id,nom\n1,x\n',
      type: 'text/csv',
    });
    expect(header.status).toBe(422);
    expect(header.json.detail).toContain('bad header line');
    const query = await api.call('POST', '/api/v1/subscribers/import?strict=maybe', {
      body: HEADER,
      type: 'text/csv',
    });
    expect(query.status).toBe(422);
    expect(query.json.errors[0].path).toBe('strict');
    expect((await api.call('POST', '/api/v1/subscribers/import', { body: { rows: [] } })).status).toBe(415);
  });
});

describe('reading and erasure', () => {
  it('lists in keyset pages that end', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { items: { id: string }[]; nextCursor: string | null } } = await api.call(
        'GET',
        `/api/v1/subscribers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.json.items.map((s) => s.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['c1', 'c2', 'c4', 's1']);
  });

  it('shows one profile by id, phone or email; 404 without echoing the key', async () => {
    const byId = await api.call('GET', '/api/v1/subscribers/s1');
    // The second PUT gave no tags: an upsert is the whole record, as an import row.
    expect(byId.json).toMatchObject({ id: 's1', timezone: 'Asia/Kolkata', tags: [] });
    expect(byId.json.consentEvents.length).toBeGreaterThan(0);
    expect(
      (await api.call('GET', `/api/v1/subscribers/${encodeURIComponent(person(1).phone)}`)).json.id,
    ).toBe('s1');
    expect((await api.call('GET', '/api/v1/subscribers/camille.1@example.org')).json.id).toBe('s1');
    const missing = await api.call('GET', '/api/v1/subscribers/nobody@example.org');
    expect(missing.status).toBe(404);
    expect(missing.text).not.toContain('nobody');
    expect((await api.call('GET', '/api/v1/subscribers/%2B12')).status).toBe(422);
  });

  it('erases with a tombstone that refuses a re-import; a second erase is 404', async () => {
    const erased = await api.call('DELETE', '/api/v1/subscribers/camille.1@example.org');
    expect(erased.status).toBe(200);
    expect(erased.json).toMatchObject({ subscriberId: 's1', tombstones: { phone: 1, email: 1 } });
    expect(await count("subscribers WHERE id = 's1'")).toBe(0);
    const again = await api.call('PUT', '/api/v1/subscribers/s1', { body: person(1) });
    expect(again.status).toBe(422);
    expect(again.json.errors[0].message).toContain('erased subscriber');
    expect((await api.call('DELETE', '/api/v1/subscribers/s1')).status).toBe(404);
  });
});
