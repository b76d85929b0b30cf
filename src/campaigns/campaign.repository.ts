// SQL for campaigns and their steps. `definition` holds the validated Campaign as JSON (the
// delivery side reads `definition.audience.tags` from it); `campaign_steps` flattens the steps
// so that slots can reference them. Every function takes a `Sql`, so the service composes them
// inside one transaction; `lock` takes the row lock that serialises lifecycle changes.
import type { Sql } from '../store/pool.ts';
import type { Campaign } from './campaign.schema.ts';

export const CAMPAIGN_STATES = ['draft', 'running', 'paused', 'cancelled', 'finished'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export interface CampaignRecord {
  readonly id: string;
  readonly name: string;
  readonly state: CampaignState;
  readonly campaign: Campaign;
  /** Absolute message templates folder; null: the shipped config/messages. */
  readonly sourceDir: string | null;
  /** Epoch ms. */
  readonly deadline: number;
  readonly startedAt: number | null;
  readonly pausedAt: number | null;
  readonly cancelledAt: number | null;
  readonly finishedAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  name: string;
  state: CampaignState;
  definition: Campaign;
  source_dir: string | null;
  deadline: Date;
  started_at: Date | null;
  paused_at: Date | null;
  cancelled_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, name, state, definition, source_dir, deadline, started_at, paused_at, cancelled_at, finished_at, created_at, updated_at';

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

function toRecord(row: Row): CampaignRecord {
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    campaign: row.definition,
    sourceDir: row.source_dir,
    deadline: row.deadline.getTime(),
    startedAt: ms(row.started_at),
    pausedAt: ms(row.paused_at),
    cancelledAt: ms(row.cancelled_at),
    finishedAt: ms(row.finished_at),
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
  };
}

export async function findCampaign(sql: Sql, id: string, lock = false): Promise<CampaignRecord | undefined> {
  const row = await sql.one<Row>(
    `SELECT ${COLUMNS} FROM campaigns WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row && toRecord(row);
}

export async function listCampaigns(sql: Sql): Promise<CampaignRecord[]> {
  const rows = await sql.query<Row>(`SELECT ${COLUMNS} FROM campaigns ORDER BY deadline, id`);
  return rows.map(toRecord);
}

/**
 * Campaigns that still plan new subscribers: running or paused, deadline ahead.
 *
 * Drafts are share-locked too: a `start` (which holds the row FOR UPDATE while it scans the
 * subscribers) and the planning of a new subscriber then run one after the other. Either the
 * start's scan sees the committed subscriber, or the planning sees the campaign running; without
 * the lock, a subscriber committed during a start could be missed by both.
 */
export async function plannableCampaigns(sql: Sql, now: number): Promise<CampaignRecord[]> {
  const rows = await sql.query<Row>(
    `SELECT ${COLUMNS} FROM campaigns WHERE state IN ('draft', 'running', 'paused') AND deadline > $1
      ORDER BY id FOR SHARE`,
    [new Date(now)],
  );
  return rows.map(toRecord).filter((c) => c.state === 'running' || c.state === 'paused');
}

/** Inserts or overwrites the definition (the caller decides whether an overwrite is allowed). */
export async function saveCampaign(
  sql: Sql,
  campaign: Campaign,
  sourceDir: string | null,
  now: number,
): Promise<'created' | 'updated'> {
  const row = await sql.one<{ inserted: boolean }>(
    `INSERT INTO campaigns (id, name, definition, source_dir, deadline, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (id) DO UPDATE
       SET name = EXCLUDED.name, definition = EXCLUDED.definition, source_dir = EXCLUDED.source_dir,
           deadline = EXCLUDED.deadline, updated_at = EXCLUDED.updated_at
     RETURNING (xmax = 0) AS inserted`,
    [
      campaign.id,
      campaign.name,
      JSON.stringify(campaign),
      sourceDir,
      new Date(campaign.deadline),
      new Date(now),
    ],
  );
  await saveSteps(sql, campaign);
  return row?.inserted ? 'created' : 'updated';
}

/** Upserts the steps in file order and drops the ones no longer listed (their slots cascade). */
async function saveSteps(sql: Sql, campaign: Campaign): Promise<void> {
  const steps = campaign.steps;
  await sql.exec(
    `INSERT INTO campaign_steps (campaign_id, step_id, position, before, channels, template)
     SELECT $1, s.step_id, s.position, s.before, string_to_array(s.channels, ','), s.template
       FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[])
            AS s(step_id, position, before, channels, template)
     ON CONFLICT (campaign_id, step_id) DO UPDATE
       SET position = EXCLUDED.position, before = EXCLUDED.before, channels = EXCLUDED.channels,
           template = EXCLUDED.template`,
    [
      campaign.id,
      steps.map((s) => s.id),
      steps.map((_, i) => i),
      steps.map((s) => s.before),
      steps.map((s) => s.channels.join(',')),
      steps.map((s) => s.template),
    ],
  );
  await sql.exec('DELETE FROM campaign_steps WHERE campaign_id = $1 AND NOT (step_id = ANY($2::text[]))', [
    campaign.id,
    steps.map((s) => s.id),
  ]);
}

export interface StateChange {
  readonly state: CampaignState;
  readonly now: number;
}

/** Moves a campaign to `state`, stamping the matching *_at column. */
export async function setCampaignState(sql: Sql, id: string, change: StateChange): Promise<void> {
  const at = new Date(change.now);
  const stamp: Record<CampaignState, string> = {
    draft: '',
    running: ', started_at = coalesce(started_at, $3), paused_at = NULL',
    paused: ', paused_at = $3',
    cancelled: ', cancelled_at = $3',
    finished: ', finished_at = $3',
  };
  await sql.exec(`UPDATE campaigns SET state = $2, updated_at = $3${stamp[change.state]} WHERE id = $1`, [
    id,
    change.state,
    at,
  ]);
}
