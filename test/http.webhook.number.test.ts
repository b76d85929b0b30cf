// A WhatsApp user who changes their phone number (system message `user_changed_number`, Meta's
// documented shape: `from` the old number, `system.wa_id` the new one), through the real server
// and webhook worker: the subscriber's number follows, with the consent and channel state they
// had, so the next STOP from the new number matches; a number another subscriber has, or one
// that is not a phone number, changes nothing.
import { describe, expect, it } from 'vitest';
import { messagesChange, numberChange } from './fakes/graph-api.ts';
import * as h from './support/webhook.ts';

h.useWebhookHarness();
const { PEOPLE, at, digits, meta } = h;

const person = async (id: string) =>
  h.database.db.one<{ phone: string; state: string; consent_at: Date | null }>(
    `SELECT s.phone, c.state, c.consent_at FROM subscribers s
       JOIN subscriber_channels c ON c.subscriber_id = s.id AND c.channel = 'whatsapp'
      WHERE s.id = $1`,
    [id],
  );

describe('a WhatsApp user who changes their phone number', () => {
  it('moves the subscriber to the new number, keeping consent; a STOP from it then matches', async () => {
    const before = await person(PEOPLE.elodie.id);
    expect(before?.state).toBe('active');
    await h.postSigned([
      [
        numberChange(meta, {
          id: 'sys.elodie',
          from: digits(PEOPLE.elodie.phone),
          newWaId: '33699887766',
          at: at(20),
        }),
      ],
    ]);
    expect(await person(PEOPLE.elodie.id)).toEqual({ ...before, phone: '+33699887766' });
    // Its region with it (public holidays may come from it; docs/audiences.md).
    expect(
      await h.database.db.one(`SELECT phone_region FROM subscribers WHERE id = $1`, [PEOPLE.elodie.id]),
    ).toEqual({ phone_region: 'FR' });
    // The old number is no one's now; the new one is hers.
    await h.postSigned([
      [
        messagesChange(meta, [
          { kind: 'text', from: '33699887766', id: 'in.elodie.stop', at: at(10), text: 'STOP' },
        ]),
      ],
    ]);
    expect(await h.whatsappState(PEOPLE.elodie.id)).toBe('stopped');
  });

  it('keeps a stopped channel stopped: a new number is not a new consent', async () => {
    await h.postSigned([
      [
        numberChange(meta, {
          id: 'sys.back',
          from: digits(PEOPLE.back.phone),
          newWaId: '33700000040',
          at: at(9),
        }),
      ],
    ]);
    expect(await person(PEOPLE.back.id)).toMatchObject({ phone: '+33700000040', state: 'stopped' });
  });

  it('changes nothing when the new number is another subscriber’s, or not a phone number', async () => {
    await h.postSigned([
      [
        numberChange(meta, {
          id: 'sys.pref',
          from: digits(PEOPLE.pref.phone),
          newWaId: digits(PEOPLE.sam.phone),
          at: at(8),
        }),
      ],
      [numberChange(meta, { id: 'sys.pref2', from: digits(PEOPLE.pref.phone), newWaId: '12', at: at(7) })],
      [numberChange(meta, { id: 'sys.nobody', from: '33611111111', newWaId: '33611111112', at: at(6) })],
    ]);
    expect((await person(PEOPLE.pref.id))?.phone).toBe(PEOPLE.pref.phone);
    expect((await person(PEOPLE.sam.id))?.phone).toBe(PEOPLE.sam.phone);
    const taken = h.logs.filter((l) => l.includes('changed number: not applied'));
    expect(taken.map((l) => JSON.parse(l).outcome)).toEqual(['number-taken', 'bad-number']);
    // Logged without any number.
    expect(taken.join('\n')).not.toMatch(/33700000003|447700900123/);
  });
});
