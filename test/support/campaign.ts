// Shared set-up for the campaign and import tests: campaign files written to a scratch folder
// (using the shipped message templates), and subscribers seeded straight into the tables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel } from '../../src/shared/vocabulary.ts';
import type { Sql } from '../../src/store/pool.ts';

export const DEADLINE = '2030-01-15T00:00:00+01:00';

export const STEPS = {
  d7: '{ id: d7, before: P7D, channels: [whatsapp, email], template: one-week }',
  d1: '{ id: d1, before: P1D, channels: [whatsapp, email], template: last-day }',
  h6: '{ id: h6, before: PT6H, channels: [whatsapp], template: last-hours }',
} as const;

export interface CampaignFileOptions {
  readonly name?: string;
  readonly deadline?: string;
  readonly steps?: readonly string[];
  readonly tags?: readonly string[];
  /** audience.where: attribute name → values. */
  readonly where?: Readonly<Record<string, readonly string[]>>;
  /** window.days and window.except, as written in the file. */
  readonly days?: readonly string[];
  readonly except?: readonly string[];
  /** window.holidays, as written in the file, e.g. "{ country: [attr.country, phone] }". */
  readonly holidays?: string;
  readonly sendAt?: string;
  /** Open for sign-up at /subscribe/<id>. */
  readonly signup?: boolean;
}

const dir = mkdtempSync(join(tmpdir(), 'lastcall-campaigns-'));

/** Writes a campaign file and returns its path. */
export function campaignFile(id: string, options: CampaignFileOptions = {}): string {
  const steps = options.steps ?? [STEPS.d7, STEPS.d1, STEPS.h6];
  const text = [
    `id: ${id}`,
    `name: "${options.name ?? `Campaign ${id}`}"`,
    `deadline: ${options.deadline ?? DEADLINE}`,
    `sendAt: "${options.sendAt ?? '10:00'}"`,
    `window: { start: "09:00", end: "20:00"${options.days ? `, days: [${options.days.join(', ')}]` : ''}${options.except ? `, except: [${options.except.map((d) => `"${d}"`).join(', ')}]` : ''}${options.holidays ? `, holidays: ${options.holidays}` : ''} }`,
    'catchUp: { minGap: PT24H }',
    `audience: { tags: [${(options.tags ?? []).join(', ')}]${options.where ? `, where: ${JSON.stringify(options.where)}` : ''} }`,
    ...(options.signup ? ['signup: true'] : []),
    'steps:',
    ...steps.map((s) => `  - ${s}`),
    '',
  ].join('\n');
  const path = join(dir, `${id}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

export interface SeedSubscriber {
  readonly id: string;
  readonly zone: string;
  readonly channels: readonly Channel[];
  /** Channel state (default active). */
  readonly state?: 'active' | 'pending' | 'unsubscribed' | 'stopped';
  readonly tags?: readonly string[];
  readonly done?: boolean;
  /** E.164 (default: a French number of its own). */
  readonly phone?: string;
}

let phoneCounter = 600000000;

export async function seedSubscriber(sql: Sql, s: SeedSubscriber): Promise<void> {
  phoneCounter++;
  await sql.exec(
    `INSERT INTO subscribers (id, name, phone, email, locale, timezone, attributes, tags, done_at)
     VALUES ($1, 'Test', $2, $3, 'en', $4, '{"assistant":"chatgpt"}', $5, $6)`,
    [
      s.id,
      s.phone ?? `+33${phoneCounter}`,
      `${s.id.toLowerCase()}@example.org`,
      s.zone,
      s.tags ?? [],
      s.done ? new Date('2029-12-01T00:00:00Z') : null,
    ],
  );
  for (const channel of s.channels) {
    await sql.exec(
      `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at) VALUES ($1, $2, $3, $4)`,
      [s.id, channel, s.state ?? 'active', new Date('2029-11-01T00:00:00Z')],
    );
  }
}

export interface SlotRow {
  step: string;
  zone: string;
  channel: string;
  sendAt: string;
  kind: string;
  subscriber: string | null;
  state: string;
}

/** A campaign's slots, in a stable order, instants as UTC ISO without milliseconds. */
export async function slotsOf(sql: Sql, campaignId: string): Promise<SlotRow[]> {
  const rows = await sql.query<{
    step_id: string;
    zone: string;
    channel: string;
    send_at: Date;
    kind: string;
    subscriber_id: string | null;
    state: string;
  }>(
    `SELECT step_id, zone, channel, send_at, kind, subscriber_id, state FROM slots
      WHERE campaign_id = $1 ORDER BY zone, send_at, step_id, channel, coalesce(subscriber_id, '')`,
    [campaignId],
  );
  return rows.map((r) => ({
    step: r.step_id,
    zone: r.zone,
    channel: r.channel,
    sendAt: utc(r.send_at.getTime()),
    kind: r.kind,
    subscriber: r.subscriber_id,
    state: r.state,
  }));
}

export const at = (iso: string): number => Date.parse(iso);
export const utc = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
