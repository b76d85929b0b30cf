// What a campaign's plan will cost on WhatsApp at the operator's prices (docs/whatsapp.md,
// "Pricing"), said by `campaign start` and the API's start answer: the WhatsApp messages the plan
// has for the stored subscribers (each planned as joining at `now`, as plan-preview.ts does), per
// step and recipient calling code, × the price of the step's template category for that calling
// code. The category is the one Meta last gave the template (template_statuses: `templates
// status`, the webhooks), else the one its message file declares.
//
// One scan of the eligible subscribers, grouped by zone, language and the first digits of the
// phone; libphonenumber reads the calling code of one number of each group. E.164 calling codes
// are prefix-free and at most 3 digits, so every number of a group shares it: a million
// subscribers cost a few hundred parses, not a million.
import { createZonePlanner } from '../planning/planner.ts';
import { LOCALES, type Locale } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import { audienceParams } from './audience.ts';
import type { CampaignRecord } from './campaign.repository.ts';
import { toSchedule } from './campaign.schema.ts';
import { resolveLocale } from './message-vars.ts';
import { loadMessageTemplates, SHIPPED_MESSAGES_DIR } from './messages.ts';
import { eligibleWhere } from './slot.repository.ts';
import { amountNumber, callingCodeOf, type PriceTable, priceOf } from './whatsapp-prices.ts';

export interface StepCost {
  readonly step: string;
  /** Meta's pricing category (`utility`, `marketing` …); null when the step's template has none
   *  known (no WhatsApp template in the subscribers' language). */
  readonly category: string | null;
  /** Where the category comes from: what Meta last said of the template, or its message file. */
  readonly categoryFrom: 'meta' | 'message file' | null;
  readonly messages: number;
  /** In the table's currency. */
  readonly estimatedCost: number;
  /** Messages the table has no price for (neither their calling code nor `default`). */
  readonly unpriced: number;
}

export interface PlanCost {
  readonly currency: string;
  readonly estimated: number;
  readonly messages: number;
  readonly unpriced: number;
  readonly steps: readonly StepCost[];
}

interface Group {
  zone: string;
  locale: string;
  sample: string | null;
  n: number;
}

export async function planCost(
  sql: Sql,
  record: CampaignRecord,
  now: number,
  prices: PriceTable,
): Promise<PlanCost> {
  const { campaign } = record;
  const steps = campaign.steps.filter((s) => s.channels.includes('whatsapp'));
  const empty = { currency: prices.currency, estimated: 0, messages: 0, unpriced: 0, steps: [] };
  if (steps.length === 0 || now >= campaign.deadline) return empty;
  const groups = await sql.query<Group>(
    `SELECT s.timezone AS zone, s.locale, min(s.phone) AS sample, count(*)::int AS n
       FROM subscribers s JOIN subscriber_channels c ON c.subscriber_id = s.id
      WHERE c.channel = 'whatsapp' AND ${eligibleWhere('$1', '$2')}
      GROUP BY s.timezone, s.locale, left(s.phone, 4)`,
    audienceParams(campaign.audience),
  );
  const categories = await stepCategories(sql, record, steps);
  const planner = createZonePlanner(toSchedule(campaign), now);
  // step → category → { messages, micros, unpriced }
  const sums = new Map<
    string,
    { category: StepCategory; messages: number; micros: number; unpriced: number }
  >();
  for (const g of groups) {
    const callingCode = callingCodeOf(g.sample);
    const locale = resolveLocale(g.locale);
    for (const send of planner(g.zone)) {
      if (send.channel !== 'whatsapp') continue;
      const category = categories.get(send.step)?.get(locale) ?? NO_CATEGORY;
      const key = `${send.step}\u0000${category.category ?? ''}`;
      let sum = sums.get(key);
      if (!sum) {
        sum = { category, messages: 0, micros: 0, unpriced: 0 };
        sums.set(key, sum);
      }
      sum.messages += g.n;
      const price = category.category === null ? undefined : priceOf(prices, callingCode, category.category);
      if (price === undefined) sum.unpriced += g.n;
      else sum.micros += price * g.n;
    }
  }
  const order = new Map(steps.map((s, i) => [s.id, i]));
  const rows = [...sums].sort(
    ([a], [b]) => (order.get(a.split('\u0000')[0] ?? '') ?? 0) - (order.get(b.split('\u0000')[0] ?? '') ?? 0),
  );
  const micros = rows.reduce((total, [, s]) => total + s.micros, 0);
  return {
    currency: prices.currency,
    estimated: amountNumber(micros),
    messages: rows.reduce((total, [, s]) => total + s.messages, 0),
    unpriced: rows.reduce((total, [, s]) => total + s.unpriced, 0),
    steps: rows.map(([key, s]) => ({
      step: key.split('\u0000')[0] ?? '',
      category: s.category.category,
      categoryFrom: s.category.from,
      messages: s.messages,
      estimatedCost: amountNumber(s.micros),
      unpriced: s.unpriced,
    })),
  };
}

interface StepCategory {
  readonly category: string | null;
  readonly from: 'meta' | 'message file' | null;
}

const NO_CATEGORY: StepCategory = { category: null, from: null };

/** Each WhatsApp step's pricing category per language: Meta's for its template, else the file's. */
async function stepCategories(
  sql: Sql,
  record: CampaignRecord,
  steps: CampaignRecord['campaign']['steps'],
): Promise<Map<string, Map<Locale, StepCategory>>> {
  const templates: { step: string; locale: Locale; name: string; language: string; declared: string }[] = [];
  for (const step of steps)
    for (const locale of LOCALES) {
      const wa = await loadMessageTemplates(record.sourceDir ?? SHIPPED_MESSAGES_DIR, locale, step.template)
        .then((t) => t.whatsapp)
        .catch(() => undefined); // a missing locale or file: nothing is sent with it
      if (wa)
        templates.push({
          step: step.id,
          locale,
          name: wa.name,
          language: wa.language,
          declared: wa.category,
        });
    }
  const known = await sql.query<{ name: string; language: string; category: string }>(
    `SELECT t.name, t.language, t.category
       FROM template_statuses t JOIN unnest($1::text[], $2::text[]) AS u(name, language)
         ON u.name = t.name AND u.language = t.language
      WHERE t.category IS NOT NULL`,
    [templates.map((t) => t.name), templates.map((t) => t.language)],
  );
  const meta = new Map(known.map((k) => [`${k.name}\u0000${k.language}`, k.category]));
  const out = new Map<string, Map<Locale, StepCategory>>();
  for (const t of templates) {
    const fromMeta = meta.get(`${t.name}\u0000${t.language}`);
    const category: StepCategory =
      fromMeta === undefined
        ? { category: t.declared.toLowerCase(), from: 'message file' }
        : { category: fromMeta.toLowerCase(), from: 'meta' };
    let byLocale = out.get(t.step);
    if (!byLocale) {
      byLocale = new Map();
      out.set(t.step, byLocale);
    }
    byLocale.set(t.locale, category);
  }
  return out;
}
