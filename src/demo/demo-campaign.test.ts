import { describe, expect, it } from 'vitest';
import { parseCampaign } from '../campaigns/campaign.loader.ts';
import { toSchedule } from '../campaigns/campaign.schema.ts';
import { buildMessageVars } from '../campaigns/message-vars.ts';
import {
  loadMessageTemplates,
  renderEmail,
  SHIPPED_MESSAGES_DIR,
  validateCampaignTemplates,
} from '../campaigns/messages.ts';
import { planZone } from '../planning/planner.ts';
import {
  DEMO_CAMPAIGN_ID,
  DEMO_NAME_PREFIX,
  DEMO_TAG,
  demoCampaignYaml,
  demoTiming,
} from './demo-campaign.ts';
import { DEMO_SUBSCRIBERS, demoSubscribersCsv } from './demo-subscribers.ts';

const MINUTE = 60_000;
const SHIPPED = SHIPPED_MESSAGES_DIR;
const NOW = Date.parse('2031-06-01T21:37:42.123Z');
const START = Date.parse('2031-06-01T21:37:00Z');

describe('the demo campaign', () => {
  it('has its deadline N minutes after the current minute and the ladder steps that fit', () => {
    const timing = demoTiming(NOW, 20);
    expect(timing.startAt).toBe(START);
    expect(timing.deadline).toBe(START + 20 * MINUTE);
    expect(timing.steps.map((s) => [s.id, s.minutesBefore, s.template])).toEqual([
      ['start', 20, 'first-notice'],
      ['m10', 10, 'one-week'],
      ['m5', 5, 'one-week'],
      ['m2', 2, 'last-day'],
    ]);
    expect(demoTiming(NOW, 5).steps.map((s) => s.id)).toEqual(['start', 'm2']);
    expect(() => demoTiming(NOW, 1)).toThrow(/minutes: must be a whole number from 2 to 1440/);
  });

  it('counts the minutes left in each step, never "today" then "in a few hours"', async () => {
    const timing = demoTiming(NOW, 20);
    const subjects: { en: string[]; fr: string[] } = { en: [], fr: [] };
    for (const locale of ['en', 'fr'] as const) {
      for (const step of timing.steps.filter((s) => s.id !== 'start')) {
        const template = await loadMessageTemplates(SHIPPED, locale, step.template);
        const vars = buildMessageVars({
          name: 'Nora',
          locale,
          timezone: 'Europe/Paris',
          attributes: { assistant: 'chatgpt' },
          deadline: timing.deadline,
          now: timing.deadline - step.minutesBefore * MINUTE,
          links: { unsubscribeUrl: 'u', doneUrl: 'd', helpUrl: 'h' },
          publicUrl: 'https://demo.example',
        });
        subjects[locale].push(renderEmail(template, vars).subject);
      }
    }
    expect(subjects.en).toEqual([
      'Reminder: no more ChatGPT on WhatsApp in 10 minutes',
      'Reminder: no more ChatGPT on WhatsApp in 5 minutes',
      'Last reminder: no more ChatGPT on WhatsApp in 2 minutes',
    ]);
    expect(subjects.fr.join('\n')).not.toMatch(/aujourd|quelques heures/);
    expect(subjects.fr.map((s) => /dans (\d+) minutes/.exec(s)?.[1])).toEqual(['10', '5', '2']);
  });

  it('is a valid campaign file whose templates exist in every language', async () => {
    const campaign = parseCampaign(demoCampaignYaml(demoTiming(NOW, 20)), 'demo.yaml');
    expect(campaign).toMatchObject({
      id: DEMO_CAMPAIGN_ID,
      deadline: START + 20 * MINUTE,
      window: { start: '00:00', end: '23:59' },
      audience: { tags: [DEMO_TAG] },
    });
    expect(campaign.name.startsWith(DEMO_NAME_PREFIX)).toBe(true);
    expect(campaign.messages).toBeUndefined();
    expect(await validateCampaignTemplates(campaign)).toEqual([]);
  });

  it('sends the first notice at the start minute in every demo zone, then every step on time', () => {
    const timing = demoTiming(NOW, 20);
    const schedule = toSchedule(parseCampaign(demoCampaignYaml(timing), 'demo.yaml'));
    for (const zone of new Set(DEMO_SUBSCRIBERS.map((s) => s.timezone))) {
      const sends = planZone(schedule, zone, timing.startAt).filter((s) => s.channel === 'whatsapp');
      expect(sends.map((s) => [s.step, s.kind, (s.sendAt - START) / MINUTE])).toEqual([
        ['start', 'catch-up', 0],
        ['m10', 'scheduled', 10],
        ['m5', 'scheduled', 15],
        ['m2', 'scheduled', 18],
      ]);
    }
  });

  it('lists subscribers in both languages, for every assistant and channel mix, with demo consent', () => {
    const csv = demoSubscribersCsv(START);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(
      'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags',
    );
    expect(lines).toHaveLength(DEMO_SUBSCRIBERS.length + 1);
    expect(lines[1]).toContain(',2031-06-01T21:37:00.000Z,demo seed,demo');
    expect(new Set(DEMO_SUBSCRIBERS.map((s) => s.locale.slice(0, 2)))).toEqual(new Set(['fr', 'en']));
    expect(new Set(DEMO_SUBSCRIBERS.map((s) => s.assistant))).toEqual(
      new Set(['chatgpt', 'copilot', 'both']),
    );
    expect(new Set(DEMO_SUBSCRIBERS.map((s) => s.channels))).toEqual(
      new Set(['whatsapp', 'email', 'whatsapp;email']),
    );
  });
});
