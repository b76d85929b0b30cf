import { describe, expect, it } from 'vitest';
import type { SubscriberProfile } from '../../subscribers/subscriber-profile.ts';
import { profileText } from './subscribers-show.ts';

const consentText =
  'I agree to receive reminders about this deadline from Lastcall demo, on WhatsApp and by email according to the channels I ticked above. I can stop at any time.';

const profile: SubscriberProfile = {
  id: 'web-1',
  name: 'Nora',
  phone: '+33611223344',
  email: null,
  locale: 'en',
  timezone: 'Europe/Paris',
  attributes: { assistant: 'both', plan: 'pro' },
  tags: ['demo'],
  doneAt: null,
  createdAt: '2026-12-05T01:00:00Z',
  updatedAt: '2026-12-05T01:00:00Z',
  channels: [],
  consentEvents: [
    {
      occurredAt: '2026-12-05T01:00:00Z',
      channel: 'whatsapp',
      kind: 'opt_in',
      source: 'web-form',
      evidence: { consentText, page: '/subscribe/demo', state: 'active' },
    },
  ],
  deliveries: { total: 0, byStatus: {}, latest: [] },
  catchUpSlots: [],
};

describe('subscribers show', () => {
  it('prints consent evidence as wrapped key/value lines, never a table wider than a terminal', () => {
    const text = profileText(profile);
    expect(text).toContain('  2026-12-05T01:00:00Z  whatsapp  opt_in  (source web-form)');
    expect(text).toContain('    page              /subscribe/demo');
    expect(text).toContain('    consentText       I agree to receive reminders');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
});
