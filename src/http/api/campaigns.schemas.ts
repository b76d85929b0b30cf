// The response schemas of /api/v1/campaigns: what the OpenAPI document shows and what the
// serializer checks each answer against. The shapes are those of the CLI's --json output
// (campaigns/campaign.json.ts).
import { z } from 'zod';

export const summary = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.string(),
    deadline: z.string(),
    deadlineText: z.string(),
    steps: z.number().int(),
    startedAt: z.string().nullable(),
  })
  .meta({ id: 'CampaignSummary' });

/** A row of `GET /campaigns`: the summary and its counts (none before the campaign starts). */
export const listItem = summary
  .extend({
    counts: z
      .object({
        created: z
          .number()
          .int()
          .describe('delivery rows made so far (one per subscriber, step and channel)'),
        sent: z.number().int().describe('handed to the provider: sent, delivered or read'),
        expected: z
          .number()
          .int()
          .describe(
            'deliveries the slots not yet fanned out will still make (their planned audience less what their fan-out made)',
          ),
      })
      .nullable(),
  })
  .meta({ id: 'CampaignListItem' });

export const details = summary
  .extend({
    pausedAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
    messagesDir: z.string().nullable(),
    definition: z.unknown().describe('the campaign file as stored (deadline and durations parsed)'),
    slots: z
      .array(z.object({ state: z.string(), kind: z.string(), personal: z.boolean(), count: z.number() }))
      .readonly(),
    nextSlot: z.object({ step: z.string(), sendAt: z.string() }).nullable(),
  })
  .meta({ id: 'Campaign' });

export const saveResult = z.object({
  id: z.string(),
  outcome: z.enum(['created', 'updated']),
  state: z.string(),
});
export const lifecycleResult = z
  .union([
    z.object({
      id: z.string(),
      started: z.boolean(),
      slotsCreated: z.number().int(),
      zones: z.number().int(),
      reach: z.number().int(),
      badZones: z.array(z.string()).readonly(),
      messagingLimit: z
        .object({
          limit: z.union([z.number().int(), z.literal('unlimited')]),
          source: z.enum(['WHATSAPP_MESSAGING_LIMIT', 'meta']),
          steps: z
            .array(
              z.object({
                step: z.string(),
                people: z.number().int(),
                heldBack: z.number().int(),
                parts: z.array(z.number().int()).readonly().meta({
                  description:
                    'people per part, earliest first: more than one when the campaign spreads the step over earlier days (messagingLimit.spread)',
                }),
              }),
            )
            .readonly(),
          heldBack: z.number().int(),
        })
        .optional()
        .meta({
          description:
            "WhatsApp's portfolio messaging limit against this plan: people per step and how many will be held back (skipped, messaging-limit)",
        }),
      whatsappCost: z
        .object({
          currency: z.string(),
          estimated: z.number().meta({ description: "in the price table's currency" }),
          messages: z.number().int().meta({ description: 'WhatsApp messages the plan has' }),
          unpriced: z.number().int().meta({ description: 'messages the price table has no price for' }),
          steps: z
            .array(
              z.object({
                step: z.string(),
                category: z.string().nullable(),
                categoryFrom: z.enum(['meta', 'message file']).nullable(),
                messages: z.number().int(),
                estimatedCost: z.number(),
                unpriced: z.number().int(),
              }),
            )
            .readonly(),
        })
        .nullable()
        .optional()
        .meta({
          description:
            "the plan's WhatsApp messages at the operator's prices (config/whatsapp-prices.yaml): per step, the template's category, the messages per recipient calling code × price; null without a price table, absent when the campaign sends nothing on WhatsApp (docs/whatsapp.md)",
        }),
    }),
    z.object({
      id: z.string(),
      state: z.string(),
      changed: z.boolean(),
      slotsMoved: z.number().int(),
      slotsCancelled: z.number().int(),
      deliveriesSkipped: z.number().int(),
    }),
  ])
  .meta({ id: 'LifecycleResult', description: 'start: the first shape; pause, resume, cancel: the second' });

export const count = z.number().int();
export const stats = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.string(),
    deadline: z.string(),
    steps: z
      .array(
        z.object({
          step: z.string(),
          channel: z.string(),
          planned: count,
          queued: count,
          sent: count,
          delivered: count,
          read: count,
          failed: count,
          skipped: count,
          unknown: count,
          failedByCode: z.record(z.string(), count),
          skippedByReason: z.record(z.string(), count),
        }),
      )
      .readonly(),
    tzReplans: z
      .array(
        z.object({
          fromVersion: z
            .string()
            .nullable()
            .meta({ description: 'null: planned before releases were recorded' }),
          toVersion: z.string(),
          slots: count.meta({ description: 'pending sends looked at' }),
          moved: count,
          earlier: count.meta({ description: 'of the moved ones, how many now go earlier' }),
          cancelled: count,
          at: z.string().meta({ description: 'the last re-plan of this pair, UTC' }),
        }),
      )
      .readonly()
      .meta({ description: 'pending sends re-planned under newer time-zone data (docs/timezones.md)' }),
    whatsappPricing: z
      .array(
        z.object({
          step: z.string(),
          category: z.string(),
          billable: count,
          free: count,
          estimatedCost: z.number().optional().meta({
            description:
              "the billable messages at the price table's prices for each recipient's calling code (whatsappCost.currency); absent without a price table",
          }),
          unpriced: count
            .optional()
            .meta({ description: 'billable messages the price table has no price for' }),
        }),
      )
      .readonly()
      .meta({
        description:
          "WhatsApp messages Meta priced (status webhooks' pricing), per step and category, billable or free",
      }),
    whatsappCost: z
      .object({
        currency: z.string().meta({ description: "the price table's currency (ISO 4217)" }),
        estimated: z.number().meta({ description: 'sum of whatsappPricing[].estimatedCost' }),
        unpriced: count.meta({ description: 'billable messages the price table has no price for' }),
      })
      .nullable()
      .meta({
        description:
          "estimated cost of the billable WhatsApp messages at the operator's prices (docs/whatsapp.md); null without a price table",
      }),
  })
  .meta({ id: 'CampaignStats' });

export const delivery = z
  .object({
    id: z.number().int(),
    step: z.string(),
    subscriberId: z.string().nullable(),
    channel: z.string(),
    kind: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    errorCode: z.string().nullable(),
    skipReason: z.string().nullable(),
    queuedAt: z.string(),
    sentAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    readAt: z.string().nullable(),
    failedAt: z.string().nullable(),
  })
  .meta({ id: 'Delivery' });
