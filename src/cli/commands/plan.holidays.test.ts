// `lastcall plan` with public holidays (docs/audiences.md, "Public holidays"): each subscriber is
// planned with their own country's holidays (an attribute, else the phone's region), the NDJSON
// lines say which country and which holiday moved a send, and the summary has a line per country.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TextSink } from '../../../test/support/text-sink.ts';
import { runPlan } from './plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastcall-plan-holidays-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Deadline Wednesday 15 July 2026 at noon in Paris: the P1D step falls on 14 July, a public
// holiday in France, not in the United Kingdom.
const CAMPAIGN = join(dir, 'campaign.yaml');
writeFileSync(
  CAMPAIGN,
  `id: bastille
name: Bastille
deadline: 2026-07-15T12:00:00+02:00
window: { start: "09:00", end: "18:00", holidays: { country: [attr.country, phone] } }
steps:
  - { id: d1, before: P1D, channels: [email], template: last-day }
`,
);
const SUBSCRIBERS = join(dir, 'subscribers.csv');
writeFileSync(
  SUBSCRIBERS,
  [
    'id,name,phone,email,locale,timezone,attr.country,channels,consent_at,consent_source',
    'fr-attr,A,,a@example.org,fr,Europe/Paris,fr,email,2026-06-01T00:00:00Z,test',
    'gb-attr,B,,b@example.org,en,Europe/Paris,GB,email,2026-06-01T00:00:00Z,test',
    'fr-phone,C,+33612345678,c@example.org,fr,Europe/Paris,,email,2026-06-01T00:00:00Z,test',
    'nowhere,D,,d@example.org,en,Europe/Paris,,email,2026-06-01T00:00:00Z,test',
    'unknown,E,,e@example.org,en,Europe/Paris,ZZ,email,2026-06-01T00:00:00Z,test',
    '',
  ].join('\n'),
);

async function plan(format: 'table' | 'ndjson') {
  const [stdout, stderr] = [new TextSink(), new TextSink()];
  const code = await runPlan(
    { campaign: CAMPAIGN, subscribers: SUBSCRIBERS, now: '2026-07-01T00:00:00Z', format },
    { clock: Date.parse('2026-07-01T00:00:00Z'), stdout, stderr, colour: false },
  );
  expect(code).toBe(0);
  return { stdout: stdout.text, stderr: stderr.text };
}

const HOLIDAY_LINES = [
  "Public holidays (public) of each subscriber's country (attr.country, then phone), 2026-07-01 to 2026-07-15:",
  '  FR     2 subscribers: 2026-07-14 (Bastille Day); 2 sends moved (d1)',
  '  GB     1 subscriber: no holiday in the span; no send moved',
  '  ZZ     1 subscriber: no holiday data for ZZ, planned without holidays',
  '  (none) 1 subscriber: no country, planned without holidays',
];

describe('lastcall plan with public holidays', () => {
  it("moves the French subscribers' send off 14 July and says so, per line and per country", async () => {
    const { stdout, stderr } = await plan('ndjson');
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.subscriber, l.local, l.country, l.holiday])).toEqual([
      ['fr-attr', '2026-07-13T18:00:00+02:00', 'FR', '2026-07-14'],
      ['gb-attr', '2026-07-14T10:00:00+02:00', 'GB', undefined],
      ['fr-phone', '2026-07-13T18:00:00+02:00', 'FR', '2026-07-14'],
      ['nowhere', '2026-07-14T10:00:00+02:00', '', undefined],
      ['unknown', '2026-07-14T10:00:00+02:00', 'ZZ', undefined],
    ]);
    const err = stderr.trim().split('\n');
    expect(err).toContain(
      "Sends every day 9:00–18:00 your time, not on public holidays in your country (each subscriber's own zone).",
    );
    expect(err.slice(-HOLIDAY_LINES.length)).toEqual(HOLIDAY_LINES);
  });

  it('prints the same lines under the table', async () => {
    const { stdout } = await plan('table');
    const out = stdout.trim().split('\n');
    expect(out.slice(-HOLIDAY_LINES.length)).toEqual(HOLIDAY_LINES);
  });
});
