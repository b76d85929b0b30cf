// WhatsApp webhook batches: statuses, STOP / FAIT / START, redeliveries, late failures and Meta's
// marketing preferences, applied by the real webhook worker.
import { describe, expect, it } from 'vitest';
import { QUEUES } from '../src/queue/catalog.ts';
import {
  encodeWebhook,
  messagesChange,
  statusesChange,
  templateStatusChange,
  userPreferencesChange,
  webhookPayload,
} from './fakes/graph-api.ts';
import * as h from './support/webhook.ts';

h.useWebhookHarness();
const { PEOPLE, at, digits, meta, status } = h;

describe('POST /webhooks/whatsapp', () => {
  it('applies a whole batch: every status, STOP and FAIT in French with emoji, replies in each language', async () => {
    await h.postSigned(
      [
        [
          statusesChange(meta, [
            status('wamid.E1', 'delivered', 50),
            status('wamid.S1', 'delivered', 49),
            status('wamid.B1', 'sent', 48, { callbackData: String(h.deliveries.back) }),
          ]),
          messagesChange(meta, [
            { kind: 'text', from: digits(PEOPLE.elodie.phone), id: 'in.1', at: at(10), text: 'ARRÊT' },
            { kind: 'text', from: digits(PEOPLE.sam.phone), id: 'in.2', at: at(9), text: 'Fait ✅' },
          ]),
        ],
        [
          statusesChange(meta, [
            status('wamid.E1', 'read', 40),
            status('wamid.P1', 'failed', 45, { errors: [{ code: 131026, title: 'Message undeliverable' }] }),
          ]),
          messagesChange(meta, [
            { kind: 'text', from: '33799999999', id: 'in.3', at: at(8), text: 'STOP' },
            { kind: 'text', from: digits(PEOPLE.back.phone), id: 'in.4', at: at(7), text: 'start' },
            { kind: 'text', from: digits(PEOPLE.never.phone), id: 'in.5', at: at(7), text: 'START' },
            {
              kind: 'text',
              from: digits(PEOPLE.elodie.phone),
              id: 'in.6',
              at: at(6),
              text: 'Bonjour, une question',
            },
          ]),
        ],
      ],
      'utf8',
    );

    expect(await h.delivery('elodie')).toMatchObject({
      status: 'read',
      delivered_at: at(50),
      read_at: at(40),
    });
    expect(await h.delivery('sam')).toMatchObject({ status: 'delivered', delivered_at: at(49) });
    expect(await h.delivery('pref')).toMatchObject({
      status: 'failed',
      error_code: '131026',
      error_detail: 'Message undeliverable',
      failed_at: at(45),
    });
    // 131026: the number cannot receive; its WhatsApp channel ends for later steps.
    expect(await h.whatsappState(PEOPLE.pref.id)).toBe('bounced');
    // Found by biz_opaque_callback_data while the sender had not yet written the result.
    expect(await h.delivery('back')).toMatchObject({ status: 'sent', provider_message_id: 'wamid.B1' });

    expect(await h.whatsappState(PEOPLE.elodie.id)).toBe('stopped');
    const stopEvent = await h.database.db.one<{ kind: string; source: string; occurred_at: Date }>(
      `SELECT kind, source, occurred_at FROM consent_events WHERE subscriber_id = $1 AND kind = 'opt_out'`,
      [PEOPLE.elodie.id],
    );
    expect(stopEvent).toEqual({ kind: 'opt_out', source: 'whatsapp-reply', occurred_at: at(10) });
    const sam = await h.database.db.one<{ done_at: Date | null }>(
      `SELECT done_at FROM subscribers WHERE id = $1`,
      [PEOPLE.sam.id],
    );
    expect(sam?.done_at).toEqual(at(9));
    expect(await h.whatsappState(PEOPLE.back.id)).toBe('active');
    expect(await h.whatsappState(PEOPLE.never.id)).toBe('pending');

    expect(h.textsTo(PEOPLE.elodie.phone)).toEqual([
      expect.stringMatching(/ne recevrez plus nos rappels sur WhatsApp/),
    ]);
    expect(h.textsTo(PEOPLE.sam.phone)).toEqual([expect.stringMatching(/^Thank you! Noted: you are done/)]);
    expect(h.textsTo(PEOPLE.back.phone)).toEqual([expect.stringMatching(/sont réactivés/)]);
    expect(h.textsTo(PEOPLE.never.phone)).toEqual([]);
    expect(h.textsTo('+33799999999')).toEqual([]);
    expect(h.graph.sent()).toHaveLength(3);

    // The payload is gone once h.processed; nothing personal stays in the event row or the h.logs.
    const rows = await h.database.db.query<{ payload: unknown; fields: string[] }>(
      `SELECT payload, fields FROM webhook_events`,
    );
    expect(rows).toEqual([{ payload: null, fields: ['messages'] }]);
    const logText = h.logs.join('');
    for (const p of [...Object.values(PEOPLE).map((x) => x.phone), '+33799999999'])
      expect(logText).not.toContain(digits(p));
    expect(logText).not.toContain('ARRÊT');
  });

  it('ends at read whatever the order, and acknowledges a redelivery without processing it again', async () => {
    const read = [[statusesChange(meta, [status('wamid.S1', 'read', 30)])]];
    await h.postSigned(read);
    await h.postSigned([[statusesChange(meta, [status('wamid.S1', 'delivered', 35)])]]);
    await h.postSigned([[statusesChange(meta, [status('wamid.S1', 'sent', 55)])]]);
    const before = await h.eventCount();
    await h.postSigned(read);
    expect(await h.eventCount()).toBe(before);
    expect(await h.delivery('sam')).toMatchObject({
      status: 'read',
      sent_at: at(60),
      delivered_at: at(49),
      read_at: at(30),
    });
  });

  it('answers a STOP once even when Meta redelivers it in another batch', async () => {
    const sent = h.graph.sent().length;
    await h.postSigned([
      [
        messagesChange(meta, [
          { kind: 'text', from: digits(PEOPLE.elodie.phone), id: 'in.1', at: at(10), text: 'ARRÊT' },
        ]),
        statusesChange(meta, [status('wamid.E1', 'delivered', 41)]),
      ],
    ]);
    expect(h.graph.sent()).toHaveLength(sent);
    expect(await h.delivery('elodie')).toMatchObject({ status: 'read', delivered_at: at(50) });
  });

  it('keeps a failure reported after h.delivery as an error without moving the status back', async () => {
    await h.postSigned([
      [
        statusesChange(meta, [
          status('wamid.E1', 'failed', 20, { errors: [{ code: 131000, title: 'Something went wrong' }] }),
        ]),
      ],
    ]);
    expect(await h.delivery('elodie')).toMatchObject({
      status: 'read',
      error_code: '131000',
      failed_at: null,
    });
  });

  it('stops WhatsApp on Meta’s marketing opt-out (user_preferences) and records the template review', async () => {
    const sent = h.graph.sent().length;
    await h.postSigned([
      [userPreferencesChange(meta, [{ waId: digits(PEOPLE.pref.phone), value: 'stop', at: at(3) }])],
      [
        templateStatusChange({
          id: '77',
          name: 'first_notice',
          language: 'fr',
          event: 'REJECTED',
          reason: 'INVALID_FORMAT',
        }),
      ],
    ]);
    expect(await h.whatsappState(PEOPLE.pref.id)).toBe('stopped');
    const event = await h.database.db.one<{ source: string; evidence: Record<string, unknown> }>(
      `SELECT source, evidence FROM consent_events WHERE subscriber_id = $1 AND kind = 'opt_out'`,
      [PEOPLE.pref.id],
    );
    expect(event).toMatchObject({ source: 'whatsapp-marketing-preference', evidence: { value: 'stop' } });
    expect(h.graph.sent()).toHaveLength(sent);
    expect(await h.database.db.query(`SELECT name, language, status, reason FROM template_statuses`)).toEqual(
      [{ name: 'first_notice', language: 'fr', status: 'REJECTED', reason: 'INVALID_FORMAT' }],
    );
  });

  it('stores POSTs that arrive together in one commit: each body once, a copy with them a duplicate', async () => {
    const bodies = [
      [status('wamid.E1', 'delivered', 50)],
      [status('wamid.S1', 'delivered', 49)],
      [status('wamid.P1', 'delivered', 48)],
    ].map((statuses) =>
      encodeWebhook(webhookPayload([{ id: 'waba-1', changes: [statusesChange(meta, statuses)] }]), h.SECRET),
    );
    const [before] = await h.database.db.query<{ id: number }>(
      `SELECT coalesce(max(id), 0)::int AS id FROM webhook_events`,
    );
    // Paused, so that no processing rewrites the rows (and their xmin) before they are read.
    await h.worker.pause();
    const answers = await Promise.all([...bodies, bodies[0]!].map((b) => h.post(b.body, b.signature)));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    const events = await h.database.db.query<{ commits: number; n: number; newest: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS commits, count(*)::int AS n, max(id)::int AS newest
         FROM webhook_events WHERE id > $1`,
      [before!.id],
    );
    // One job for the batch, naming its newest event: it processes the others with it.
    const jobs = (await h.queues.get(QUEUES.webhooks).getWaiting()).map((j) => j.data);
    h.worker.resume();
    expect(events).toEqual([{ commits: 1, n: 3, newest: expect.any(Number) }]);
    expect(jobs).toEqual([{ eventId: events[0]!.newest }]);
    await h.processed();
  });
});
