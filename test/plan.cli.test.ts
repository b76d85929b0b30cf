// `lastcall plan` (docs/campaigns.md, "Previewing a plan") run as an operator runs it: the real
// executable in a child process, no database, no Redis. Expected instants are worked out by hand in
// comments.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const SHIPPED = join(ROOT, 'config', 'campaigns', 'ai-assistants-leave-whatsapp.yaml');
const SHIPPED_CSV = join(ROOT, 'config', 'campaigns', 'ai-assistants-leave-whatsapp.subscribers.csv');
const AUDIENCE = join(ROOT, 'test', 'fixtures', 'campaigns', 'plan-audience.yaml');
const CALENDAR = join(ROOT, 'test', 'fixtures', 'campaigns', 'plan-calendar.yaml');
const SAMPLE_CSV = join(ROOT, 'test', 'fixtures', 'subscribers', 'plan-sample.csv');

function plan(...args: string[]) {
  return runCli(['plan', ...args], {});
}

/** `plan --format ndjson` of a campaign file and a subscribers file, as if now were `now`. */
function ndjson(campaign: string, subscribers: string, now: string) {
  return plan('--campaign', campaign, '--subscribers', subscribers, '--now', now, '--format', 'ndjson');
}

function line(
  subscriber: string,
  step: string,
  channel: string,
  sendAt: string,
  local: string,
  zone: string,
  kind = 'scheduled',
) {
  return JSON.stringify({ subscriber, step, channel, sendAt, local, zone, kind });
}

function linesOf(stdout: string, subscriber: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith(`{"subscriber":${JSON.stringify(subscriber)},`));
}

