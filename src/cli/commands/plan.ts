// `lastcall plan --campaign F.yaml --subscribers S.csv [--now ISO] [--format table|ndjson]`
// (docs/campaigns.md, "Previewing a plan"; scripts rely on it): when each subscriber would be
// messaged, with no database, no Redis and no templates. Every subscriber is planned as joining at
// `--now`, on the channels they listed. The CSV is streamed and each line written as its row is
// read, so a million subscribers cost the memory of a few (the planner and the formatting are
// memoised per zone).

import type { Writable } from 'node:stream';
import { type Command, Option } from 'commander';
import { inAudience } from '../../campaigns/audience.ts';
import { loadCampaignFile } from '../../campaigns/campaign.loader.ts';
import { type Campaign, toSchedule } from '../../campaigns/campaign.schema.ts';
import { holidayCountry } from '../../campaigns/holiday-country.ts';
import { HolidayReport } from '../../campaigns/holiday-report.ts';
import { simulateMessagingLimit } from '../../planning/messaging-limit.ts';
import { formattedSendsByZone } from '../../planning/ndjson.ts';
import { createZonePlanner, describeCalendar, formatUtc, latestSendBefore } from '../../planning/planner.ts';
import { type SpreadSend, type StepSpread, spreadPlan, spreadText } from '../../planning/spread.ts';
import { tzDataVersion } from '../../planning/tz-data.ts';
import { formatProblem, InvalidInput } from '../../shared/errors.ts';
import { parseMessagingLimit } from '../../shared/messaging-limit.ts';
import { readSubscriberCsv } from '../../subscribers/csv.ts';
import { instantOf, storedAttributes } from '../../subscribers/subscriber.schema.ts';
import { audienceText } from '../output.ts';
import { BufferedOutput, OutputClosed, PlanTotals, renderTable, TableWriter } from './plan-output.ts';

export type PlanFormat = 'table' | 'ndjson';

export interface PlanRequest {
  readonly campaign: string;
  readonly subscribers: string;
  readonly now?: string;
  readonly format: PlanFormat;
  /** --messaging-limit: WhatsApp's people per rolling 24 h to check the plan against. */
  readonly messagingLimit?: string;
}

export interface PlanIo {
  /** The wall clock, read once: the default `--now`, and the limit for consent dates. */
  readonly clock: number;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Colours in tables. */
  readonly colour: boolean;
}

/** Bad rows are all counted; this many are described. */
const BAD_ROWS_SHOWN = 100;

export function register(program: Command): void {
  program
    .command('plan')
    .description(
      'preview when each subscriber would be messaged (offline: no database, no Redis, no templates)',
    )
    .requiredOption('--campaign <file>', 'campaign YAML file')
    .requiredOption('--subscribers <file>', 'subscribers CSV file')
    .option(
      '--now <instant>',
      'plan as if now were this ISO 8601 instant, e.g. 2025-12-01T00:00:00Z (default: now)',
    )
    .option(
      '--messaging-limit <people>',
      "check the plan against WhatsApp's messaging limit: unique people per rolling 24 h (250, 2000, … or a tier such as TIER_2K)",
    )
    .addOption(
      new Option(
        '--format <format>',
        'output format (default: table on a terminal, ndjson otherwise)',
      ).choices(['table', 'ndjson']),
    )
    .action(async (opts: Omit<PlanRequest, 'format'> & { format?: PlanFormat }) => {
      const tty = process.stdout.isTTY === true;
      process.exitCode = await runPlan(
        { ...opts, format: opts.format ?? (tty ? 'table' : 'ndjson') },
        { clock: Date.now(), stdout: process.stdout, stderr: process.stderr, colour: tty },
      );
    });
}

export function parseNow(text: string | undefined, clock: number): number {
  if (text === undefined) return clock;
  const now = instantOf(text.trim());
  if (!Number.isFinite(now)) {
    throw new InvalidInput('Invalid --now', [
      {
        path: '--now',
        value: JSON.stringify(text),
        rule: 'must be an ISO 8601 instant with an offset or Z, like 2025-12-01T00:00:00Z',
      },
    ]);
  }
  return now;
}

export async function runPlan(request: PlanRequest, io: PlanIo): Promise<number> {
  const now = parseNow(request.now, io.clock);
  const limit = parseLimitOption(request.messagingLimit);
  const campaign = await loadCampaignFile(request.campaign);
  const say = (text: string) => io.stderr.write(`${text}\n`);
  if (now >= campaign.deadline) {
    say(`Nothing to plan: the deadline ${campaign.deadlineText} has passed (now ${formatUtc(now)}).`);
    return 0;
  }
  const out = new BufferedOutput(io.stdout);
  try {
    await planAll(campaign, request, now, io, out, say, limit);
  } catch (error) {
    if (error instanceof OutputClosed) return 0;
    throw error;
  }
  return 0;
}

