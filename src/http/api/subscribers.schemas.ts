// The schemas of /api/v1/subscribers: the upsert body (types only: the import's row validator
// gives the rules) and the answers, shaped as the CLI's --json output.
import { z } from 'zod';
import { CHANNELS, LOCALES } from '../../shared/vocabulary.ts';
import { ASSISTANTS } from '../../subscribers/subscriber.schema.ts';

/** Types only: the import's row validator gives the rules, in the CLI's words. */
export const subscriberBody = z
  .object({
    id: z.string().optional().describe('if given, must be the path id'),
    name: z.string().optional(),
    phone: z.string().optional().describe('E.164, e.g. +33612345678; phone or email required'),
    email: z.string().optional(),
    locale: z
      .enum(LOCALES)
      .or(z.string())
      .describe('fr or en (BCP 47); another language is stored as en, and the answer notes it'),
    timezone: z.string().describe('IANA zone, e.g. Europe/Paris'),
    assistant: z
      .enum(ASSISTANTS)
      .optional()
      .describe('the attribute `assistant` under its old column name (same as attributes.assistant)'),
    attributes: z
      .record(z.string(), z.string().max(500).nullable())
      .optional()
      .describe(
        'attributes to set, by name ([a-z][a-z0-9_]{0,39}); a null or empty value removes one, names left out are kept',
      ),
    channels: z.array(z.enum(CHANNELS)).min(1),
    consent_at: z.string().describe('ISO 8601 instant: when the person opted in'),
    consent_source: z.string().describe('where the opt-in was given (the evidence)'),
    tags: z.array(z.string()).optional(),
  })
  .strict()
  .meta({ id: 'Subscriber' });

export const upsertResult = z.object({
  id: z.string(),
  outcome: z.enum(['created', 'updated', 'unchanged']),
  consentEvents: z.number().int(),
  planned: z.object({ subscribers: z.number().int(), slots: z.number().int() }),
  notes: z
    .array(z.object({ path: z.string(), value: z.string().optional(), rule: z.string() }))
    .readonly()
    .describe('accepted with a change worth saying: a locale neither fr nor en is stored as en'),
});

export const problemList = z
  .array(z.object({ path: z.string(), value: z.string().optional(), rule: z.string() }))
  .readonly();
export const importSummary = z
  .object({
    file: z.string(),
    dryRun: z.boolean(),
    strict: z.boolean(),
    committed: z.boolean(),
    rows: z.number().int(),
    inserted: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    bad: z.number().int(),
    consentEvents: z.number().int(),
    optOutsKept: z.number().int(),
    planned: z.object({ subscribers: z.number().int(), slots: z.number().int() }),
    badRows: z.array(z.object({ line: z.number().int(), problems: problemList })).readonly(),
    notes: z
      .array(z.object({ line: z.number().int(), problems: problemList }))
      .readonly()
      .describe('rows imported with a change worth saying: a locale neither fr nor en stored as en'),
  })
  .meta({ id: 'ImportSummary' });

export const listItem = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    locale: z.string(),
    timezone: z.string(),
    attributes: z.record(z.string(), z.string()),
    tags: z.array(z.string()).readonly(),
    doneAt: z.string().nullable(),
    createdAt: z.string(),
    channels: z.record(z.string(), z.string()),
  })
  .meta({ id: 'SubscriberListItem' });

export const profile = listItem
  .omit({ channels: true })
  .extend({
    updatedAt: z.string(),
    channels: z
      .array(
        z.object({
          channel: z.string(),
          state: z.string(),
          consentAt: z.string().nullable(),
          updatedAt: z.string(),
          whatsappUserId: z
            .string()
            .nullable()
            .meta({ description: 'WhatsApp: the business-scoped user id (BSUID) Meta reported' }),
          username: z.string().nullable().meta({
            description: 'WhatsApp: the username the person uses (display only); Meta may then send no phone',
          }),
        }),
      )
      .readonly(),
    consentEvents: z
      .array(
        z.object({
          occurredAt: z.string(),
          channel: z.string().nullable(),
          kind: z.string(),
          source: z.string(),
          evidence: z.record(z.string(), z.unknown()),
        }),
      )
      .readonly(),
    deliveries: z.object({
      total: z.number().int(),
      byStatus: z.record(z.string(), z.number().int()),
      latest: z.array(z.record(z.string(), z.unknown())).readonly(),
    }),
    catchUpSlots: z.array(z.record(z.string(), z.unknown())).readonly(),
  })
  .meta({ id: 'SubscriberProfile' });

export const erasure = z
  .object({
    subscriberId: z.string(),
    tombstones: z.object({ phone: z.number().int(), email: z.number().int() }),
    channels: z.number().int(),
    consentEvents: z.number().int(),
    deliveriesAnonymised: z.number().int(),
    deliveriesSkipped: z.number().int(),
    personalSlots: z.number().int(),
    webhookPayloadsRedacted: z.number().int(),
  })
  .meta({ id: 'ErasureResult' });
