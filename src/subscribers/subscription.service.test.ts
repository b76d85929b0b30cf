// The subscription service on a real migrated database (PostgreSQL is never mocked).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { isTombstoned, tombstoneHash } from './subscriber.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';
import {
  createSubscriptionService,
  SignUpConflictError,
  type SignUpEvidence,
  type SubscriptionService,
} from './subscription.service.ts';

const KEY = 'test-secret-key-of-at-least-32-bytes!!';
const T0 = Date.parse('2026-06-01T08:00:00Z');
const EVIDENCE: SignUpEvidence = {
  source: 'web-form',
  consentVersion: 'consent-v1',
  consentText: 'I agree…',
  pageLocale: 'en',
  ip: '203.0.113.9',
  userAgent: 'UA/1',
};
const input = (over: Partial<SubscriberInput> = {}): SubscriberInput => ({
  id: `web-${Math.random().toString(36).slice(2)}`,
  name: 'Sam',
  phone: '+33611111111',
  email: 'sam@example.org',
  locale: 'en',
  timezone: 'Europe/Paris',
  attributes: { assistant: 'chatgpt' },
  channels: ['whatsapp', 'email'],
  consentAt: T0,
  consentSource: 'web-form',
  tags: [],
  ...over,
});

let database: TestDatabase;
let service: SubscriptionService;
let activated: string[];
let failActivation = false;

beforeAll(async () => {
  database = await createTestDatabase();
  service = createSubscriptionService({
    db: database.db,
    secretKey: KEY,
    consentRecordIp: false,
    channels: ['whatsapp', 'email'],
    senderName: 'Lastcall Test',
    mailer: { send: async () => 'skipped' },
    onSubscriberActivated: async (id) => {
      // Called after the commit: another connection already sees the active channel.
      const row = await database.pool.query(
        "SELECT 1 FROM subscriber_channels WHERE subscriber_id = $1 AND state = 'active'",
        [id],
      );
      activated.push(`${id}:${row.rowCount}`);
      if (failActivation) throw new Error('planner down');
    },
  });
});
afterAll(async () => {
  await database?.drop();
});
beforeEach(async () => {
  activated = [];
  failActivation = false;
  await database.db.exec('TRUNCATE subscribers, tombstones CASCADE');
});

const states = async (id: string) =>
  Object.fromEntries(
    (
      await database.db.query('SELECT channel, state FROM subscriber_channels WHERE subscriber_id = $1', [id])
    ).map((r) => [r.channel, r.state]),
  );
const kinds = async (id: string) =>
  (
    await database.db.query('SELECT channel, kind FROM consent_events WHERE subscriber_id = $1 ORDER BY id', [
      id,
    ])
  ).map((r) => `${r.channel ?? '-'}:${r.kind}`);

