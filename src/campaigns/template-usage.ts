// Which WhatsApp templates (name at Meta, language) a campaign sends, read from its message files,
// and which campaigns still to send use a given one: a webhook about a template (re-categorised,
// paused, quality dropped) names the campaigns it affects (docs/whatsapp.md).
import { LOCALES } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import { type CampaignRecord, listCampaigns } from './campaign.repository.ts';
import { loadMessageTemplates, SHIPPED_MESSAGES_DIR } from './messages.ts';

export interface WhatsAppTemplateRef {
  readonly name: string;
  readonly language: string;
}

/** The WhatsApp templates of a campaign's steps, in every locale its message files have. */
export async function whatsappTemplatesOf(record: CampaignRecord): Promise<WhatsAppTemplateRef[]> {
  const found = new Map<string, WhatsAppTemplateRef>();
  for (const step of record.campaign.steps) {
    if (!step.channels.includes('whatsapp')) continue;
    for (const locale of LOCALES) {
      const wa = await loadMessageTemplates(record.sourceDir ?? SHIPPED_MESSAGES_DIR, locale, step.template)
        .then((t) => t.whatsapp)
        .catch(() => undefined); // a missing locale or file: nothing sent with it
      if (wa) found.set(`${wa.name}\u0000${wa.language}`, { name: wa.name, language: wa.language });
    }
  }
  return [...found.values()];
}

/** The ids of the campaigns still to send (draft, running, paused) that use the template. */
export async function campaignsUsingTemplate(sql: Sql, template: WhatsAppTemplateRef): Promise<string[]> {
  const ids: string[] = [];
  for (const record of await listCampaigns(sql)) {
    if (record.state !== 'draft' && record.state !== 'running' && record.state !== 'paused') continue;
    // A definition that cannot be read (written by an older version) uses nothing we can name.
    const used = await whatsappTemplatesOf(record).catch(() => []);
    if (used.some((t) => t.name === template.name && t.language === template.language)) ids.push(record.id);
  }
  return ids;
}

/** What Meta changed about a template a campaign uses, worth an operator's attention. */
export interface TemplateAlert {
  readonly name: string;
  readonly language: string;
  readonly status: string;
  readonly category: string | null;
  readonly previousCategory: string | null;
  readonly categoryChange: 'impending' | 'done' | null;
  readonly quality: string | null;
}

/** The campaign's templates that Meta re-categorised (or will), paused, disabled, rejected, or
 *  rated YELLOW or RED. */
export async function templateAlerts(sql: Sql, record: CampaignRecord): Promise<TemplateAlert[]> {
  const used = await whatsappTemplatesOf(record).catch(() => []);
  if (used.length === 0) return [];
  const rows = await sql.query<{
    name: string;
    language: string;
    status: string;
    category: string | null;
    previous_category: string | null;
    category_change: 'impending' | 'done' | null;
    quality: string | null;
  }>(
    `SELECT t.name, t.language, t.status, t.category, t.previous_category, t.category_change, t.quality
       FROM template_statuses t JOIN unnest($1::text[], $2::text[]) AS u(name, language)
         ON u.name = t.name AND u.language = t.language
      WHERE t.category_change IS NOT NULL OR t.quality IN ('YELLOW', 'RED')
         OR t.status IN ('PAUSED', 'DISABLED', 'REJECTED')
      ORDER BY t.name, t.language`,
    [used.map((t) => t.name), used.map((t) => t.language)],
  );
  return rows.map((r) => ({
    name: r.name,
    language: r.language,
    status: r.status,
    category: r.category,
    previousCategory: r.previous_category,
    categoryChange: r.category_change,
    quality: r.quality,
  }));
}
