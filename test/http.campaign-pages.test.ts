// A campaign's own sign-up page (GET /subscribe/{campaignId}, a campaign file with `signup: true`):
// listed at /subscribe, showing its name, deadline and reminders, offering only the channels
// both configured and used by the campaign; a sign-up there joins its audience (the campaign's
// audience tag) with the page in the consent evidence; /help takes its facts from it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { FORM, formBody, GOOD_SIGN_UP, type Harness, SENDER, START, startHarness } from './support/http.ts';

let h: Harness;
let dir: string;
const DAY = 86_400_000;

function campaignFile(name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml, 'utf8');
  return file;
}

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'lastcall-pages-'));
  const campaigns = createCampaignService({ db: h.database.db });
  const deadline = new Date(START + 30 * DAY).toISOString();
  await campaigns.create(
    campaignFile(
      'spring',
      `id: spring\nname: "Spring clean-up of your chats"\ndeadline: ${deadline}\nsignup: true\naudience: { tags: [spring, press] }\nsteps:\n  - { id: d7, before: P7D, channels: [whatsapp, email], template: one-week }\n  - { id: h6, before: PT6H, channels: [whatsapp], template: last-hours }\n`,
    ),
    START,
  );
  await campaigns.create(
    campaignFile(
      'letters',
      `id: letters\nname: "Letters only"\ndeadline: ${deadline}\nsignup: true\nwindow: { start: "09:00", end: "20:00", holidays: { country: [attr.country, phone] } }\nsteps:\n  - { id: d1, before: P1D, channels: [email], template: last-day }\n`,
    ),
    START,
  );
  await campaigns.create(
    campaignFile(
      'over',
      `id: over\nname: "Over and done"\ndeadline: 2026-01-15T00:00:00+01:00\nsignup: true\nsteps:\n  - { id: d1, before: P1D, channels: [email], template: last-day }\n`,
    ),
    START,
  );
  await campaigns.create(
    campaignFile(
      'private',
      `id: private\nname: "Not open"\ndeadline: ${deadline}\nsteps:\n  - { id: d1, before: P1D, channels: [email], template: last-day }\n`,
    ),
    START,
  );
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the sign-up pages of campaigns', () => {
  it('leads from / to /subscribe, which lists only the campaigns open for sign-up', async () => {
    const root = await h.app.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/subscribe');
    const res = await h.app.inject({ url: '/subscribe?lang=en' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<a href="/subscribe/spring?lang=en">Spring clean-up of your chats</a>');
    expect(res.body).toContain('<a href="/subscribe/letters?lang=en">Letters only</a>');
    expect(res.body).not.toContain('Over and done');
    expect(res.body).not.toContain('Not open');
  });

  it("shows the campaign's name, deadline and what its reminders say, then the form posting to it", async () => {
    const res = await h.app.inject({ url: '/subscribe/spring?lang=en' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<h1>Spring clean-up of your chats</h1>');
    expect(res.body).toContain(`<time class="local" datetime="${new Date(START + 30 * DAY).toISOString()}">`);
    expect(res.body).toContain('<strong>7 days before</strong> · WhatsApp, email: “');
    expect(res.body).toContain('<strong>6 hours before</strong> · WhatsApp');
    expect(res.body).toContain('action="/subscribe/spring"');
    expect(res.body).toContain('id="phone"');
    expect(res.body).toContain('id="email"');
    expect(res.body).toContain(`from ${SENDER}, on WhatsApp and by email`);
  });

  it('offers only the channels the campaign uses, with a consent sentence for that channel', async () => {
    const res = await h.app.inject({ url: '/subscribe/letters?lang=en' });
    // Its calendar leaves out the public holidays of each person's country.
    expect(res.body).toContain(
      'Sent every day 9:00–20:00 your time, not on public holidays in your country:',
    );
    const fr = await h.app.inject({ url: '/subscribe/letters?lang=fr' });
    expect(fr.body).toContain(
      'Envoyés tous les jours, 9:00–20:00 à votre heure, sauf les jours fériés de votre pays\u202f:',
    );
    expect(res.body).not.toContain('id="phone"');
    expect(res.body).not.toContain('id="channels-whatsapp"');
    expect(res.body).toContain('id="channels-email"');
    expect(res.body).toContain(`from ${SENDER}, by email. I can stop at any time: with the unsubscribe link`);
  });

  it('refuses a channel the page does not offer', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/subscribe/letters',
      remoteAddress: '192.0.2.200',
      headers: { 'content-type': FORM },
      payload: formBody({ ...GOOD_SIGN_UP, lang: 'en' }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Choose at least one channel');
    expect(await h.database.db.query('SELECT id FROM subscribers')).toEqual([]);
  });

  it("joins the campaign's audience, with the page in the consent evidence and the campaign in the mail", async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/subscribe/spring',
      remoteAddress: '192.0.2.201',
      headers: { 'content-type': FORM },
      payload: formBody({ ...GOOD_SIGN_UP, lang: 'en' }),
    });
    expect(res.statusCode).toBe(200);
    const [subscriber] = await h.database.db.query<{ id: string; tags: string[] }>(
      'SELECT id, tags FROM subscribers',
    );
    // The first audience tag: the audience rule (slot.builder inAudience) now includes them.
    expect(subscriber!.tags).toEqual(['spring']);
    const events = await h.database.db.query<{ evidence: Record<string, unknown> }>(
      `SELECT evidence FROM consent_events WHERE subscriber_id = $1 AND kind = 'opt_in'`,
      [subscriber!.id],
    );
    expect(events.length).toBe(2);
    for (const e of events)
      expect(e.evidence).toMatchObject({
        page: '/subscribe/spring',
        campaignId: 'spring',
        tagAdded: 'spring',
      });
    const mail = await h.smtp.waitFor(() => true);
    expect(mail.parsed.text).toContain(
      `asked ${SENDER} for reminders by email about “Spring clean-up of your chats”`,
    );
  });

  it('says when a campaign is closed, and 404 for one not open for sign-up', async () => {
    const over = await h.app.inject({ url: '/subscribe/over?lang=en' });
    expect(over.statusCode).toBe(410);
    expect(over.body).toContain('Sign-ups are closed');
    expect(over.body).toContain('datetime="2026-01-14T23:00:00.000Z"');
    expect((await h.app.inject({ url: '/subscribe/private' })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/subscribe/nope' })).statusCode).toBe(404);
  });
});

describe('GET /help with a campaign', () => {
  it('takes the deadline and reminders from the campaign, with a link to its page', async () => {
    const res = await h.app.inject({ url: '/help?campaign=spring&lang=en' });
    expect(res.body).toContain('<h1>Spring clean-up of your chats</h1>');
    expect(res.body).toContain('<strong>The deadline is:</strong> <time class="local"');
    expect(res.body).toContain('<a href="/subscribe/spring?lang=en">Get reminders for it</a>');
    expect(res.body).toContain('<strong>7 days before</strong>');
  });

  it('says when the deadline has passed', async () => {
    const res = await h.app.inject({ url: '/help?campaign=over' });
    expect(res.body).toContain('Cette échéance est passée. C’était le\u202f:');
    expect(res.body).toContain('mercredi 14 janvier 2026 à 23:00');
    expect(res.body).not.toContain('Recevoir les rappels</a>');
  });
});
