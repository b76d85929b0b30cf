import { describe, expect, it } from 'vitest';
import {
  messagesChange,
  numberChange,
  statusesChange,
  templateStatusChange,
  userIdChange,
  userPreferencesChange,
  webhookPayload,
} from '../sandbox/webhook-payloads.ts';
import { redactWebhookPayload, webhookFields, webhookItems } from './webhook-payload.ts';

const meta = { phoneNumberId: '100', displayPhoneNumber: '15550001111' };
const at = new Date('2026-05-04T10:00:00Z');

describe('webhookItems', () => {
  it('walks every entry, change, status and message of a batch', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          statusesChange(meta, [
            { id: 'w1', status: 'delivered', recipientId: '33600000001', at, callbackData: '7' },
            {
              id: 'w2',
              status: 'failed',
              recipientId: '33600000002',
              at,
              errors: [{ code: 131026, title: 'Undeliverable' }],
            },
          ]),
          messagesChange(meta, [
            { kind: 'text', from: '33600000001', id: 'in1', at, text: 'ARRÊT' },
            {
              kind: 'button',
              from: '33600000002',
              id: 'in2',
              at,
              text: 'Stop promotions',
              payload: 'STOP',
              contextId: 'w1',
            },
          ]),
        ],
      },
      {
        id: 'waba',
        changes: [
          userPreferencesChange(meta, [{ waId: '33600000003', value: 'stop', at }]),
          templateStatusChange({ id: '9', name: 'first_notice', language: 'fr', event: 'APPROVED' }),
          { field: 'account_update', value: { event: 'VERIFIED' } },
        ],
      },
    ]);
    expect(webhookFields(payload)).toEqual([
      'messages',
      'user_preferences',
      'message_template_status_update',
      'account_update',
    ]);
    const items = webhookItems(payload);
    expect(items.map((i) => i.kind)).toEqual([
      'status',
      'status',
      'inbound',
      'inbound',
      'preference',
      'template',
      'ignored',
    ]);
    expect(items[0]).toMatchObject({ wamid: 'w1', status: 'delivered', callbackData: '7', at: at.getTime() });
    expect(items[1]).toMatchObject({ status: 'failed', error: { code: '131026' } });
    expect(items[2]).toMatchObject({ messageId: 'in1', from: '33600000001', texts: ['ARRÊT'] });
    expect(items[3]).toMatchObject({ texts: ['Stop promotions', 'STOP'] });
    expect(items[4]).toMatchObject({ kind: 'preference', waId: '33600000003', value: 'stop' });
    expect(items[5]).toMatchObject({
      kind: 'template',
      name: 'first_notice',
      event: 'APPROVED',
      reason: undefined,
    });
  });

  it('never throws on odd shapes', () => {
    expect(webhookItems(null)).toEqual([]);
    expect(
      webhookItems({
        entry: [{ changes: [{ field: 'messages' }, null, { field: 'messages', value: { statuses: [{}] } }] }],
      }),
    ).toEqual([
      { kind: 'ignored', field: 'messages', reason: 'no value' },
      { kind: 'ignored', field: 'unknown', reason: 'no value' },
      { kind: 'ignored', field: 'messages', reason: 'status without id or status' },
    ]);
  });

  it('reads the older system form of a marketing stop', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          {
            field: 'messages',
            value: {
              messages: [
                {
                  from: '33600000009',
                  id: 's1',
                  timestamp: '1',
                  type: 'system',
                  system: { type: 'user_preference_changed', marketing: 'stop' },
                },
              ],
            },
          },
        ],
      },
    ]);
    expect(webhookItems(payload)).toEqual([
      { kind: 'preference', waId: '33600000009', value: 'stop', category: 'marketing_messages', at: 1000 },
    ]);
  });
});

