// A WhatsApp user who adopts a username, end to end: real `lastcall serve` and `lastcall work`
// processes, the WhatsApp sandbox (fake Graph API, status webhooks, inbox), real PostgreSQL and
// Redis. Step 1 goes out by phone; the sandbox's status webhooks carry each recipient's
// business-scoped user id (BSUID), which Lastcall keeps. One person then adopts a username in the
// sandbox: their STOP arrives with no phone at all, only the BSUID. Lastcall matches it, stops
// their WhatsApp channel, confirms it with `recipient: <BSUID>`, and step 2 reaches only the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileText } from '../src/cli/commands/subscribers-show.ts';
import type { Sandbox } from '../src/sandbox/sandbox.service.ts';
import { webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { postWebhook } from '../src/sandbox/webhook-signing.ts';
import { subscriberProfile } from '../src/subscribers/subscriber-profile.ts';
import type { TestDatabase } from './support/db.ts';
import {
  digits,
  seedSubscribers,
  spawnLastcall,
  spawnWorker,
  startDueCampaign,
  statusCounts,
  subscriber,
  waitFor,
} from './support/delivery.ts';
import { type SandboxStack, startSandboxStack } from './support/sandbox-stack.ts';

const MINUTE = 60_000;
const CAMPAIGN = 'username-stop';
const AMELIE = subscriber('u-amelie', 1, ['whatsapp']);
const BOB = subscriber('u-bob', 2, ['whatsapp'], { locale: 'en' });
const APP_SECRET = 'username-e2e-app-secret';

let stack: SandboxStack;
let database: TestDatabase;
let sandbox: Sandbox;
let env: Record<string, string>;
let now: number;

beforeAll(async () => {
  stack = await startSandboxStack({
    name: 'username-e2e',
    appSecret: APP_SECRET,
    idSuffix: '42',
    env: { WHATSAPP_RATE: '100' },
  });
  ({ database, sandbox, env } = stack);
  now = Date.now();
  await seedSubscribers(database.db, [AMELIE, BOB], now - 60 * MINUTE);
  // m10 is due now; m3 comes due two minutes later, still before the deadline.
  await startDueCampaign(
    database.db,
    CAMPAIGN,
    [
      { id: 'm10', before: 'PT10M', channels: ['whatsapp'], template: 'first-notice' },
      { id: 'm3', before: 'PT3M', channels: ['whatsapp'], template: 'one-week' },
    ],
    now,
  );
  // serve first: the worker ticks as it starts, and the sandbox reports statuses at once.
  stack.processes.push(await spawnLastcall(['serve'], env, '"msg":"listening'));
  stack.processes.push(await spawnWorker(env));
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const tick = (at: number) => stack.tick(at);
const templatesTo = (phone: string) =>
  sandbox.graph.sent().filter((m) => m.to === digits(phone) && m.type === 'template');
const channel = (id: string) =>
  database.db.one<{ state: string; whatsapp_user_id: string | null; whatsapp_username: string | null }>(
    `SELECT state, whatsapp_user_id, whatsapp_username FROM subscriber_channels WHERE subscriber_id = $1`,
    [id],
  );

async function sandboxForm(path: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

describe('a username-only STOP', { timeout: 60_000 }, () => {
  it('step 1 goes out by phone, and the status webhooks teach Lastcall each BSUID', async () => {
    await tick(now);
    await waitFor(
      'step 1 read',
      async () => {
        const counts = await statusCounts(database.db, CAMPAIGN);
        if (counts.read === 2) return true;
        throw new Error(
          `deliveries ${JSON.stringify(counts)}; ${stack.processes.map((p) => p.output().slice(-1500)).join('\n')}`,
        );
      },
      30_000,
    );
    expect(templatesTo(AMELIE.phone!)).toHaveLength(1);
    expect(templatesTo(BOB.phone!)).toHaveLength(1);
    const bsuid = sandbox.graph.identities.of(digits(AMELIE.phone!)).userId;
    expect(await channel(AMELIE.id)).toEqual({
      state: 'active',
      whatsapp_user_id: bsuid,
      whatsapp_username: null,
    });
  });

  it('the person adopts a username; their STOP carries only the BSUID and is confirmed', async () => {
    const adopt = await sandboxForm('/inbox/username', { to: digits(AMELIE.phone!), username: 'amelie.b' });
    expect(adopt.status).toBe(303);
    const inbox = await (await fetch(`${sandbox.url}/?to=${digits(AMELIE.phone!)}`)).text();
    expect(inbox).toContain('@amelie.b');

    const res = await fetch(`${sandbox.url}/inbox/api/replies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: digits(AMELIE.phone!), text: 'STOP' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { reply: { httpStatus: number } }).reply.httpStatus).toBe(200);

    const bsuid = sandbox.graph.identities.of(digits(AMELIE.phone!)).userId;
    await waitFor('the STOP applied', async () => (await channel(AMELIE.id))?.state === 'stopped', 20_000);
    const confirmation = await waitFor('the confirmation', () =>
      sandbox.graph.sent().find((m) => m.type === 'text' && m.userId === bsuid),
    );
    expect(confirmation.text).toMatch(/ne recevrez plus nos rappels sur WhatsApp/);
    expect(confirmation.payload).toMatchObject({ recipient: bsuid });
    expect(confirmation.payload).not.toHaveProperty('to');
    expect(sandbox.graph.dropped()).toEqual([]);
    expect(await channel(AMELIE.id)).toEqual({
      state: 'stopped',
      whatsapp_user_id: bsuid,
      whatsapp_username: 'amelie.b',
    });
    // `subscribers show` (and the API profile) say a username is in use.
    const profile = await subscriberProfile(database.db, { kind: 'id', value: AMELIE.id });
    expect(profileText(profile)).toContain('uses the username amelie.b');
  });

  it('step 2 reaches only the other subscriber', async () => {
    await tick(now + 2 * MINUTE);
    await waitFor('step 2 settled', async () => {
      const rows = await database.db.query<{ status: string }>(
        `SELECT status FROM deliveries WHERE campaign_id = $1 AND step_id = 'm3'`,
        [CAMPAIGN],
      );
      return rows.length === 1 && rows[0]!.status !== 'queued' && rows[0]!.status !== 'sending';
    });
    await waitFor('step 2 read', () => templatesTo(BOB.phone!).length === 2);
    expect(templatesTo(AMELIE.phone!)).toHaveLength(1);
    const step2 = await database.db.query<{ subscriber_id: string }>(
      `SELECT subscriber_id FROM deliveries WHERE campaign_id = $1 AND step_id = 'm3'`,
      [CAMPAIGN],
    );
    expect(step2).toEqual([{ subscriber_id: BOB.id }]);
  });

  it('a template_category_update names the campaign that uses the template, in an outbound event', async () => {
    const payload = webhookPayload([
      {
        id: sandbox.graph.wabaId,
        changes: [
          {
            field: 'template_category_update',
            value: {
              message_template_id: 900000000000001,
              message_template_name: 'lastcall_ai_assistants_one_week',
              message_template_language: 'fr',
              previous_category: 'UTILITY',
              new_category: 'MARKETING',
            },
          },
        ],
      },
    ]);
    const res = await postWebhook(`http://127.0.0.1:${env.HTTP_PORT}/webhooks/whatsapp`, payload, {
      appSecret: APP_SECRET,
    });
    expect(res.status).toBe(200);
    const event = await waitFor('the template.changed event', () =>
      database.db.one<{ data: Record<string, unknown> }>(
        `SELECT data FROM event_outbox WHERE type = 'template.changed'`,
      ),
    );
    expect(event.data).toEqual({
      campaignId: CAMPAIGN,
      template: 'lastcall_ai_assistants_one_week',
      language: 'fr',
      change: 'category',
      from: 'UTILITY',
      to: 'MARKETING',
    });
    expect(
      await database.db.one(
        `SELECT category, previous_category, category_change FROM template_statuses WHERE name = 'lastcall_ai_assistants_one_week'`,
      ),
    ).toEqual({ category: 'MARKETING', previous_category: 'UTILITY', category_change: 'done' });
  });
});
