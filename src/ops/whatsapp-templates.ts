// The WhatsApp message templates Lastcall sends, as Meta must know them: read from the message
// files (<messages>/<locale>/<template>.yaml, their `whatsapp` part) and turned into the
// `POST /<WABA_ID>/message_templates` payload: BODY with one example value per placeholder,
// FOOTER, and the URL button registered as <PUBLIC_URL>/…/{{1}} with a full example link.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CampaignRecord } from '../campaigns/campaign.repository.ts';
import { SLUG } from '../campaigns/campaign.schema.ts';
import { MESSAGE_LOCALES, sampleMessageVars } from '../campaigns/message-vars.ts';
import {
  loadMessageTemplates,
  type MessageTemplate,
  renderWhatsApp,
  SHIPPED_MESSAGES_DIR,
} from '../campaigns/messages.ts';
import type { TemplateDefinition } from '../delivery/channels/graph-admin.ts';
import { InvalidInput, type Problem } from '../shared/errors.ts';

export interface LocalTemplate {
  /** Meta's template name and language code (the key at Meta). */
  readonly name: string;
  readonly language: string;
  readonly category: 'UTILITY' | 'MARKETING';
  /** The message file it comes from. */
  readonly file: string;
  readonly definition: TemplateDefinition;
}

const key = (t: { name: string; language: string }) => `${t.name}\u0000${t.language}`;

/** Every WhatsApp template of a messages folder, one per name × language. */
export async function readLocalTemplates(
  publicUrl: string,
  dir: string = SHIPPED_MESSAGES_DIR,
): Promise<LocalTemplate[]> {
  const problems: Problem[] = [];
  const found = new Map<string, LocalTemplate>();
  for (const locale of MESSAGE_LOCALES) {
    let files: string[];
    try {
      files = (await readdir(join(dir, locale))).filter((f) => f.endsWith('.yaml')).sort();
    } catch {
      continue; // no folder for this language
    }
    for (const file of files) {
      const name = file.slice(0, -'.yaml'.length);
      if (!SLUG.test(name)) continue;
      let loaded: MessageTemplate;
      try {
        loaded = await loadMessageTemplates(dir, locale, name);
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        problems.push(
          ...(error.problems.length > 0
            ? error.problems
            : [{ path: join(dir, locale, file), rule: error.message }]),
        );
        continue;
      }
      if (loaded.whatsapp === undefined) continue;
      const local = toLocal(loaded, publicUrl);
      const twin = found.get(key(local));
      if (twin && JSON.stringify(twin.definition) !== JSON.stringify(local.definition)) {
        problems.push({
          path: local.file,
          rule: `defines WhatsApp template ${local.name} (${local.language}) differently from ${twin.file}`,
        });
      }
      if (!twin) found.set(key(local), local);
    }
  }
  if (problems.length > 0) throw new InvalidInput(`The message templates in ${dir} are invalid`, problems);
  return [...found.values()].sort((a, b) => key(a).localeCompare(key(b)));
}

export function toLocal(loaded: MessageTemplate, publicUrl: string): LocalTemplate {
  const wa = loaded.whatsapp!;
  // Example values are what a real send would carry, for a sample subscriber.
  const sample = renderWhatsApp(loaded, sampleMessageVars(loaded.locale));
  const components: Record<string, unknown>[] = [
    {
      type: 'BODY',
      text: wa.body,
      ...(sample.bodyParams.length > 0 ? { example: { body_text: [[...sample.bodyParams]] } } : {}),
    },
  ];
  if (wa.footer !== undefined) components.push({ type: 'FOOTER', text: wa.footer });
  if (wa.button !== undefined && sample.button !== undefined) {
    const url = wa.button.url.replace('{{publicUrl}}', publicUrl.replace(/\/+$/, ''));
    const example = `${url.replace(/\{\{1\}\}$/, '')}${sample.button.param}`;
    components.push({
      type: 'BUTTONS',
      buttons: [{ type: 'URL', text: wa.button.text, url, example: [example] }],
    });
  }
  return {
    name: wa.name,
    language: wa.language,
    category: wa.category,
    file: loaded.file,
    definition: {
      name: wa.name,
      language: wa.language,
      category: wa.category,
      parameter_format: 'POSITIONAL',
      components,
    },
  };
}

export interface NeededTemplate {
  readonly name: string;
  readonly language: string;
  /** Campaign ids that send it. */
  readonly campaigns: readonly string[];
}

/**
 * The WhatsApp templates these campaigns send, in every language: each step with the whatsapp
 * channel, its template file in each locale of the campaign's messages folder.
 */
export async function templatesNeeded(campaigns: readonly CampaignRecord[]): Promise<NeededTemplate[]> {
  const needed = new Map<string, { name: string; language: string; campaigns: Set<string> }>();
  for (const record of campaigns) {
    const dir = record.sourceDir ?? SHIPPED_MESSAGES_DIR;
    const names = new Set(
      record.campaign.steps.filter((s) => s.channels.includes('whatsapp')).map((s) => s.template),
    );
    for (const template of names) {
      for (const locale of MESSAGE_LOCALES) {
        const wa = (await loadMessageTemplates(dir, locale, template)).whatsapp;
        if (wa === undefined) continue;
        const entry = needed.get(key(wa)) ?? {
          name: wa.name,
          language: wa.language,
          campaigns: new Set<string>(),
        };
        entry.campaigns.add(record.id);
        needed.set(key(wa), entry);
      }
    }
  }
  return [...needed.values()]
    .map((e) => ({ name: e.name, language: e.language, campaigns: [...e.campaigns].sort() }))
    .sort((a, b) => key(a).localeCompare(key(b)));
}