async function planAll(
  campaign: Campaign,
  request: PlanRequest,
  now: number,
  io: PlanIo,
  out: BufferedOutput,
  say: (text: string) => void,
  limit: number | 'unlimited' | undefined,
): Promise<void> {
  const whatsappSends: SpreadSend[] = [];
  const planner = createZonePlanner(toSchedule(campaign), now);
  const { holidays } = campaign.window;
  const sendsIn = formattedSendsByZone(planner, holidays !== undefined);
  const holidayReport = holidays && new HolidayReport(holidays, { from: now, to: campaign.deadline });
  const table = request.format === 'table' ? new TableWriter(out, io.colour) : undefined;
  // The NDJSON lines are a contract: the tz data they are planned with goes to stderr, first.
  if (!table) say(`Time-zone data: ${tzDataVersion()}.`);
  const calendar = `Sends ${describeCalendar(campaign.window, 'en')} (each subscriber's own zone).`;
  if (!table) say(calendar);
  if (table) {
    await out.write(
      `Campaign ${campaign.id}: deadline ${campaign.deadlineText}; planned as of ${formatUtc(now)}, each subscriber joining then, with time-zone data ${tzDataVersion()}.\n${calendar}\n`,
    );
  }

  const totals = new PlanTotals();
  let badRows = 0;
  let outside = 0;
  for await (const row of readSubscriberCsv(request.subscribers, { now: io.clock })) {
    if (!row.ok) {
      badRows++;
      if (badRows <= BAD_ROWS_SHOWN) say(`line ${row.line}: ${row.problems.map(formatProblem).join('; ')}`);
      continue;
    }
    const subscriber = row.value;
    const attributes = storedAttributes(subscriber.attributes);
    if (!inAudience(campaign, { tags: subscriber.tags, attributes })) {
      outside++;
      continue;
    }
    const country = holidayCountry(holidays, { attributes, phoneRegion: subscriber.phoneRegion ?? null });
    const sends = sendsIn(subscriber.timezone, country).filter((s) =>
      subscriber.channels.includes(s.send.channel),
    );
    totals.add(sends);
    holidayReport?.add(country, sends);
    if (limit !== undefined)
      for (const s of sends)
        if (s.send.channel === 'whatsapp')
          whatsappSends.push({
            person: subscriber.id,
            zone: subscriber.timezone,
            country,
            step: s.send.step,
            at: s.send.sendAt,
            kind: s.send.kind,
          });
    if (table) await table.subscriber(subscriber.id, subscriber.timezone, sends);
    else if (sends.length > 0) {
      const head = `{"subscriber":${JSON.stringify(subscriber.id)}`;
      let lines = '';
      for (const s of sends) lines += head + s.tail;
      await out.write(lines);
    }
  }
  await table?.flush();

  const summary = [
    `Planned ${count(totals.sends, 'send')} (${totals.catchUps.toLocaleString('en-US')} catch-up) for ${count(totals.subscribers, 'subscriber')}.`,
    ...(outside > 0
      ? [
          `${count(outside, 'subscriber')} outside the campaign audience (${audienceText(campaign.audience)}).`,
        ]
      : []),
    ...(badRows > 0
      ? [
          `${count(badRows, 'bad row')} skipped (${badRows > BAD_ROWS_SHOWN ? `the first ${BAD_ROWS_SHOWN}` : 'each'} reported above).`,
        ]
      : []),
    ...(holidayReport?.lines() ?? []),
  ];
  if (table) {
    const rows = totals.rows(campaign.steps.map((s) => s.id));
    if (rows.length > 0) {
      await out.write(
        `${renderTable(['step', 'channel', 'scheduled', 'catch-up', 'total'], rows, io.colour)}\n`,
      );
    }
    await out.write(`${summary.join('\n')}\n`);
  } else {
    for (const line of summary) say(line);
  }
  if (badRows > 0 && table) say(`warning: ${count(badRows, 'bad row')} skipped.`);
  if (limit !== undefined) {
    // A campaign that spreads its steps (messagingLimit.spread) is checked as `campaign start`
    // would store it (docs/whatsapp.md, "Spreading a step over earlier days").
    const steps: readonly StepSpread[] =
      campaign.messagingLimit?.spread && limit !== 'unlimited'
        ? spreadPlan(whatsappSends, {
            limit,
            now,
            maxDays: campaign.messagingLimit.maxDays,
            latestBefore: latestSendBefore(toSchedule(campaign)),
          }).steps
        : simulateMessagingLimit(whatsappSends, limit).map((s) => ({ ...s, parts: [s.people] }));
    const over = steps.filter((s) => s.heldBack > 0);
    say(
      over.length === 0
        ? `WhatsApp messaging limit ${limit === 'unlimited' ? 'unlimited' : `${limit} people in 24 h`}: every step fits.`
        : `WhatsApp messaging limit ${limit} people in 24 h: ${over.length} step(s) need more people than it allows.`,
    );
    for (const s of steps) {
      const spread = spreadText(s);
      if (spread)
        say(
          `step ${s.step}: ${spread} on WhatsApp, the earlier parts a day and more before the times listed (each subscriber's part: docs/whatsapp.md)`,
        );
      if (s.heldBack > 0)
        say(
          `warning: step ${s.step}: ${count(s.people, 'person')} on WhatsApp, ${s.heldBack} will ${spread ? 'still ' : ''}be held back`,
        );
    }
  }
  await out.flush();
}

/** --messaging-limit: a whole number of people, `unlimited` or a tier (TIER_2K). */
function parseLimitOption(text: string | undefined): number | 'unlimited' | undefined {
  if (text === undefined) return undefined;
  const limit = parseMessagingLimit(text);
  if (limit === undefined)
    throw new InvalidInput('Invalid --messaging-limit', [
      {
        path: '--messaging-limit',
        value: JSON.stringify(text),
        rule: 'must be a whole number of people (e.g. 250), unlimited, or a tier such as TIER_2K',
      },
    ]);
  return limit;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
