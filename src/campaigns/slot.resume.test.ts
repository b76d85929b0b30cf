import { describe, expect, it } from 'vitest';
import { parseCampaign } from './campaign.loader.ts';
import { zonePlanner } from './slot.builder.ts';
import type { OverdueSlot } from './slot.repository.ts';
import { planResume } from './slot.resume.ts';

const campaign = parseCampaign(
  `
id: spread
name: Spread
deadline: 2030-04-01T12:00:00Z
window: { start: "00:00", end: "23:59" }
catchUp: { minGap: PT1H }
messagingLimit: { spread: true }
steps:
  - { id: d7, before: P7D, channels: [whatsapp], template: one-week }
  - { id: d3, before: P3D, channels: [whatsapp], template: one-week }
`,
  'test.yaml',
);

const slot = (id: number, stepId: string, sendAt: string): OverdueSlot => ({
  id,
  stepId,
  zone: 'UTC',
  country: '',
  channel: 'whatsapp',
  subscriberId: null,
  sendAt: Date.parse(sendAt),
});

describe('planResume with a spread step', () => {
  it('moves every overdue part of the step it keeps, and drops the earlier step', () => {
    // Paused from before d7's earlier part until after d3's two parts: d3 is kept, both parts.
    const now = Date.parse('2030-03-29T13:00:00Z');
    const plan = planResume(
      campaign,
      [
        slot(1, 'd7', '2030-03-24T12:00:00Z'),
        slot(2, 'd7', '2030-03-25T12:00:00Z'),
        slot(3, 'd3', '2030-03-28T11:00:00Z'),
        slot(4, 'd3', '2030-03-29T12:00:00Z'),
      ],
      zonePlanner(campaign, now),
    );
    const catchUp = Date.parse('2030-03-29T13:00:00Z');
    expect(plan.move).toEqual([
      { id: 3, zone: 'UTC', sendAt: catchUp },
      { id: 4, zone: 'UTC', sendAt: catchUp },
    ]);
    expect(plan.cancel).toEqual([1, 2]);
  });
});
