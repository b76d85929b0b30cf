import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblem, InvalidInput } from '../shared/errors.ts';
import { loadCampaignFile, parseCampaign } from './campaign.loader.ts';
import { toSchedule } from './campaign.schema.ts';

const SHIPPED = fileURLToPath(
  new URL('../../config/campaigns/ai-assistants-leave-whatsapp.yaml', import.meta.url),
);

const VALID = `
id: spring-cleanup
name: Spring clean-up
deadline: 2030-04-01T12:00:00Z
steps:
  - { id: d7, before: P7D, channels: [whatsapp, email], template: one-week }
  - { id: h6, before: PT6H, channels: [whatsapp], template: last-hours }
`;

/** The refusal's problems, formatted as the CLI prints them. */
function refusal(yamlText: string): string[] {
  try {
    parseCampaign(yamlText, 'test.yaml');
  } catch (error) {
    if (error instanceof InvalidInput) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected the campaign to be refused');
}

/** VALID with one line replaced (matched by its key) or appended. */
function variant(key: string, line: string | null): string {
  const lines = VALID.split('\n').filter((l) => !l.startsWith(`${key}:`));
  if (line !== null) lines.splice(2, 0, line);
  return lines.join('\n');
}

describe('the shipped campaign', () => {
  it('loads with the shipped campaign file values', async () => {
    const campaign = await loadCampaignFile(SHIPPED);
    expect(campaign.id).toBe('ai-assistants-leave-whatsapp');
    expect(campaign.deadline).toBe(Date.parse('2026-01-14T23:00:00Z'));
    expect(campaign.deadlineText).toBe('2026-01-15T00:00:00+01:00');
    expect(campaign.steps.map((s) => [s.id, s.before, s.channels.join('+'), s.template])).toEqual([
      ['d30', 'P30D', 'whatsapp+email', 'first-notice'],
      ['d7', 'P7D', 'whatsapp+email', 'one-week'],
      ['d1', 'P1D', 'whatsapp+email', 'last-day'],
      ['h6', 'PT6H', 'whatsapp', 'last-hours'],
    ]);
    expect(toSchedule(campaign)).toEqual({
      deadline: Date.parse('2026-01-14T23:00:00Z'),
      sendAt: { hour: 10, minute: 0 },
      window: { start: { hour: 9, minute: 0 }, end: { hour: 20, minute: 0 } },
      catchUpMinGap: 'PT24H',
      steps: [
        { id: 'd30', before: 'P30D', channels: ['whatsapp', 'email'] },
        { id: 'd7', before: 'P7D', channels: ['whatsapp', 'email'] },
        { id: 'd1', before: 'P1D', channels: ['whatsapp', 'email'] },
        { id: 'h6', before: 'PT6H', channels: ['whatsapp'] },
      ],
    });
  });
});

describe('parseCampaign', () => {
  it('fills in the defaults', () => {
    const campaign = parseCampaign(VALID, 'test.yaml');
    expect(campaign.sendAt).toBe('10:00');
    expect(campaign.window).toEqual({ start: '09:00', end: '20:00' });
    expect(campaign.catchUp).toEqual({ minGap: 'PT24H' });
    expect(campaign.audience.tags).toEqual([]);
    expect(campaign.messages).toBeUndefined();
    expect(campaign.source).toBe('test.yaml');
  });

  it('keeps the deadline text and reads any offset', () => {
    const campaign = parseCampaign(variant('deadline', 'deadline: "2030-04-01T09:30:00-02:30"'), 't');
    expect(campaign.deadline).toBe(Date.parse('2030-04-01T12:00:00Z'));
    expect(campaign.deadlineText).toBe('2030-04-01T09:30:00-02:30');
  });

  it('accepts a byte-order mark, an audience, a messages folder and a very long step', () => {
    const text = `\uFEFF${VALID}  - { id: y99, before: P99Y, channels: [email], template: first-notice }
audience: { tags: [beta, press] }
messages: ../messages
`;
    const campaign = parseCampaign(text, 't');
    expect(campaign.audience.tags).toEqual(['beta', 'press']);
    expect(campaign.messages).toBe('../messages');
    expect(campaign.steps.map((s) => s.id)).toEqual(['d7', 'h6', 'y99']);
  });

  it('reports a YAML syntax error with its line', () => {
    expect(refusal('id: x\nname: "unclosed\nsteps: []\n')).toEqual([
      expect.stringMatching(/^line \d+, column \d+: .*quote/),
    ]);
    expect(refusal('id: x\nid: y\n')[0]).toMatch(/^line 2, column 1: Map keys must be unique/);
  });

  it('quotes a key that is not a plain name, so that a stray space shows', () => {
    expect(refusal(`${VALID}"sendAt ": "10:00"\n`)).toEqual([
      expect.stringMatching(/^\["sendAt "\]: unknown key \(allowed here: id, name,/),
    ]);
  });

  it('refuses unknown keys and names them with the allowed ones', () => {
    const problems = refusal(
      `${VALID}  - { id: d1, before: P1D, channels: [email], template: x, chanels: [email] }\nsendat: "10:00"\n`,
    );
    expect(problems).toContain(
      'steps[2].chanels: unknown key (allowed here: id, before, channels, template)',
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^sendat: unknown key \(allowed here: id, name, deadline, sendAt,/),
    );
  });

  it('refuses a deadline without an offset, or that is not a date', () => {
    expect(refusal(variant('deadline', 'deadline: 2030-04-01T12:00:00'))).toEqual([
      'deadline: must end with an offset or Z (like +01:00): a deadline is one instant for every time zone (got "2030-04-01T12:00:00")',
    ]);
    expect(refusal(variant('deadline', 'deadline: 2030-02-30T12:00:00Z'))[0]).toMatch(
      /^deadline: is not a valid date and time/,
    );
    expect(refusal(variant('deadline', 'deadline: next friday'))[0]).toMatch(
      /^deadline: must be an ISO 8601 instant/,
    );
    expect(refusal(variant('deadline', 'deadline: 2030-04-01'))[0]).toMatch(
      /^deadline: must be an ISO 8601 instant/,
    );
  });

  it('refuses unknown and missing channels', () => {
    const text = VALID.replace('channels: [whatsapp, email]', 'channels: [sms]').replace(
      'channels: [whatsapp]',
      'channels: []',
    );
    expect(refusal(text)).toEqual([
      'steps[0].channels[0]: must be one of: whatsapp, email (got "sms")',
      'steps[1].channels: must name at least one channel (whatsapp, email) (got [])',
    ]);
    expect(refusal(VALID.replace('channels: [whatsapp]', 'channels: [email, email]'))).toEqual([
      'steps[1].channels: must not name a channel twice (got ["email","email"])',
    ]);
  });

  it('refuses a window that ends before it starts, and a sendAt outside the window', () => {
    expect(refusal(variant('window', 'window: { start: "20:00", end: "08:00" }'))).toEqual([
      'window.end: must not be before window.start (20:00); a window cannot span midnight (got "08:00")',
    ]);
    expect(refusal(variant('sendAt', 'sendAt: "21:00"'))).toEqual([
      'sendAt: must lie inside the window 09:00–20:00 (got "21:00")',
    ]);
    // The default sendAt (10:00) must fit a custom window too.
    expect(refusal(variant('window', 'window: { start: "12:00", end: "18:00" }'))).toEqual([
      'sendAt: must lie inside the window 12:00–18:00 (got "10:00" (the default))',
    ]);
    // Both ends of the window are allowed.
    expect(parseCampaign(`${variant('sendAt', 'sendAt: "20:00"')}`, 't').sendAt).toBe('20:00');
    expect(refusal(variant('sendAt', 'sendAt: "25:00"'))).toEqual([
      'sendAt: must be a local time "HH:MM" between 00:00 and 23:59 (got "25:00")',
    ]);
  });

  it('refuses non-positive and unparseable durations', () => {
    const cases: [string, RegExp][] = [
      [
        '7 days',
        /^steps\[0\]\.before: must be a positive ISO 8601 duration like P7D or PT6H \(got "7 days"\)$/,
      ],
      ['P0D', /longer than zero \(got "P0D"\)$/],
      ['-P7D', /must not be negative \(got "-P7D"\)$/],
      ['p7d', /units must be upper case \(got "p7d"\)$/],
      ['P', /like P7D or PT6H \(got "P"\)$/],
      ['P1.5D', /must be whole numbers/],
    ];
    for (const [before, expected] of cases) {
      expect(refusal(VALID.replace('before: P7D', `before: "${before}"`))).toEqual([
        expect.stringMatching(expected),
      ]);
    }
    expect(refusal(VALID.replace('before: P7D', 'before: 7'))).toEqual([
      'steps[0].before: must be an ISO 8601 duration like P7D or PT6H (got 7)',
    ]);
  });

  it('refuses an invalid catchUp.minGap', () => {
    expect(refusal(variant('catchUp', 'catchUp: { minGap: 24h }'))).toEqual([
      'catchUp.minGap: must be a positive ISO 8601 duration like PT24H (got "24h")',
    ]);
    expect(refusal(variant('catchUp', 'catchUp: {}'))).toEqual(['catchUp.minGap: is required']);
  });

  it('reads messagingLimit (spread, maxDays 7 by default) and refuses what it cannot use', () => {
    expect(parseCampaign(VALID, 'test.yaml').messagingLimit).toBeUndefined();
    expect(
      parseCampaign(variant('messagingLimit', 'messagingLimit: { spread: true }'), 't').messagingLimit,
    ).toEqual({
      spread: true,
      maxDays: 7,
    });
    expect(
      parseCampaign(variant('messagingLimit', 'messagingLimit: { spread: false, maxDays: 3 }'), 't')
        .messagingLimit,
    ).toEqual({ spread: false, maxDays: 3 });
    expect(refusal(variant('messagingLimit', 'messagingLimit: { spread: maybe }'))).toEqual([
      'messagingLimit.spread: must be true or false (got "maybe")',
    ]);
    expect(refusal(variant('messagingLimit', 'messagingLimit: { spread: true, maxDays: 0 }'))).toEqual([
      'messagingLimit.maxDays: must be a whole number of days from 1 to 30 (got 0)',
    ]);
    expect(refusal(variant('messagingLimit', 'messagingLimit: { spread: true, maxDays: 2.5 }'))).toEqual([
      'messagingLimit.maxDays: must be a whole number of days from 1 to 30 (got 2.5)',
    ]);
    expect(refusal(variant('messagingLimit', 'messagingLimit: { spred: true }'))).toContainEqual(
      expect.stringMatching(/^messagingLimit\.spred: unknown key \(allowed here: spread, maxDays\)/),
    );
    expect(refusal(variant('messagingLimit', 'messagingLimit: yes'))).toEqual([
      'messagingLimit: must be a mapping { spread: true, maxDays: 7 } (maxDays optional) (got "yes")',
    ]);
  });

  it('refuses duplicate step ids and ids that are not slugs', () => {
    expect(refusal(VALID.replace('id: h6', 'id: d7'))).toEqual([
      'steps[1].id: must be unique (also used by steps[0].id) (got "d7")',
    ]);
    expect(refusal(variant('id', 'id: Spring_Cleanup'))).toEqual([
      'id: must be a slug: lower-case letters, digits and hyphens, starting with a letter or digit, 1–63 characters (got "Spring_Cleanup")',
    ]);
    expect(refusal(variant('id', `id: ${'a'.repeat(64)}`))).toHaveLength(1);
    expect(refusal(VALID.replace('template: one-week', 'template: ../../etc/passwd'))[0]).toMatch(
      /^steps\[0\]\.template: must be a slug/,
    );
  });

  it('refuses missing required keys and a document that is not a mapping', () => {
    expect(refusal('id: only-an-id\n')).toEqual([
      'name: is required',
      'deadline: is required',
      'steps: is required',
    ]);
    expect(refusal(VALID.replace(', template: last-hours', ''))).toEqual(['steps[1].template: is required']);
    expect(refusal('')).toEqual([
      '(top level): must be a YAML mapping with id, name, deadline and steps (got null)',
    ]);
    expect(refusal('- a\n- b\n')[0]).toMatch(/^\(top level\): must be a YAML mapping/);
    expect(refusal('id: x\nname: X\ndeadline: 2030-04-01T12:00:00Z\nsteps: []\n')).toEqual([
      'steps: must have at least one step (got [])',
    ]);
  });

  it('reads audience.where as text values by attribute name, and refuses what no attribute could match', () => {
    const where = parseCampaign(
      variant('audience', 'audience: { tags: [beta], where: { plan: [pro, team], year: [2026, true] } }'),
      't',
    );
    expect(where.audience).toEqual({
      tags: ['beta'],
      where: { plan: ['pro', 'team'], year: ['2026', 'true'] },
    });
    expect(refusal(variant('audience', 'audience: { where: { Plan: [pro] } }'))[0]).toMatch(
      /^audience\.where\.Plan: .*attribute name is a lower-case letter/,
    );
    expect(refusal(variant('audience', 'audience: { where: { plan: [] } }'))[0]).toMatch(
      /^audience\.where\.plan: must list at least one value/,
    );
    expect(refusal(variant('audience', 'audience: { where: { plan: pro } }'))[0]).toMatch(
      /^audience\.where\.plan: must be a list of values/,
    );
  });

  it('reads window.days and window.except, and refuses unknown days and dates that do not exist', () => {
    const campaign = parseCampaign(
      variant('window', 'window: { start: "09:00", end: "18:00", days: [mon, fri], except: ["2026-12-25"] }'),
      't',
    );
    expect(campaign.window).toEqual({
      start: '09:00',
      end: '18:00',
      days: ['mon', 'fri'],
      except: ['2026-12-25'],
    });
    expect(toSchedule(campaign).window).toMatchObject({ days: ['mon', 'fri'], except: ['2026-12-25'] });
    expect(refusal(variant('window', 'window: { start: "09:00", end: "18:00", days: [monday] }'))[0]).toMatch(
      /^window\.days\[0\]: must be a weekday: mon, tue, wed, thu, fri, sat, sun/,
    );
    expect(refusal(variant('window', 'window: { start: "09:00", end: "18:00", days: [] }'))[0]).toMatch(
      /^window\.days: must name at least one day/,
    );
    expect(
      refusal(variant('window', 'window: { start: "09:00", end: "18:00", except: ["2026-02-30"] }'))[0],
    ).toMatch(/^window\.except\[0\]: must be a real date written YYYY-MM-DD/);
  });

  it('reads window.holidays (one source or a list, public by default) and names the field and rule of a bad one', () => {
    const w = (holidays: string) =>
      variant('window', `window: { start: "09:00", end: "18:00", holidays: ${holidays} }`);
    expect(parseCampaign(w('{ country: attr.country }'), 't').window.holidays).toEqual({
      country: ['attr.country'],
      types: ['public'],
    });
    const listed = parseCampaign(w('{ country: [attr.country, phone, fr], types: [public, bank] }'), 't');
    expect(listed.window.holidays).toEqual({
      country: ['attr.country', 'phone', 'FR'],
      types: ['public', 'bank'],
    });
    expect(toSchedule(listed).window.holidays).toEqual({ types: ['public', 'bank'] });
    // The stored definition reads back the same.
    expect(parseCampaign(w(JSON.stringify(listed.window.holidays)), 't').window.holidays).toEqual(
      listed.window.holidays,
    );
    expect(refusal(w('{ country: XY }'))[0]).toMatch(
      /^window\.holidays\.country\[0\]: "XY" is not a country the holiday library knows/,
    );
    expect(refusal(w('{ country: [attr.Country] }'))[0]).toMatch(
      /^window\.holidays\.country\[0\]: "attr.Country": an attribute name is/,
    );
    expect(refusal(w('{ country: region }'))[0]).toMatch(
      /^window\.holidays\.country\[0\]: must be attr.<name>/,
    );
    expect(refusal(w('{ country: [phone, phone] }'))[0]).toMatch(
      /^window\.holidays\.country: must not name a source twice/,
    );
    expect(refusal(w('{ country: phone, types: [national] }'))[0]).toMatch(
      /^window\.holidays\.types\[0\]: must be a holiday type: public, bank, school, optional, observance/,
    );
    expect(refusal(w('{ types: [public] }'))[0]).toMatch(/^window\.holidays\.country: /);
  });

  it('refuses tags the subscribers file could never carry', () => {
    expect(refusal(variant('audience', 'audience: { tags: [Beta] }'))[0]).toMatch(
      /^audience\.tags\[0\]: must be a tag/,
    );
  });

  it('lists every problem at once, in file order', () => {
    const text = `
id: Bad Id
nme: typo
deadline: 2030-04-01T12:00:00
sendAt: "21:30"
catchUp: { minGap: one day }
steps:
  - { id: d1, before: 7 days, channels: [sms], template: x }
  - { id: d1, before: PT0S, channels: [], template: y }
`;
    expect(refusal(text)).toEqual([
      expect.stringMatching(/^id: must be a slug/),
      expect.stringMatching(/^nme: unknown key/),
      expect.stringMatching(/^deadline: must end with an offset or Z/),
      'sendAt: must lie inside the window 09:00–20:00 (got "21:30")',
      expect.stringMatching(/^catchUp\.minGap: must be a positive ISO 8601 duration/),
      expect.stringMatching(/^steps\[0\]\.before: must be a positive ISO 8601 duration .*\(got "7 days"\)$/),
      'steps[0].channels[0]: must be one of: whatsapp, email (got "sms")',
      'steps[1].id: must be unique (also used by steps[0].id) (got "d1")',
      expect.stringMatching(/^steps\[1\]\.before: .*longer than zero/),
      expect.stringMatching(/^steps\[1\]\.channels: must name at least one channel/),
      'name: is required',
    ]);
  });

  it('names the file in the error and refuses a file that does not exist', async () => {
    expect(() => parseCampaign('id: x\n', 'my-campaign.yaml')).toThrow(
      /Campaign file my-campaign.yaml is invalid \(3 problems\)/,
    );
    await expect(loadCampaignFile('/nonexistent/campaign.yaml')).rejects.toThrow(InvalidInput);
    await expect(loadCampaignFile('/nonexistent/campaign.yaml')).rejects.toThrow(/file not found/);
  });
});
