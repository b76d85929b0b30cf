// Campaign lifecycle (docs/campaigns.md, "Lifecycle"): create or update from a file, list, show,
// start, pause, resume, cancel, stats, and planning subscribers who join while a campaign runs. The
// CLI (and any other edge) parses its input and calls one of these; `now` is always injected.
//
//   draft ──start──► running ──pause──► paused ──resume──► running
//     └───────────────┴──────cancel──────┴──► cancelled        (finished: set by the delivery side)
//
// Every lifecycle change runs in one transaction holding the campaign's row lock, so a start
// and a cancel racing each other serialise; a refused change (InvalidInput → exit 2) writes
// nothing.
import { formatUtc } from '../planning/planner.ts';
import { InvalidInput, NotFound, StateConflict } from '../shared/errors.ts';
import type { Db, Sql } from '../store/pool.ts';
import { campaignFromDocument, loadCampaignFile } from './campaign.loader.ts';
import type { CampaignRecord, CampaignState } from './campaign.repository.ts';
import * as campaigns from './campaign.repository.ts';
import type { Campaign } from './campaign.schema.ts';
import { type PlanCost, planCost } from './cost-estimate.ts';
import { resolveMessagesDir, validateCampaignTemplates } from './messages.ts';
import {
  type MessagingLimitReport,
  messagingLimitPlan,
  messagingLimitReport,
  spreads,
} from './messaging-limit.check.ts';
import { audienceOf, plannedWith, spreadSlots, startSlots, zonePlanner } from './slot.builder.ts';
import { type PlanJoinersResult, planSubscribers } from './slot.planning.ts';
import * as slots from './slot.repository.ts';
import { planResume } from './slot.resume.ts';
import { type CampaignStats, campaignStats, type FanoutProgress, fanoutProgress } from './stats.service.ts';
import { type TemplateAlert, templateAlerts } from './template-usage.ts';
import type { PriceTable } from './whatsapp-prices.ts';

export interface CampaignServiceDeps {
  readonly db: Db;
  /** WHATSAPP_MESSAGING_LIMIT (config): else the limit Meta last reported is used. */
  readonly messagingLimit?: number | 'unlimited' | undefined;
  /** The operator's WhatsApp price table (config/whatsapp-prices.yaml), when there is one. */
  readonly prices?: PriceTable | undefined;
}

export interface SaveResult {
  readonly id: string;
  readonly outcome: 'created' | 'updated';
  readonly state: CampaignState;
}

export interface CampaignDetails extends CampaignRecord {
  readonly slots: readonly slots.SlotCount[];
  readonly nextSlot: slots.NextSlot | undefined;
}

export interface StartResult {
  readonly id: string;
  /** False when it was already running (nothing changed). */
  readonly started: boolean;
  readonly slotsCreated: number;
  readonly zones: number;
  /** Subscriber × channel pairs reached when the campaign started. */
  readonly reach: number;
  /** Zones the planner could not use (their subscribers are not planned). */
  readonly badZones: readonly string[];
  /** WhatsApp's messaging limit against this plan (docs/whatsapp.md); absent when no limit is known. */
  readonly messagingLimit?: MessagingLimitReport;
  /** The plan's WhatsApp messages at the operator's prices (docs/whatsapp.md, "Pricing"); null
   *  without a price table, absent when the campaign sends nothing on WhatsApp. */
  readonly whatsappCost?: PlanCost | null;
}

export interface ChangeResult {
  readonly id: string;
  readonly state: CampaignState;
  /** False when the campaign was already in that state. */
  readonly changed: boolean;
  /** resume: overdue slots moved to a catch-up time; cancel: 0. */
  readonly slotsMoved: number;
  /** resume: overdue slots dropped; cancel: pending slots cancelled. */
  readonly slotsCancelled: number;
  /** cancel: queued or retrying deliveries marked skipped. */
  readonly deliveriesSkipped: number;
}

export function deadlineText(campaign: Campaign): string {
  return `${campaign.deadlineText} (${formatUtc(campaign.deadline)})`;
}

