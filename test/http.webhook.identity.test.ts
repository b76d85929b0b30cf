// Business-scoped user ids (BSUID) and usernames through the real server and webhook worker:
// learnt from a status about a message we sent and from a message that comes with a phone,
// then used to match a username user who writes with no phone at all (STOP, Meta's marketing
// preference), answered with `recipient: <BSUID>`, followed when Meta changes the BSUID, and
// shown in the subscriber's profile. The fake Graph API hands out the BSUIDs as Meta would.
import { describe, expect, it } from 'vitest';
import { subscriberProfile } from '../src/subscribers/subscriber-profile.ts';
import { messagesChange, statusesChange, userIdChange, userPreferencesChange } from './fakes/graph-api.ts';
import * as h from './support/webhook.ts';

h.useWebhookHarness();
const { PEOPLE, at, digits, meta, status } = h;

const identity = async (id: string) =>
  h.database.db.one<{ whatsapp_user_id: string | null; whatsapp_username: string | null }>(
    `SELECT whatsapp_user_id, whatsapp_username FROM subscriber_channels WHERE subscriber_id = $1 AND channel = 'whatsapp'`,
    [id],
  );
const requestsFor = (userId: string) =>
  h.graph.requests.filter(
    (r) => r.path.endsWith('/messages') && (r.body as { recipient?: string }).recipient === userId,
  );

describe('WhatsApp users known by a business-scoped user id', () => {
  it('learns the BSUID from a status about a message Lastcall sent', async () => {
    const bsuid = h.graph.identities.of(digits(PEOPLE.elodie.phone)).userId;
    expect(bsuid).toMatch(/^FR\.\d{19}$/);
    await h.postSigned([
      [statusesChange(meta, [status('wamid.E1', 'delivered', 30, { recipientUserId: bsuid })])],
    ]);
    expect(await identity(PEOPLE.elodie.id)).toEqual({ whatsapp_user_id: bsuid, whatsapp_username: null });
  });

  it('learns the BSUID and the username from any message that comes with a known phone', async () => {
    const bsuid = h.graph.identities.of(digits(PEOPLE.sam.phone)).userId;
    await h.postSigned([
      [
        messagesChange(meta, [
          {
            kind: 'text',
            from: digits(PEOPLE.sam.phone),
            userId: bsuid,
            username: 'sam.w',
            id: 'in.sam.hello',
            at: at(29),
            text: 'Hello there',
          },
        ]),
      ],
    ]);
    expect(await identity(PEOPLE.sam.id)).toEqual({ whatsapp_user_id: bsuid, whatsapp_username: 'sam.w' });
    const profile = await subscriberProfile(h.database.db, { kind: 'id', value: PEOPLE.sam.id });
    expect(profile.channels).toEqual([
      expect.objectContaining({ channel: 'whatsapp', whatsappUserId: bsuid, username: 'sam.w' }),
    ]);
  });

  it('stops a username user whose STOP carries no phone, and confirms it to their BSUID', async () => {
    const bsuid = h.graph.identities.of(digits(PEOPLE.elodie.phone)).userId;
    await h.postSigned([
      [
        messagesChange(meta, [
          {
            kind: 'text',
            userId: bsuid,
            username: 'elodie.m',
            id: 'in.elodie.stop',
            at: at(20),
            text: 'STOP',
          },
        ]),
      ],
    ]);
    expect(await h.whatsappState(PEOPLE.elodie.id)).toBe('stopped');
    const events = await h.database.db.query<{
      kind: string;
      source: string;
      evidence: Record<string, unknown>;
    }>(`SELECT kind, source, evidence FROM consent_events WHERE subscriber_id = $1 AND kind = 'opt_out'`, [
      PEOPLE.elodie.id,
    ]);
    expect(events).toEqual([
      {
        kind: 'opt_out',
        source: 'whatsapp-reply',
        evidence: expect.objectContaining({
          messageId: 'in.elodie.stop',
          matchedBy: 'business-scoped user id',
        }),
      },
    ]);
    // The confirmation names the BSUID in `recipient` and has no `to`; Meta delivered it.
    const [request] = requestsFor(bsuid);
    expect(request?.body).toMatchObject({ recipient: bsuid, type: 'text' });
    expect(request?.body).not.toHaveProperty('to');
    expect(h.graph.dropped()).toEqual([]);
    expect(h.textsTo(PEOPLE.elodie.phone)).toEqual([expect.stringMatching(/ne recevrez plus/)]);
    expect(await identity(PEOPLE.elodie.id)).toEqual({
      whatsapp_user_id: bsuid,
      whatsapp_username: 'elodie.m',
    });
  });

  it("applies Meta's marketing preference that names only the BSUID", async () => {
    const bsuid = h.graph.identities.of(digits(PEOPLE.pref.phone)).userId;
    await h.postSigned([
      [statusesChange(meta, [status('wamid.P1', 'delivered', 15, { recipientUserId: bsuid })])],
      [userPreferencesChange(meta, [{ userId: bsuid, value: 'stop', at: at(14) }])],
    ]);
    expect(await h.whatsappState(PEOPLE.pref.id)).toBe('stopped');
  });

  it('follows a changed BSUID (user_changed_user_id), and the new one then matches', async () => {
    const previous = h.graph.identities.of(digits(PEOPLE.sam.phone)).userId;
    const next = 'GB.9000000000000000001';
    await h.postSigned([
      [userIdChange(meta, { id: 'in.sam.changed', previousUserId: previous, userId: next, at: at(12) })],
    ]);
    expect(await identity(PEOPLE.sam.id)).toEqual({ whatsapp_user_id: next, whatsapp_username: 'sam.w' });
    await h.postSigned([
      [messagesChange(meta, [{ kind: 'text', userId: next, id: 'in.sam.done', at: at(11), text: 'DONE' }])],
    ]);
    const sam = await h.database.db.one<{ done_at: Date | null }>(
      'SELECT done_at FROM subscribers WHERE id = $1',
      [PEOPLE.sam.id],
    );
    expect(sam?.done_at).toEqual(at(11));
  });

  it('ignores a STOP from a BSUID no subscriber has', async () => {
    const before = await h.database.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM consent_events`);
    await h.postSigned([
      [
        messagesChange(meta, [
          { kind: 'text', userId: 'FR.1111111111111111111', id: 'in.x', at: at(5), text: 'STOP' },
        ]),
      ],
    ]);
    const handled = await h.database.db.one<{ action: string }>(
      `SELECT action FROM whatsapp_inbound_messages WHERE message_id = 'in.x'`,
    );
    expect(handled?.action).toBe('unknown-sender');
    expect(await h.database.db.one(`SELECT count(*)::int AS n FROM consent_events`)).toEqual(before);
  });
});
