// POST /webhooks/whatsapp under fuzz (fast-check): validly signed bodies of odd JSON (Meta's
// envelope with odd values at every level, any JSON at all, bytes that are not JSON), through
// the real server, PostgreSQL, this file's own Redis prefix and the real webhook worker. Every
// answer is 200 (stored, then processed) or 400 (not an envelope, nothing stored); never a
// 500 or a 503, and the worker processes every stored body without a failed job.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { redactWebhookPayload, webhookFields, webhookItems } from '../src/inbound/webhook-payload.ts';
import { escapeUnicode } from '../src/inbound/webhook-signature.ts';
import { encodeWebhook, signWebhook } from './fakes/graph-api.ts';
import * as h from './support/webhook.ts';

const PHONE = h.PEOPLE.elodie.phone;
/** A business-scoped user id (2026): the fields that carry one get it, or odd values. */
const BSUID = 'FR.1349120865530274191';
const bsuid = () => fc.oneof(leaf, fc.constantFrom(BSUID, 'US.ENT.11815799212886844830', 'fr.1', 'FR.'));
const failures: string[] = [];

h.useWebhookHarness();
beforeAll(() => {
  h.worker.on('failed', (_job, error) => failures.push(String(error)));
});

const stored = async () =>
  (await h.database.db.one<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events'))!.n;

/** Waits until the worker has processed every stored body; a failed job is named. */
async function settled(): Promise<void> {
  await h.processed().catch((error: unknown) => {
    throw new Error(`${String(error)}; failed jobs: ${failures.join('; ')}`);
  });
}

// Odd leaves, with the strings JSON, PostgreSQL's jsonb and the handlers each dislike.
const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    'STOP',
    'ARRÊT',
    'START',
    'fait',
    'DONE',
    PHONE.slice(1),
    'wamid.E1',
    BSUID,
    'sent',
    'read',
    'failed',
    '1714815000',
    '99999999999999',
    -1,
    1e308,
    null,
    true,
    '\u0000',
    'a\u0000b',
    '\\u0000',
    '\\\\u0000',
    '\ud800',
    '\udfff',
    '😀',
    'x'.repeat(5000),
  ),
);
const some = <T>(arb: fc.Arbitrary<T>) => fc.oneof(leaf, fc.array(arb, { maxLength: 3 }));
const status = fc.record(
  {
    id: fc.oneof(leaf, fc.constant('wamid.E1')),
    status: fc.oneof(leaf, fc.constantFrom('sent', 'delivered', 'read', 'failed', 'played')),
    timestamp: leaf,
    recipient_id: leaf,
    recipient_user_id: bsuid(),
    recipient_parent_user_id: bsuid(),
    biz_opaque_callback_data: leaf,
    errors: some(fc.record({ code: leaf, title: leaf }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const message = fc.record(
  {
    from: fc.oneof(leaf, fc.constant(PHONE.slice(1))),
    from_user_id: bsuid(),
    from_parent_user_id: bsuid(),
    id: leaf,
    timestamp: leaf,
    type: fc.oneof(leaf, fc.constantFrom('text', 'button', 'interactive', 'image', 'system')),
    system: fc.oneof(
      leaf,
      fc.record(
        {
          type: fc.oneof(leaf, fc.constantFrom('user_changed_user_id', 'user_changed_number')),
          user_id: bsuid(),
          previous_user_id: bsuid(),
          wa_id: fc.oneof(leaf, fc.constant(PHONE.slice(1)), fc.constant('33699887766')),
          body: leaf,
        },
        { requiredKeys: [] },
      ),
    ),
    text: fc.oneof(leaf, fc.record({ body: leaf }, { requiredKeys: [] })),
    button: fc.oneof(leaf, fc.record({ text: leaf, payload: leaf }, { requiredKeys: [] })),
    interactive: leaf,
  },
  { requiredKeys: [] },
);
const value = fc.record(
  {
    messaging_product: leaf,
    metadata: fc.oneof(leaf, fc.record({ phone_number_id: leaf, display_phone_number: leaf })),
    statuses: some(status),
    messages: some(message),
    contacts: some(
      fc.record(
        {
          wa_id: leaf,
          user_id: bsuid(),
          profile: fc.oneof(leaf, fc.record({ name: leaf, username: leaf }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    ),
    user_preferences: some(
      fc.record(
        {
          wa_id: leaf,
          user_id: bsuid(),
          value: fc.oneof(leaf, fc.constantFrom('stop', 'resume')),
          category: leaf,
          timestamp: leaf,
        },
        { requiredKeys: [] },
      ),
    ),
    event: leaf,
    new_category: fc.oneof(leaf, fc.constantFrom('MARKETING', 'UTILITY')),
    previous_category: fc.oneof(leaf, fc.constantFrom('MARKETING', 'UTILITY')),
    correct_category: fc.oneof(leaf, fc.constantFrom('MARKETING')),
    new_quality_score: fc.oneof(leaf, fc.constantFrom('RED', 'YELLOW', 'GREEN')),
    current_limit: fc.oneof(leaf, fc.constantFrom('TIER_1K', 'TIER_10K', 'TIER_X')),
    max_daily_conversations_per_business: fc.oneof(
      leaf,
      fc.constantFrom('TIER_2K', 'TIER_UNLIMITED', 10000, 'TIER_X'),
    ),
    message_template_name: fc.oneof(leaf, fc.constant('lastcall_ai_assistants_first_notice')),
    message_template_language: fc.oneof(leaf, fc.constant('fr')),
    reason: leaf,
    errors: leaf,
  },
  { requiredKeys: [] },
);
const change = fc.record(
  {
    field: fc.oneof(
      leaf,
      fc.constantFrom(
        'messages',
        'user_preferences',
        'message_template_status_update',
        'business_capability_update',
        'phone_number_quality_update',
        'template_category_update',
        'message_template_quality_update',
        'account_update',
      ),
    ),
    value: fc.oneof(leaf, value),
  },
  { requiredKeys: [] },
);
const entry = fc.record({ id: leaf, time: leaf, changes: some(change) }, { requiredKeys: [] });
const envelope = fc.record(
  {
    object: fc.oneof(leaf, fc.constant('whatsapp_business_account')),
    entry: fc.oneof(fc.array(fc.oneof(entry, leaf), { maxLength: 3 }), leaf),
  },
  { requiredKeys: [] },
);

describe('webhook payload walking under fuzz', { timeout: 120_000 }, () => {
  it('flattens, names and redacts any odd envelope without throwing', () => {
    const kinds = new Set([
      'status',
      'inbound',
      'preference',
      'identity',
      'number',
      'capability',
      'quality',
      'template-change',
      'template',
      'error',
      'ignored',
    ]);
    fc.assert(
      fc.property(fc.oneof(envelope, fc.jsonValue({ maxDepth: 3 })), (payload) => {
        // As the worker gets it: through JSON, as stored.
        const asStored: unknown = JSON.parse(JSON.stringify(payload));
        for (const item of webhookItems(asStored)) {
          expect(kinds).toContain(item.kind);
          // Only a well-formed BSUID is ever taken as one.
          const ids = [
            'userId' in item ? item.userId : undefined,
            'previousUserId' in item ? item.previousUserId : undefined,
          ];
          for (const id of ids) if (id !== undefined) expect(id).toMatch(/^[A-Z]{2}\.[A-Za-z0-9.]+$/);
        }
        for (const field of webhookFields(asStored)) expect(typeof field).toBe('string');
        const redacted = redactWebhookPayload(asStored, [PHONE.slice(1), BSUID]);
        if (redacted !== undefined) expect(JSON.stringify(redacted)).not.toContain(BSUID);
      }),
      { numRuns: 3000 },
    );
  });
});

// Hundreds of requests, each waited for through the worker: give a loaded machine time.
describe('POST /webhooks/whatsapp under fuzz', { timeout: 120_000 }, () => {
  it('acknowledges or refuses every signed body cleanly, and the worker processes every stored one', async () => {
    const bodies = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(
          fc.oneof(envelope, fc.jsonValue({ maxDepth: 3 })),
          fc.constantFrom<'meta' | 'utf8'>('meta', 'utf8'),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
          fc.constant('raw' as const),
        ),
      },
    );
    await fc.assert(
      fc.asyncProperty(bodies, async ([payload, encoding]) => {
        const { body, signature } =
          encoding === 'raw'
            ? // Signed as Meta signs: over the text with non-ASCII escaped.
              {
                body: payload as Buffer,
                signature: signWebhook(h.SECRET, escapeUnicode((payload as Buffer).toString('utf8'))),
              }
            : encodeWebhook(payload, h.SECRET, encoding);
        const before = await stored();
        const res = await h.post(body, signature);
        expect([200, 400]).toContain(res.statusCode);
        const envelopeSent =
          encoding !== 'raw' &&
          payload !== null &&
          typeof payload === 'object' &&
          Array.isArray((payload as { entry?: unknown }).entry);
        expect(res.statusCode).toBe(envelopeSent ? 200 : 400);
        if (res.statusCode === 400) expect(await stored()).toBe(before);
        await settled();
        expect(failures).toEqual([]);
      }),
      {
        numRuns: 200,
        // Found by this test: jsonb refused a lone surrogate and the fields column a NUL (503,
        // redelivered for days), and a written backslash-u-0000 was cut in half on the way in.
        examples: [
          [[{ entry: ['\udfff', { id: '\ud83d' }] }, 'meta']],
          [[{ entry: [{ id: '\\u0000 and \u0000', changes: [] }], '\u0000': 1 }, 'utf8']],
          [[{ entry: [{ changes: [{ field: 'a\u0000b' }] }] }, 'meta']],
        ],
      },
    );
  });
});