export function createCampaignService(deps: CampaignServiceDeps) {
  const { db } = deps;

  async function locked(sql: Sql, id: string): Promise<CampaignRecord> {
    const record = await campaigns.findCampaign(sql, id, true);
    if (!record) throw unknownCampaign(id);
    return record;
  }

  /**
   * Locks the campaign and checks `action` against LIFECYCLE: `changed` is false when the
   * campaign is already in the state the action leads to (nothing to do); a state the action is
   * not allowed from is refused (StateConflict).
   */
  async function transition(
    sql: Sql,
    id: string,
    action: CampaignAction,
  ): Promise<{ record: CampaignRecord; changed: boolean }> {
    const record = await locked(sql, id);
    const { from, to } = LIFECYCLE[action];
    if (record.state === to) return { record, changed: false };
    if (!from.includes(record.state)) throw refuse(record, action);
    return { record, changed: true };
  }

  async function save(campaign: Campaign, now: number): Promise<SaveResult> {
    const problems = await validateCampaignTemplates(campaign);
    if (problems.length > 0) {
      throw new InvalidInput(`Campaign ${campaign.id} is valid, but its message templates are not`, problems);
    }
    const sourceDir = campaign.messages === undefined ? null : resolveMessagesDir(campaign);
    return db.tx(async (sql) => {
      const existing = await campaigns.findCampaign(sql, campaign.id, true);
      if (existing && existing.state !== 'draft') {
        const changed = timingChanges(existing.campaign, campaign);
        if (changed.length > 0) {
          throw new StateConflict(
            {
              resource: 'campaign',
              id: campaign.id,
              action: 'update',
              state: existing.state,
              allowed: ['draft'],
            },
            `campaign "${campaign.id}" is ${existing.state}: its timing cannot change once started ` +
              `(changed: ${changed.join(', ')}). Only the name and the message templates can; ` +
              'to change the schedule, cancel it and create a campaign with a new id.',
          );
        }
      }
      const outcome = await campaigns.saveCampaign(sql, campaign, sourceDir, now);
      return { id: campaign.id, outcome, state: existing?.state ?? 'draft' };
    });
  }

  return {
    /**
     * Creates a campaign from its file, or updates the one with the same id. The file and every
     * message template (step × locale) must be valid. Once a campaign has started, its timing
     * (deadline, sendAt, window, catchUp, audience, steps and their channels) is frozen: slots
     * were planned from it and some reminders may be out. Names and templates may still change.
     */
    async create(file: string, now: number): Promise<SaveResult> {
      return save(await loadCampaignFile(file), now);
    },

    /** The same from a file's document already parsed (the API's JSON or YAML body). */
    createFromDocument(raw: unknown, source: string, now: number): Promise<SaveResult> {
      return save(campaignFromDocument(raw, source), now);
    },

    list(): Promise<CampaignRecord[]> {
      return campaigns.listCampaigns(db);
    },

    async show(id: string): Promise<CampaignDetails> {
      const record = await campaigns.findCampaign(db, id);
      if (!record) throw unknownCampaign(id);
      const [slotCounts, nextSlot] = await Promise.all([
        slots.countSlots(db, id),
        slots.nextPendingSlot(db, id),
      ]);
      return { ...record, slots: slotCounts, nextSlot };
    },

    /**
     * Starts a draft campaign: every existing eligible subscriber joins at `now`
     * (docs/campaigns.md, "Late joiners and catch-up"), one slot per (step, zone, channel, instant,
     * kind). Refused, with nothing written or sent, once the deadline has passed.
     */
    async start(id: string, now: number): Promise<StartResult> {
      const result = await db.tx(async (sql): Promise<StartResult> => {
        const { record, changed } = await transition(sql, id, 'start');
        const none = { id, slotsCreated: 0, zones: 0, reach: 0, badZones: [] };
        if (!changed) return { ...none, started: false };
        if (record.deadline <= now) throw deadlinePassed(record, 'start');
        const zoneChannels = await slots.eligibleZoneChannels(sql, audienceOf(record.campaign));
        const built = startSlots(record.campaign, zoneChannels, now);
        // A campaign that spreads its steps under the messaging limit (docs/whatsapp.md) stores
        // each spread step's parts as slots of their own.
        const limitPlan = spreads(record.campaign)
          ? await messagingLimitPlan(sql, id, now, deps.messagingLimit)
          : undefined;
        const planned = limitPlan?.spread
          ? spreadSlots(built.slots, limitPlan.spread, limitPlan.sends)
          : built.slots;
        const slotsCreated = await slots.insertSlots(sql, planned, now);
        await campaigns.setCampaignState(sql, id, { state: 'running', now });
        return {
          id,
          started: true,
          slotsCreated,
          zones: new Set(zoneChannels.map((z) => z.zone)).size,
          reach: zoneChannels.reduce((sum, z) => sum + z.subscribers, 0),
          badZones: built.badZones,
          ...(limitPlan ? { messagingLimit: limitPlan.report } : {}),
        };
      });
      if (!result.started) return result;
      const limit = result.messagingLimit ?? (await messagingLimitReport(db, id, now, deps.messagingLimit));
      const record = await campaigns.findCampaign(db, id);
      const onWhatsApp = record?.campaign.steps.some((s) => s.channels.includes('whatsapp')) === true;
      const cost = record && deps.prices ? await planCost(db, record, now, deps.prices) : null;
      return {
        ...result,
        ...(limit ? { messagingLimit: limit } : {}),
        ...(onWhatsApp ? { whatsappCost: cost } : {}),
      };
    },

    /** WhatsApp's messaging limit against the campaign's plan for the stored subscribers, as of
     *  `now` (each planned as joining then); undefined when no limit is known. */
    async messagingLimit(id: string, now: number): Promise<MessagingLimitReport | undefined> {
      return messagingLimitReport(db, id, now, deps.messagingLimit);
    },

    /** Templates of the campaign that Meta changed (re-categorised, paused, low quality). */
    async templateAlerts(id: string): Promise<TemplateAlert[]> {
      const record = await campaigns.findCampaign(db, id);
      return record ? templateAlerts(db, record) : [];
    },

    /** Holds every slot that comes due; fan-outs under way hand their slot back (delivery side). */
    async pause(id: string, now: number): Promise<ChangeResult> {
      return db.tx(async (sql) => {
        const { changed } = await transition(sql, id, 'pause');
        const result = {
          id,
          state: 'paused' as const,
          slotsMoved: 0,
          slotsCancelled: 0,
          deliveriesSkipped: 0,
        };
        if (!changed) return { ...result, changed };
        await campaigns.setCampaignState(sql, id, { state: 'paused', now });
        return { ...result, changed: true };
      });
    },

    /** Runs again; what came due meanwhile becomes at most one catch-up per zone (slot.resume.ts). */
    async resume(id: string, now: number): Promise<ChangeResult> {
      return db.tx(async (sql) => {
        const { record, changed } = await transition(sql, id, 'resume');
        const result = {
          id,
          state: 'running' as const,
          slotsMoved: 0,
          slotsCancelled: 0,
          deliveriesSkipped: 0,
        };
        if (!changed) return { ...result, changed };
        if (record.deadline <= now) throw deadlinePassed(record, 'resume');
        const overdue = await slots.overdueSlots(sql, id, now);
        const plan = planResume(record.campaign, overdue, zonePlanner(record.campaign, now));
        for (const { id: slotId, zone, sendAt } of plan.move)
          await slots.moveSlot(sql, slotId, sendAt, now, plannedWith(zone, sendAt));
        const slotsCancelled = await slots.cancelSlots(sql, plan.cancel, now);
        await campaigns.setCampaignState(sql, id, { state: 'running', now });
        return { ...result, changed: true, slotsMoved: plan.move.length, slotsCancelled };
      });
    },

    /** Final: pending slots are cancelled and deliveries not yet handed to a sender are skipped. */
    async cancel(id: string, now: number): Promise<ChangeResult> {
      return db.tx(async (sql) => {
        const { changed } = await transition(sql, id, 'cancel');
        const result = { id, state: 'cancelled' as const, slotsMoved: 0 };
        if (!changed) return { ...result, changed, slotsCancelled: 0, deliveriesSkipped: 0 };
        await campaigns.setCampaignState(sql, id, { state: 'cancelled', now });
        const slotsCancelled = await slots.cancelPendingSlots(sql, id, now);
        const deliveriesSkipped = await slots.skipWaitingDeliveries(sql, id, now);
        return { ...result, changed: true, slotsCancelled, deliveriesSkipped };
      });
    },

    async stats(id: string, now: number): Promise<CampaignStats> {
      const record = await campaigns.findCampaign(db, id);
      if (!record) throw unknownCampaign(id);
      return campaignStats(db, record, now, deps.prices);
    },

    /** The fan-out of the slots due at `now`: rows created, still expected, settled. */
    async fanoutProgress(id: string, now: number): Promise<FanoutProgress> {
      const record = await campaigns.findCampaign(db, id);
      if (!record) throw unknownCampaign(id);
      return fanoutProgress(db, record, now);
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;

/**
 * Plans one subscriber, joining at `now`, into every running or paused campaign: the zone's
 * scheduled slots still ahead (created if missing) and a personal catch-up when the catch-up rule
 * calls for one. Idempotent. Wire it as the subscription service's `onSubscriberActivated`.
 */
export function planSubscriber(db: Db, subscriberId: string, now: number): Promise<PlanJoinersResult> {
  return db.tx((sql) => planSubscribers(sql, [subscriberId], now));
}

export { planSubscribers };

/** The timing fields that differ between two versions of a campaign (what a started one freezes). */
export function timingChanges(before: Campaign, after: Campaign): string[] {
  const steps = (c: Campaign) => c.steps.map((s) => ({ id: s.id, before: s.before, channels: s.channels }));
  const fields: [string, (c: Campaign) => unknown][] = [
    ['deadline', (c) => c.deadline],
    ['sendAt', (c) => c.sendAt],
    ['window', (c) => c.window],
    ['catchUp', (c) => c.catchUp],
    ['audience', (c) => c.audience],
    ['messagingLimit', (c) => c.messagingLimit ?? null],
    ['steps', steps],
  ];
  return fields.filter(([, get]) => canonical(get(before)) !== canonical(get(after))).map(([name]) => name);
}

/** JSON with object keys sorted: the stored definition is jsonb, which reorders keys. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function unknownCampaign(id: string): NotFound {
  return new NotFound('campaign', id);
}

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';

/** The lifecycle, written once and checked by every action (`transition`): the states each
 *  action is allowed from and the state it leads to. An action on a campaign already in its
 *  `to` state (starting a running one, pausing a paused one...) changes nothing and is not
 *  refused. `finished` is set by the delivery side, never by an action. */
const LIFECYCLE: Record<
  CampaignAction,
  { readonly from: readonly CampaignState[]; readonly to: CampaignState }
> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['draft', 'running', 'paused'], to: 'cancelled' },
};

/** The actions a campaign in `state` offers (what the console shows as buttons). */
export function actionsAllowed(state: string): CampaignAction[] {
  return (Object.keys(LIFECYCLE) as CampaignAction[]).filter((action) =>
    (LIFECYCLE[action].from as readonly string[]).includes(state),
  );
}

/** `action` is the lifecycle verb; `allowed` the states it is allowed from. */
function refuse(record: CampaignRecord, action: CampaignAction): StateConflict {
  const allowed = LIFECYCLE[action].from;
  return new StateConflict(
    { resource: 'campaign', id: record.id, action, state: record.state, allowed },
    `campaign "${record.id}" cannot ${ACTION_WORDS[action]}: it is ${record.state}` +
      (allowed.length > 0 ? ` (only a ${allowed.join(' or ')} campaign can)` : ''),
  );
}

const ACTION_WORDS: Record<CampaignAction, string> = {
  start: 'start',
  pause: 'be paused',
  resume: 'resume',
  cancel: 'be cancelled',
};

/** The deadline has passed: nothing can be sent, whatever the state. Says when it was. */
function deadlinePassed(record: CampaignRecord, action: CampaignAction): StateConflict {
  return new StateConflict(
    { resource: 'campaign', id: record.id, action, state: record.state, allowed: [] },
    `campaign "${record.id}" cannot ${ACTION_WORDS[action]}: its deadline ${deadlineText(record.campaign)} has passed`,
  );
}
