// Time-zone rules that change under a running campaign (docs/timezones.md), with real
// processes: each `lastcall` child runs Node's ICU on the tzdata release of a folder in
// ../shared/tzdata-icu (ICU_TIMEZONE_FILES_DIR), exactly as after a Node upgrade. A campaign is
// planned (`campaign start`) under 2022f and sent by `lastcall work` under 2025a:
// - Asia/Almaty went from +06 to +05: its sends come later in UTC;
// - America/Nuuk went from -03 to -02 in winter: its 10:00 send comes an hour earlier, so it must
//   be moved before the old instant comes (a check at send time would be an hour late);
// - a window edge lies between the old and new instants of the PT1H step (16:30 in Almaty,
//   09:00 in Nuuk), so the new instant is the planner's, not the old one shifted by an hour.
// `lastcall plan` under each release is the oracle of where the planning rules put every send. The
// test drives time with its own ticks at the planned instants (deadline next January, winter in
// both zones); the workers fan out and send to the fake Graph API and SMTP server.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTick } from '../src/delivery/tick.service.ts';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { createLogger } from '../src/shared/logger.ts';
import { type EventReceiver, startEventReceiver } from './fakes/event-receiver.ts';
import { runCli } from './support/cli.ts';
import {
  type DeliveryServices,
  FAST_TAKEOVER_ARGS,
  inFlight,
  receivedPerDelivery,
  slotsNotDone,
  spawnLastcall,
  spawnWorker,
  startDeliveryServices,
  type WorkerProcess,
  waitFor,
} from './support/delivery.ts';

/** <repo>/../shared/tzdata-icu: CI clones the repository with `shared` beside it. */
const TZDATA = join(import.meta.dirname, '..', '..', 'shared', 'tzdata-icu');
const OLD = '2022f';
const NEW = '2025a';
const icu = (release: string) => ({ ICU_TIMEZONE_FILES_DIR: join(TZDATA, release) });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Next 20 January at least a week ahead: winter in Nuuk, whatever day the test runs.
const thisYear = new Date().getUTCFullYear();
const YEAR = Date.parse(`${thisYear}-01-13T00:00:00Z`) > Date.now() ? thisYear : thisYear + 1;
const day = (d: number, hm: string) => Date.parse(`${YEAR}-01-${String(d).padStart(2, '0')}T${hm}:00Z`);
const DEADLINE = day(20, '12:00');

let services: DeliveryServices;
let queues: QueueSet;
let scratch: string;
let receiver: EventReceiver;
const EVENTS_SECRET = 'e'.repeat(32);
const workers: WorkerProcess[] = [];