describe('lastcall plan', () => {
  it('plans the shipped campaign and sample subscribers as NDJSON, replayed at --now', async () => {
    const result = await ndjson(SHIPPED, SHIPPED_CSV, '2025-12-01T00:00:00Z');
    expect(result.code).toBe(0);
    // Deadline 2026-01-15T00:00+01:00. Paris (UTC+1 in winter): day steps on the local date of
    // D − n days at 10:00 = 09:00Z; h6 = 18:00 local, six real hours before midnight.
    expect(linesOf(result.stdout, 's001')).toEqual([
      line('s001', 'd30', 'whatsapp', '2025-12-16T09:00:00Z', '2025-12-16T10:00:00+01:00', 'Europe/Paris'),
      line('s001', 'd30', 'email', '2025-12-16T09:00:00Z', '2025-12-16T10:00:00+01:00', 'Europe/Paris'),
      line('s001', 'd7', 'whatsapp', '2026-01-08T09:00:00Z', '2026-01-08T10:00:00+01:00', 'Europe/Paris'),
      line('s001', 'd7', 'email', '2026-01-08T09:00:00Z', '2026-01-08T10:00:00+01:00', 'Europe/Paris'),
      line('s001', 'd1', 'whatsapp', '2026-01-14T09:00:00Z', '2026-01-14T10:00:00+01:00', 'Europe/Paris'),
      line('s001', 'd1', 'email', '2026-01-14T09:00:00Z', '2026-01-14T10:00:00+01:00', 'Europe/Paris'),
      line('s001', 'h6', 'whatsapp', '2026-01-14T17:00:00Z', '2026-01-14T18:00:00+01:00', 'Europe/Paris'),
    ]);
    // Kathmandu (+05:45): the deadline is 04:45 local on the 15th; D − 6 h = 22:45 on the 14th,
    // after the window, so h6 moves back to 20:00 local = 14:15Z.
    expect(linesOf(result.stdout, 's009').at(-1)).toBe(
      line('s009', 'h6', 'whatsapp', '2026-01-14T14:15:00Z', '2026-01-14T20:00:00+05:45', 'Asia/Kathmandu'),
    );
    // St John's (−03:30), email only: no h6 (a WhatsApp-only step).
    expect(linesOf(result.stdout, 's004')).toEqual([
      line('s004', 'd30', 'email', '2025-12-15T13:30:00Z', '2025-12-15T10:00:00-03:30', 'America/St_Johns'),
      line('s004', 'd7', 'email', '2026-01-07T13:30:00Z', '2026-01-07T10:00:00-03:30', 'America/St_Johns'),
      line('s004', 'd1', 'email', '2026-01-13T13:30:00Z', '2026-01-13T10:00:00-03:30', 'America/St_Johns'),
    ]);
    // Subscribers in file order, each one's sends sorted by instant.
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { subscriber: string; sendAt: string });
    expect(Object.keys(rows[0]!)).toEqual([
      'subscriber',
      'step',
      'channel',
      'sendAt',
      'local',
      'zone',
      'kind',
    ]);
    expect([...new Set(rows.map((r) => r.subscriber))]).toEqual(
      Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(3, '0')}`),
    );
    for (const id of new Set(rows.map((r) => r.subscriber))) {
      const times = rows.filter((r) => r.subscriber === id).map((r) => r.sendAt);
      expect(times).toEqual([...times].sort());
    }
    expect(result.stderr).toContain(`Planned ${rows.length} sends (0 catch-up) for 12 subscribers.`);
  });

  it('plans a late join with catch-up sends inside the window', async () => {
    const result = await ndjson(SHIPPED, SAMPLE_CSV, '2026-01-14T12:00:00Z');
    expect(result.code).toBe(0);
    // Paris, 13:00 local. WhatsApp: d1 (10:00) is missed but h6 (18:00) is under 24 h away, so
    // no catch-up. Email: d1 is missed and nothing follows: one catch-up now.
    expect(linesOf(result.stdout, 'paris-1')).toEqual([
      line(
        'paris-1',
        'd1',
        'email',
        '2026-01-14T12:00:00Z',
        '2026-01-14T13:00:00+01:00',
        'Europe/Paris',
        'catch-up',
      ),
      line('paris-1', 'h6', 'whatsapp', '2026-01-14T17:00:00Z', '2026-01-14T18:00:00+01:00', 'Europe/Paris'),
    ]);
    // New York, 07:00 local: the catch-up waits for the window to open at 09:00.
    expect(linesOf(result.stdout, 'ny-1')).toEqual([
      line(
        'ny-1',
        'd1',
        'email',
        '2026-01-14T14:00:00Z',
        '2026-01-14T09:00:00-05:00',
        'America/New_York',
        'catch-up',
      ),
    ]);
    // Lord Howe, 23:00 local (UTC+11): every step is missed, h6 last; the window opens at 09:00
    // local = 22:00Z, an hour before the deadline, so the catch-up goes then.
    expect(linesOf(result.stdout, 'lord-howe-1')).toEqual([
      line(
        'lord-howe-1',
        'h6',
        'whatsapp',
        '2026-01-14T22:00:00Z',
        '2026-01-15T09:00:00+11:00',
        'Australia/Lord_Howe',
        'catch-up',
      ),
    ]);
  });

  it('reports bad rows with their lines on stderr and plans the rest', async () => {
    const result = await ndjson(SHIPPED, SAMPLE_CSV, '2025-12-01T00:00:00Z');
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n')).toEqual([
      // The tz data the sends are planned with (docs/timezones.md): this process's own.
      `Time-zone data: ${process.versions.tz}.`,
      // The calendar the sends keep to (docs/audiences.md).
      "Sends every day 9:00–20:00 your time (each subscriber's own zone).",
      'line 4: phone, email: at least one is required (both are empty); channels: whatsapp needs a phone number',
      'line 7: phone: already used on line 2: each phone once per file',
      'line 8: row: has 2 fields, the header has 11 (a missing or extra delimiter, or an unquoted field containing one?)',
      'Planned 18 sends (0 catch-up) for 4 subscribers.',
      '3 bad rows skipped (each reported above).',
      '',
    ]);
    // kolkata-1 spans lines 5–6 (a quoted line break); Lord Howe is on UTC+11 in summer.
    expect(linesOf(result.stdout, 'lord-howe-1')[0]).toBe(
      line(
        'lord-howe-1',
        'd30',
        'whatsapp',
        '2025-12-15T23:00:00Z',
        '2025-12-16T10:00:00+11:00',
        'Australia/Lord_Howe',
      ),
    );
    expect(result.stderr).not.toContain('+33612345678');
  });

  it('plans only the campaign audience, on the channels each subscriber listed', async () => {
    const result = await ndjson(AUDIENCE, SAMPLE_CSV, '2099-02-01T00:00:00Z');
    expect(result.code).toBe(0);
    // Deadline 2099-03-01T12:00Z = 07:00 in New York. w1: 22 February at 10:00 local. h3:
    // 04:00 local, before the window: back to 20:00 the evening before.
    expect(result.stdout.trim().split('\n')).toEqual([
      line('ny-1', 'w1', 'email', '2099-02-22T15:00:00Z', '2099-02-22T10:00:00-05:00', 'America/New_York'),
      line('ny-1', 'h3', 'email', '2099-03-01T01:00:00Z', '2099-02-28T20:00:00-05:00', 'America/New_York'),
      line(
        'kolkata-1',
        'w1',
        'whatsapp',
        '2099-02-22T04:30:00Z',
        '2099-02-22T10:00:00+05:30',
        'Asia/Kolkata',
      ),
    ]);
    expect(result.stderr).toContain('2 subscribers outside the campaign audience (tags press).');
  });

  it('plans weekdays only, skipping an excluded date, for the audience of an attribute', async () => {
    const result = await ndjson(CALENDAR, SAMPLE_CSV, '2099-02-01T00:00:00Z');
    expect(result.code).toBe(0);
    // Deadline Monday 2 March 12:00Z. w1 (P7D): Monday 23 February at 10:00, an excluded date:
    // back to Friday 20 at 18:00. d1 (P1D): Sunday 1 March: back to Friday 27 at 18:00. h3
    // (PT3H) in New York: Monday 07:00, before the window: back to Friday 27 at 18:00, where it
    // replaces d1 (closer to the deadline). Kolkata has WhatsApp only: w1 and d1.
    expect(result.stdout.trim().split('\n')).toEqual([
      line('ny-1', 'w1', 'email', '2099-02-20T23:00:00Z', '2099-02-20T18:00:00-05:00', 'America/New_York'),
      line('ny-1', 'h3', 'email', '2099-02-27T23:00:00Z', '2099-02-27T18:00:00-05:00', 'America/New_York'),
      line(
        'kolkata-1',
        'w1',
        'whatsapp',
        '2099-02-20T12:30:00Z',
        '2099-02-20T18:00:00+05:30',
        'Asia/Kolkata',
      ),
      line(
        'kolkata-1',
        'd1',
        'whatsapp',
        '2099-02-27T12:30:00Z',
        '2099-02-27T18:00:00+05:30',
        'Asia/Kolkata',
      ),
    ]);
    expect(result.stderr).toContain(
      "Sends weekdays 9:00–18:00 your time, except 23 February 2099 (each subscriber's own zone).",
    );
    // paris-1 and lord-howe-1 use ChatGPT; paris-2 repeats a phone (a bad row).
    expect(result.stderr).toContain(
      '2 subscribers outside the campaign audience (assistant copilot or both).',
    );
  });

  it('plans from the current time when --now is not given', async () => {
    const before = Date.now();
    const result = await plan('--campaign', AUDIENCE, '--subscribers', SAMPLE_CSV, '--format', 'ndjson');
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { sendAt: string; kind: string });
    expect(rows.map((r) => r.kind)).toEqual(['scheduled', 'scheduled', 'scheduled']);
    for (const r of rows) expect(Date.parse(r.sendAt)).toBeGreaterThan(before);
  });

  it('says so and plans nothing when the deadline has passed', async () => {
    const result = await plan('--campaign', SHIPPED, '--subscribers', SHIPPED_CSV, '--format', 'ndjson');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^Nothing to plan: the deadline 2026-01-15T00:00:00\+01:00 has passed \(now \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\.\n$/,
    );
    const replay = await plan(
      '--campaign',
      SHIPPED,
      '--subscribers',
      SHIPPED_CSV,
      '--now',
      '2026-01-15T00:00:00+01:00',
    );
    expect(replay.code).toBe(0);
    expect(replay.stderr).toContain('has passed (now 2026-01-14T23:00:00Z)');
  });

  it('prints tables with totals for people', async () => {
    const result = await plan(
      '--campaign',
      SHIPPED,
      '--subscribers',
      SAMPLE_CSV,
      '--now',
      '2026-01-14T12:00:00Z',
      '--format',
      'table',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Campaign ai-assistants-leave-whatsapp: deadline 2026-01-15T00:00:00+01:00',
    );
    expect(result.stdout).toMatch(
      /│ paris-1 +│ Europe\/Paris +│ d1 +│ email +│ 2026-01-14T13:00:00\+01:00 │ 2026-01-14T12:00:00Z │ catch-up +│/,
    );
    expect(result.stdout).toMatch(/│ d1 +│ email +│ 0 +│ 2 +│ 2 +│/);
    expect(result.stdout).toMatch(/│ h6 +│ whatsapp +│ 2 +│ 1 +│ 3 +│/);
    expect(result.stdout).toContain('Planned 5 sends (3 catch-up) for 4 subscribers.');
    expect(result.stderr).toContain('warning: 3 bad rows skipped.');
  });

  it('refuses a bad --now or --format with exit 2', async () => {
    const badNow = await plan(
      '--campaign',
      SHIPPED,
      '--subscribers',
      SHIPPED_CSV,
      '--now',
      '2025-12-01 00:00',
    );
    expect(badNow).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'error: Invalid --now\n  - --now: must be an ISO 8601 instant with an offset or Z, like 2025-12-01T00:00:00Z (got "2025-12-01 00:00")\n',
    });
    const local = await plan(
      '--campaign',
      SHIPPED,
      '--subscribers',
      SHIPPED_CSV,
      '--now',
      '2025-12-01T00:00:00',
    );
    expect(local.code).toBe(2);
    const badFormat = await plan('--campaign', SHIPPED, '--subscribers', SHIPPED_CSV, '--format', 'csv');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("argument 'csv' is invalid. Allowed choices are table, ndjson.");
  });

  it('refuses missing files and options with exit 2', async () => {
    const noCsv = await plan(
      '--campaign',
      SHIPPED,
      '--subscribers',
      join(ROOT, 'nope.csv'),
      '--now',
      '2025-12-01T00:00:00Z',
    );
    expect(noCsv.code).toBe(2);
    expect(noCsv.stderr).toContain('nope.csv: file not found');
    const noOption = await plan('--campaign', SHIPPED);
    expect(noOption.code).toBe(2);
    expect(noOption.stderr).toContain("required option '--subscribers <file>' not specified");
  });
});