describe('signUp', () => {
  it('creates, then updates by email without a duplicate; keeps no IP unless configured', async () => {
    const first = await service.signUp(input(), EVIDENCE, T0);
    expect(first).toMatchObject({ created: true, channels: { whatsapp: 'active', email: 'pending' } });
    expect(first.confirmation).toEqual({
      subscriberId: first.subscriberId,
      email: 'sam@example.org',
      name: 'Sam',
      locale: 'en',
    });
    const again = await service.signUp(
      input({ phone: undefined, channels: ['email'], name: 'Samuel' }),
      EVIDENCE,
      T0 + 1000,
    );
    expect(again).toMatchObject({ subscriberId: first.subscriberId, created: false });
    expect(await database.db.query('SELECT name, phone FROM subscribers')).toEqual([
      { name: 'Samuel', phone: '+33611111111' },
    ]);
    const evidence = await database.db.query('SELECT evidence FROM consent_events');
    expect(evidence.every((e) => !('ip' in e.evidence) && !('userAgent' in e.evidence))).toBe(true);
    expect(activated).toEqual([`${first.subscriberId}:1`, `${first.subscriberId}:1`]);
  });

  it('keeps a confirmed address confirmed, and asks again when the address changes', async () => {
    const { subscriberId } = await service.signUp(input(), EVIDENCE, T0);
    await service.confirmEmail(subscriberId, T0);
    const same = await service.signUp(input(), EVIDENCE, T0 + 1);
    expect(same.channels.email).toBe('active');
    expect(same.confirmation).toBeUndefined();
    const moved = await service.signUp(input({ email: 'sam@new.example' }), EVIDENCE, T0 + 2);
    expect(moved.channels.email).toBe('pending');
    expect(moved.confirmation?.email).toBe('sam@new.example');
  });

  it('ends a channel whose address changed without the channel being ticked again', async () => {
    const { subscriberId } = await service.signUp(input(), EVIDENCE, T0);
    const result = await service.signUp(
      input({ phone: '+33622222222', email: 'sam@example.org', channels: ['email'] }),
      EVIDENCE,
      T0 + 1,
    );
    expect(result.subscriberId).toBe(subscriberId);
    expect(await states(subscriberId)).toEqual({ whatsapp: 'unsubscribed', email: 'pending' });
    expect((await kinds(subscriberId)).slice(-2)).toEqual(['whatsapp:opt_out', 'email:opt_in']);
  });

  it('refuses to merge two subscribers', async () => {
    await service.signUp(input(), EVIDENCE, T0);
    await service.signUp(input({ phone: '+33633333333', email: 'other@example.org' }), EVIDENCE, T0);
    await expect(service.signUp(input({ phone: '+33633333333' }), EVIDENCE, T0)).rejects.toBeInstanceOf(
      SignUpConflictError,
    );
  });

  it('creates one subscriber when two first sign-ups race', async () => {
    const results = await Promise.all([
      service.signUp(input(), EVIDENCE, T0),
      service.signUp(input(), EVIDENCE, T0),
    ]);
    expect(new Set(results.map((r) => r.subscriberId)).size).toBe(1);
    expect(await database.db.query('SELECT id FROM subscribers')).toHaveLength(1);
  });

  it('lifts tombstones for the person signing up, which the importer can check', async () => {
    await database.db.exec("INSERT INTO tombstones (hash, kind) VALUES ($1, 'phone'), ($2, 'email')", [
      tombstoneHash(KEY, 'phone', '+33611111111'),
      tombstoneHash(KEY, 'email', 'Other@Example.org'),
    ]);
    expect(
      await isTombstoned(database.db, KEY, { phone: '+33611111111', email: 'other@example.org' }),
    ).toEqual(['email', 'phone']);
    await service.signUp(input(), EVIDENCE, T0);
    expect(
      await isTombstoned(database.db, KEY, { phone: '+33611111111', email: 'other@example.org' }),
    ).toEqual(['email']);
  });

  it('clears done_at when a done subscriber signs up again, and survives a failing activation hook', async () => {
    const { subscriberId } = await service.signUp(input(), EVIDENCE, T0);
    await service.markDone(subscriberId, 'done-link', T0 + 1);
    failActivation = true;
    await service.signUp(input(), EVIDENCE, T0 + 2);
    expect(await database.db.one('SELECT done_at FROM subscribers')).toEqual({ done_at: null });
  });
});

describe('opt-outs', () => {
  it('unsubscribes one channel or all, recording only changes', async () => {
    const { subscriberId } = await service.signUp(input(), EVIDENCE, T0);
    expect(await service.unsubscribe(subscriberId, 'email', 'one-click', T0)).toMatchObject({
      channels: ['email'],
    });
    expect(await service.unsubscribe(subscriberId, 'all', 'one-click', T0)).toMatchObject({
      channels: ['whatsapp'],
    });
    expect(await service.unsubscribe(subscriberId, 'all', 'one-click', T0)).toMatchObject({ changed: false });
    expect(await service.unsubscribe('nobody', 'all', 'one-click', T0)).toMatchObject({ found: false });
    expect(await kinds(subscriberId)).toEqual([
      'whatsapp:opt_in',
      'email:opt_in',
      'email:opt_out',
      'whatsapp:opt_out',
    ]);
  });

  it('stops and resumes WhatsApp by phone (E.164 or WhatsApp id), only with earlier consent', async () => {
    const { subscriberId } = await service.signUp(input(), EVIDENCE, T0);
    activated = [];
    expect(await service.stopWhatsApp('33611111111', 'whatsapp', T0, { messageId: 'wamid.1' })).toMatchObject(
      { changed: true },
    );
    expect(await states(subscriberId)).toMatchObject({ whatsapp: 'stopped' });
    expect(await service.resumeWhatsApp('+33611111111', 'whatsapp', T0 + 1)).toMatchObject({ changed: true });
    expect(await states(subscriberId)).toMatchObject({ whatsapp: 'active' });
    expect(activated).toEqual([`${subscriberId}:1`]);

    const emailOnly = await service.signUp(
      input({ phone: '+33644444444', email: 'e@example.org', channels: ['email'] }),
      EVIDENCE,
      T0,
    );
    expect(await service.resumeWhatsApp('+33644444444', 'whatsapp', T0)).toMatchObject({
      found: true,
      changed: false,
    });
    expect(await states(emailOnly.subscriberId)).toEqual({ email: 'pending' });
    expect(await service.stopWhatsApp('+33699999999', 'whatsapp', T0)).toMatchObject({ found: false });
  });

  it('marks done once', async () => {
    const { subscriberId } = await service.signUp(input(), EVIDENCE, T0);
    expect(await service.markDone(subscriberId, 'whatsapp', T0)).toMatchObject({
      changed: true,
      locale: 'en',
    });
    expect(await service.markDone(subscriberId, 'whatsapp', T0 + 1)).toMatchObject({ changed: false });
    expect((await kinds(subscriberId)).filter((k) => k.endsWith('done'))).toEqual(['-:done']);
  });
});
