// `lastcall plan --messaging-limit N` (docs/whatsapp.md, "Messaging limits"): the plan replayed
// through the gate's rule, offline. A 300-person WhatsApp step under a limit of 250 holds 50 back;
// the same campaign with `messagingLimit: { spread: true }` is spread over 2 days and holds nobody
// back, as `campaign start` would store it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TextSink } from '../../../test/support/text-sink.ts';
import { partOf } from '../../planning/spread.ts';
import { runPlan } from './plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastcall-plan-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const campaignFile = (name: string, extra: string) => {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `id: ${name}
name: Limit
deadline: 2026-03-20T00:00:00+01:00
${extra}
steps:
  - { id: d7, before: P7D, channels: [whatsapp], template: one-week }
`,
  );
  return file;
};
const ids = Array.from({ length: 300 }, (_, i) => `s${String(i).padStart(3, '0')}`);
const SUBSCRIBERS = join(dir, 'subscribers.csv');
writeFileSync(
  SUBSCRIBERS,
  [
    'id,name,phone,email,locale,timezone,channels,consent_at,consent_source',
    ...ids.map(
      (id, i) =>
        `${id},P,+3361${String(2_000_000 + i).padStart(7, '0')},,fr,Europe/Paris,whatsapp,2026-02-01T00:00:00Z,test`,
    ),
    '',
  ].join('\n'),
);

async function plan(campaign: string, limit = '250') {
  const now = '2026-03-01T00:00:00Z';
  const [stdout, stderr] = [new TextSink(), new TextSink()];
  const code = await runPlan(
    { campaign, subscribers: SUBSCRIBERS, now, format: 'ndjson', messagingLimit: limit },
    { clock: Date.parse(now), stdout, stderr, colour: false },
  );
  expect(code).toBe(0);
  return stderr.text;
}

describe('plan --messaging-limit', () => {
  it('says how many a step over the limit holds back', async () => {
    const said = await plan(campaignFile('plain', ''));
    expect(said).toContain(
      'WhatsApp messaging limit 250 people in 24 h: 1 step(s) need more people than it allows.',
    );
    expect(said).toMatch(/warning: step d7: 300 \w+ on WhatsApp, 50 will be held back/);
  });

  it('spreads the step over 2 days when the campaign asks for it, nobody held back', async () => {
    const said = await plan(campaignFile('spread', 'messagingLimit: { spread: true }'));
    const part1 = ids.filter((id) => partOf(id, 2) === 1).length;
    expect(said).toContain('WhatsApp messaging limit 250 people in 24 h: every step fits.');
    expect(said).toContain(`step d7: 300 people spread over 2 days (${part1} + ${300 - part1}) on WhatsApp`);
    expect(said).not.toContain('held back');
  });

  it('says how many are still held back when maxDays leaves too few days', async () => {
    // A limit of 100 would need 3 parts or more; maxDays 1 allows 2: about 150 each, 100 held back.
    const said = await plan(campaignFile('capped', 'messagingLimit: { spread: true, maxDays: 1 }'), '100');
    expect(said).toContain('step d7: 300 people spread over 2 days');
    expect(said).toMatch(/warning: step d7: 300 \w+ on WhatsApp, 100 will still be held back/);
  });
});