describe('business-scoped user ids and usernames', () => {
  const bsuid = 'FR.1349120865530274191';

  it('reads the BSUID and username of a sender with a phone, and of one without', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          messagesChange(meta, [
            {
              kind: 'text',
              from: '33600000001',
              userId: bsuid,
              name: 'Élodie',
              id: 'in1',
              at,
              text: 'Bonjour',
            },
            {
              kind: 'text',
              userId: 'US.13491208655302741918',
              username: 'sam.w',
              id: 'in2',
              at,
              text: 'STOP',
            },
          ]),
          statusesChange(meta, [{ id: 'w1', status: 'read', recipientUserId: bsuid, at }]),
        ],
      },
    ]);
    expect(webhookItems(payload)).toEqual([
      expect.objectContaining({ kind: 'inbound', from: '33600000001', userId: bsuid, username: undefined }),
      expect.objectContaining({
        kind: 'inbound',
        from: undefined,
        userId: 'US.13491208655302741918',
        username: 'sam.w',
        texts: ['STOP'],
      }),
      expect.objectContaining({ kind: 'status', wamid: 'w1', userId: bsuid }),
    ]);
  });

  it('takes only a well-formed BSUID, and the contact of the same wa_id', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          {
            field: 'messages',
            value: {
              contacts: [
                { wa_id: '33600000002', user_id: 'FR.2', profile: { username: 'other' } },
                { wa_id: '33600000001', user_id: 'not a bsuid', profile: { username: 'x'.repeat(65) } },
              ],
              messages: [{ from: '33600000001', id: 'in1', type: 'text', text: { body: 'hi' } }],
            },
          },
        ],
      },
    ]);
    expect(webhookItems(payload)).toEqual([
      expect.objectContaining({ kind: 'inbound', userId: undefined, username: undefined }),
    ]);
  });

  it('reads user_changed_user_id and a preference that names only the BSUID', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          userIdChange(meta, { id: 'sys1', previousUserId: bsuid, userId: 'FR.9', at }),
          userPreferencesChange(meta, [{ userId: bsuid, value: 'stop', at }]),
          userPreferencesChange(meta, [{ value: 'stop', at }]),
        ],
      },
    ]);
    expect(webhookItems(payload)).toEqual([
      { kind: 'identity', messageId: 'sys1', previousUserId: bsuid, userId: 'FR.9', at: at.getTime() },
      expect.objectContaining({ kind: 'preference', waId: undefined, userId: bsuid, value: 'stop' }),
      expect.objectContaining({ kind: 'ignored', field: 'user_preferences' }),
    ]);
  });

  it('reads user_changed_number: the old number in from, the new one in system.wa_id', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [numberChange(meta, { id: 'sys2', from: '16505551234', newWaId: '12195555358', at })],
      },
    ]);
    expect(webhookItems(payload)).toEqual([
      {
        kind: 'number',
        messageId: 'sys2',
        from: '16505551234',
        userId: undefined,
        newWaId: '12195555358',
        at: at.getTime(),
      },
    ]);
  });

  it('redacts a username user by BSUID', () => {
    const payload = webhookPayload([
      {
        id: 'waba',
        changes: [
          messagesChange(meta, [
            { kind: 'text', userId: bsuid, username: 'elodie.m', id: 'in1', at, text: 'STOP' },
          ]),
        ],
      },
    ]);
    const redacted = redactWebhookPayload(payload, [bsuid, 'elodie.m']);
    expect(JSON.stringify(redacted)).not.toMatch(/FR\.1349|elodie\.m/);
    expect(webhookItems(redacted)).toEqual([]);
  });
});

describe('redactWebhookPayload', () => {
  const person = '33600000001';
  const other = '33600000002';
  const batch = () =>
    webhookPayload([
      {
        id: 'waba',
        changes: [
          statusesChange(meta, [
            { id: 'w1', status: 'delivered', recipientId: person, at, callbackData: '7' },
            { id: 'w2', status: 'read', recipientId: other, at, callbackData: '8' },
          ]),
          messagesChange(meta, [
            { kind: 'text', from: person, id: 'in1', at, text: 'FAIT' },
            { kind: 'text', from: other, id: 'in2', at, text: 'ARRÊT' },
          ]),
          userPreferencesChange(meta, [{ waId: person, value: 'stop', at }]),
        ],
      },
    ]);

  it("removes the person's statuses, messages, contacts and preferences and keeps everyone else's", () => {
    const before = batch();
    expect(JSON.stringify(before)).toContain(person);
    const redacted = redactWebhookPayload(before, [person]);
    expect(JSON.stringify(redacted)).not.toContain(person);
    expect(
      webhookItems(redacted).map((i) => [i.kind, 'wamid' in i ? i.wamid : 'from' in i ? i.from : '']),
    ).toEqual([
      ['status', 'w2'],
      ['inbound', other],
    ]);
    // The same payload as before for the other person: their items are processed unchanged.
    const theirs = (i: ReturnType<typeof webhookItems>[number]) =>
      (i.kind === 'status' && i.wamid === 'w1') ||
      (i.kind === 'inbound' && i.from === person) ||
      (i.kind === 'preference' && i.waId === person);
    expect(webhookItems(redacted)).toEqual(webhookItems(before).filter((i) => !theirs(i)));
  });

  it('returns undefined when the payload does not mention them', () => {
    expect(redactWebhookPayload(batch(), ['33699999999'])).toBeUndefined();
    expect(redactWebhookPayload(batch(), [])).toBeUndefined();
  });
});