const env = (release: string) => ({ ...services.env, ...icu(release), LASTCALL_ENV: 'development' });
async function lastcall(release: string, ...args: string[]): Promise<string> {
  const result = await runCli(args, env(release));
  if (result.code !== 0)
    throw new Error(`lastcall ${args.join(' ')} (${release}) exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

function campaignFile(id: string): string {
  const file = join(scratch, `${id}.yaml`);
  writeFileSync(
    file,
    [
      `id: ${id}`,
      `name: "tz upgrade ${id}"`,
      `deadline: "${new Date(DEADLINE).toISOString()}"`,
      'sendAt: "10:00"',
      'window: { start: "09:00", end: "16:30" }',
      'catchUp: { minGap: PT24H }',
      `audience: { tags: [${id}] }`,
      'steps:',
      '  - { id: d2, before: P2D, channels: [whatsapp, email], template: first-notice }',
      '  - { id: h1, before: PT1H, channels: [whatsapp], template: one-week }',
      '',
    ].join('\n'),
  );
  return file;
}

interface Person {
  readonly id: string;
  readonly zone: string;
  readonly channels: readonly ('whatsapp' | 'email')[];
  readonly n: number;
}

function subscribersCsv(name: string, tag: string, people: readonly Person[]): string {
  const file = join(scratch, `${name}.csv`);
  const rows = people.map((p) =>
    [
      p.id,
      `Camille ${p.n}`,
      p.channels.includes('whatsapp') ? `+3366${String(p.n).padStart(7, '0')}` : '',
      p.channels.includes('email') ? `${p.id}@example.test` : '',
      'fr',
      p.zone,
      'both',
      p.channels.join(';'),
      '2026-01-01T00:00:00Z',
      'test',
      tag,
    ].join(','),
  );
  writeFileSync(
    file,
    `id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags\n${rows.join('\n')}\n`,
  );
  return file;
}

/** `lastcall plan` under a release: "subscriber step channel" → send instant. */
async function planUnder(release: string, campaign: string, csv: string): Promise<Map<string, number>> {
  const out = await lastcall(
    release,
    'plan',
    '--campaign',
    campaign,
    '--subscribers',
    csv,
    '--format',
    'ndjson',
  );
  const plan = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const send = JSON.parse(line) as { subscriber: string; step: string; channel: string; sendAt: string };
    plan.set(`${send.subscriber} ${send.step} ${send.channel}`, Date.parse(send.sendAt));
  }
  return plan;
}

async function slotRows(campaignId: string) {
  return services.database.db.query<{
    zone: string;
    step_id: string;
    channel: string;
    send_at: Date;
    tz_version: string;
    local_time: string;
    state: string;
  }>(
    `SELECT zone, step_id, channel, send_at, tz_version, local_time, state FROM slots
      WHERE campaign_id = $1 ORDER BY zone, step_id, channel`,
    [campaignId],
  );
}

const tick = (instant: number) =>
  runTick({ db: services.database.db, queues, logger: createLogger({ logLevel: 'silent' }) }, instant);

/**
 * Ticks at each instant in order and waits for what came due to be sent; returns, for each
 * delivery ("subscriber step channel"), the instant of the tick that sent it.
 */
async function sendThrough(campaignId: string, instants: readonly number[]): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  for (const instant of [...new Set(instants)].sort((a, b) => a - b)) {
    // A worker's own tick may hold the tick lock for a moment: try again until ours runs.
    await waitFor('our tick', async () => (await tick(instant)).ran);
    await waitFor(
      'due slots fanned out',
      async () => (await slotsNotDone(services.database.db, instant)) === 0,
    );
    await waitFor('sends settled', async () => (await inFlight(services.database.db, campaignId)) === 0);
    const rows = await services.database.db.query<{ key: string; status: string }>(
      `SELECT subscriber_id || ' ' || step_id || ' ' || channel AS key, status FROM deliveries WHERE campaign_id = $1`,
      [campaignId],
    );
    for (const row of rows) {
      expect(row.status).toBe('sent');
      if (!sentAt.has(row.key)) sentAt.set(row.key, instant);
    }
  }
  return sentAt;
}

beforeAll(async () => {
  for (const release of [OLD, NEW])
    if (!existsSync(join(TZDATA, release, 'zoneinfo64.res')))
      throw new Error(
        `no ICU time-zone data in ${join(TZDATA, release)}: the test needs ../shared/tzdata-icu`,
      );
  scratch = mkdtempSync(join(tmpdir(), 'lastcall-tz-'));
  services = await startDeliveryServices();
  receiver = await startEventReceiver(EVENTS_SECRET);
  queues = new QueueSet(services.config());
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await queues?.close();
  await services?.close();
  await receiver?.close();
});

// Each test spawns several `lastcall` processes (a second or more each on a busy machine).
describe('a campaign planned under tzdata 2022f, sent by a worker on 2025a', { timeout: 120_000 }, () => {
  const people: Person[] = [
    { id: 'almaty', zone: 'Asia/Almaty', channels: ['whatsapp', 'email'], n: 1 },
    { id: 'nuuk', zone: 'America/Nuuk', channels: ['whatsapp', 'email'], n: 2 },
    { id: 'paris', zone: 'Europe/Paris', channels: ['whatsapp', 'email'], n: 3 },
  ];
  let oldPlan: Map<string, number>;
  let newPlan: Map<string, number>;

  it('each process runs the data of its folder, and the two releases disagree as expected', async () => {
    const csv = subscribersCsv('upgrade', 'upgrade', people);
    const file = campaignFile('upgrade');
    oldPlan = await planUnder(OLD, file, csv);
    newPlan = await planUnder(NEW, file, csv);
    const both = (key: string) => [oldPlan.get(key), newPlan.get(key)];
    // Almaty: 10:00 was 04:00Z, is 05:00Z (later).
    expect(both('almaty d2 whatsapp')).toEqual([day(18, '04:00'), day(18, '05:00')]);
    // Almaty PT1H: 11:00Z was 17:00 local, after the window's 16:30 end → 10:30Z; now 16:00 → 11:00Z.
    expect(both('almaty h1 whatsapp')).toEqual([day(20, '10:30'), day(20, '11:00')]);
    // Nuuk: 10:00 was 13:00Z, is 12:00Z (earlier).
    expect(both('nuuk d2 email')).toEqual([day(18, '13:00'), day(18, '12:00')]);
    // Nuuk PT1H: 11:00Z was 08:00 local, before the window → the eve's 16:30 = 19:30Z; now 09:00.
    expect(both('nuuk h1 whatsapp')).toEqual([day(19, '19:30'), day(20, '11:00')]);
    expect(both('paris d2 email')).toEqual([day(18, '09:00'), day(18, '09:00')]);
    const table = await lastcall(OLD, 'plan', '--campaign', file, '--subscribers', csv, '--format', 'table');
    expect(table.split('\n')[0]).toMatch(
      new RegExp(`each subscriber joining then, with time-zone data ${OLD}\\.$`),
    );

    await lastcall(OLD, 'subscribers', 'import', '--file', csv);
    await lastcall(OLD, 'campaign', 'create', '--file', file);
    await lastcall(OLD, 'campaign', 'start', 'upgrade');
    const planned = await slotRows('upgrade');
    expect(planned).toHaveLength(9);
    expect(new Set(planned.map((s) => s.tz_version))).toEqual(new Set([OLD]));
    expect(planned.find((s) => s.zone === 'America/Nuuk' && s.step_id === 'd2')).toMatchObject({
      send_at: new Date(day(18, '13:00')),
      local_time: `${YEAR}-01-18T10:00`,
    });
  });

  it('the 2025a worker re-plans every pending send before it falls due, and says so', async () => {
    const worker = await spawnWorker(
      { ...env(NEW), EVENTS_URL: receiver.url, EVENTS_SECRET: EVENTS_SECRET },
      FAST_TAKEOVER_ARGS,
    );
    workers.push(worker);
    expect(worker.output()).toContain(`"tzVersion":"${NEW}"`);
    expect(await lastcall(OLD, 'doctor', '--only', 'timezones')).toMatch(
      new RegExp(
        `^✓ workers’ time-zone data\\s+1 worker\\(s\\), all on tzdata ${NEW} \\(.+:${worker.pid}\\)`,
        'm',
      ),
    );
    const slots = await slotRows('upgrade');
    expect(new Set(slots.map((s) => s.tz_version))).toEqual(new Set([NEW]));
    expect(new Set(slots.map((s) => s.state))).toEqual(new Set(['pending']));
    const byZone = (zone: string, step: string, channel: string) =>
      slots.find((s) => s.zone === zone && s.step_id === step && s.channel === channel);
    expect(byZone('America/Nuuk', 'd2', 'whatsapp')).toMatchObject({
      send_at: new Date(day(18, '12:00')),
      local_time: `${YEAR}-01-18T10:00`,
    });
    expect(byZone('Asia/Almaty', 'h1', 'whatsapp')).toMatchObject({
      send_at: new Date(day(20, '11:00')),
      local_time: `${YEAR}-01-20T16:00`,
    });
    expect(worker.output()).toContain(
      `campaign upgrade: 9 pending sends re-planned from tz data ${OLD} to ${NEW}: 6 moved (2 earlier, 4 later), 0 cancelled`,
    );
    const events = await services.database.db.query<{ data: Record<string, unknown> }>(
      `SELECT data FROM event_outbox WHERE type = 'campaign.replanned'`,
    );
    expect(events.map((e) => e.data)).toEqual([
      {
        campaignId: 'upgrade',
        fromVersion: OLD,
        toVersion: NEW,
        slots: 9,
        moved: 6,
        earlier: 2,
        later: 4,
        cancelled: 0,
      },
    ]);
    // The outbound event reaches the operator's endpoint, signed.
    const delivered = await waitFor('the campaign.replanned event', () =>
      receiver.requests.find((r) => r.event.type === 'campaign.replanned'),
    );
    expect(delivered.signed).toBe(true);
    expect(delivered.event.data).toEqual(events[0]!.data);
    // campaign stats: a line in the text, the counts in the JSON (the API's stats are the same JSON).
    expect(await lastcall(NEW, 'campaign', 'stats', 'upgrade')).toContain(
      `time-zone data ${OLD} → ${NEW}: 9 pending sends re-planned, 6 moved (2 earlier, 4 later), 0 cancelled; last at `,
    );
    const stats = JSON.parse(await lastcall(NEW, 'campaign', 'stats', 'upgrade', '--json'));
    expect(stats.tzReplans).toEqual([
      {
        fromVersion: OLD,
        toVersion: NEW,
        slots: 9,
        moved: 6,
        earlier: 2,
        cancelled: 0,
        at: expect.stringMatching(/Z$/),
      },
    ]);
  });

  it('sends each reminder once, at the instant the new rules give, never at the old one', async () => {
    const sentAt = await sendThrough('upgrade', [...oldPlan.values(), ...newPlan.values()]);
    expect(Object.fromEntries(sentAt)).toEqual(Object.fromEntries(newPlan));
    expect([...receivedPerDelivery(services).values()]).toEqual(Array(9).fill(1));
    // Nuuk's reminder went an hour before the old plan's instant.
    expect(sentAt.get('nuuk d2 whatsapp')).toBe(day(18, '13:00') - HOUR);
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGTERM')));
  });
});

it('GET /healthz names the tz data `serve` runs on', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const serve = await spawnLastcall(
    ['serve'],
    { ...env(OLD), HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
    '"msg":"listening',
  );
  try {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok', tzVersion: OLD });
  } finally {
    await serve.stop('SIGTERM');
  }
});

describe('a rolling upgrade: one worker on 2022f and one on 2025a at once', { timeout: 120_000 }, () => {
  const people: Person[] = [
    { id: 'r-almaty', zone: 'Asia/Almaty', channels: ['whatsapp'], n: 11 },
    { id: 'r-nuuk', zone: 'America/Nuuk', channels: ['whatsapp', 'email'], n: 12 },
  ];
  const joiner: Person = { id: 'r-late', zone: 'Asia/Almaty', channels: ['email'], n: 13 };
  let oldPlan: Map<string, number>;
  let newPlan: Map<string, number>;
  let oldWorker: WorkerProcess;
  let newWorker: WorkerProcess;

  it('the new worker re-plans, the old one never re-plans backwards, even what an old process plans later', async () => {
    const file = campaignFile('roll');
    const everyone = subscribersCsv('roll-all', 'roll', [...people, joiner]);
    oldPlan = await planUnder(OLD, file, everyone);
    newPlan = await planUnder(NEW, file, everyone);
    await lastcall(OLD, 'subscribers', 'import', '--file', subscribersCsv('roll', 'roll', people));
    await lastcall(OLD, 'campaign', 'create', '--file', file);
    await lastcall(OLD, 'campaign', 'start', 'roll');
    const quick = [...FAST_TAKEOVER_ARGS, '--replan-ms', '300'];
    [oldWorker, newWorker] = await Promise.all([spawnWorker(env(OLD), quick), spawnWorker(env(NEW), quick)]);
    workers.push(oldWorker, newWorker);
    expect(oldWorker.output()).toContain(`"tzVersion":"${OLD}"`);
    expect(newWorker.output()).toContain(`"tzVersion":"${NEW}"`);
    // doctor names its own data and warns that the workers disagree (a warning: exit 0).
    const doctor = await lastcall(NEW, 'doctor', '--only', 'timezones');
    expect(doctor).toMatch(new RegExp(`^✓ time-zone data\\s+tzdata ${NEW} in this process`, 'm'));
    expect(doctor).toMatch(
      new RegExp(
        `^! workers’ time-zone data\\s+workers run different tzdata releases: ${OLD} \\(.+:${oldWorker.pid}\\); ${NEW} \\(.+:${newWorker.pid}\\)`,
        'm',
      ),
    );
    await waitFor('the roll campaign re-planned', async () =>
      (await slotRows('roll')).every((s) => s.tz_version === NEW),
    );

    // A subscriber imported by a process still on 2022f while the campaign runs: the zone's
    // email slot is planned with old data, and the new worker re-plans it within its period.
    await lastcall(OLD, 'subscribers', 'import', '--file', subscribersCsv('roll-late', 'roll', [joiner]));
    await waitFor('the late slot re-planned', async () => {
      const late = (await slotRows('roll')).find((s) => s.zone === 'Asia/Almaty' && s.channel === 'email');
      return late?.tz_version === NEW && late;
    });
    // The old worker kept making passes all along: it never took a slot back to its data.
    await new Promise((r) => setTimeout(r, 1_000));
    const slots = await slotRows('roll');
    expect(new Set(slots.map((s) => s.tz_version))).toEqual(new Set([NEW]));
    const replans = await services.database.db.query<{ from_version: string; to_version: string }>(
      `SELECT from_version, to_version FROM tz_replans WHERE campaign_id = 'roll'`,
    );
    expect(replans.length).toBeGreaterThanOrEqual(2);
    expect(replans.every((r) => r.from_version === OLD && r.to_version === NEW)).toBe(true);
    expect(oldWorker.output()).not.toContain('re-planned');
    expect(newWorker.output()).toContain(
      `campaign roll: 1 pending sends re-planned from tz data ${OLD} to ${NEW}`,
    );
  });

  it('both workers send, each reminder once, at the instant the new rules give', async () => {
    const sentAt = await sendThrough('roll', [...oldPlan.values(), ...newPlan.values()]);
    expect(Object.fromEntries(sentAt)).toEqual(Object.fromEntries(newPlan));
    expect(sentAt.get('r-late d2 email')).toBe(day(18, '05:00'));
    const received = receivedPerDelivery(services);
    expect(received.size).toBe(9 + newPlan.size);
    expect(new Set(received.values())).toEqual(new Set([1]));
  });
});
