// The WhatsApp templates of Lastcall's message files, in Meta's management format, so that the
// sandbox holds them as APPROVED exactly as Meta would after review. Every <locale>/<name>.yaml
// with a `whatsapp` part is registered; the button's {{publicUrl}} becomes PUBLIC_URL, as when
// the templates are pushed to Meta.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SLUG } from '../campaigns/campaign.schema.ts';
import { MESSAGE_LOCALES } from '../campaigns/message-vars.ts';
import { loadMessageTemplates } from '../campaigns/messages.ts';
import type { TemplateSeed } from './graph-fake.ts';
import type { TemplateComponentDef } from './graph-templates.ts';

export async function lastcallTemplateSeeds(messagesDir: string, publicUrl: string): Promise<TemplateSeed[]> {
  const seeds: TemplateSeed[] = [];
  for (const locale of MESSAGE_LOCALES) {
    const files = await readdir(join(messagesDir, locale)).catch(() => [] as string[]);
    // Template files only: <name>.yaml with a slug name (not _vars.yaml, the shared vars).
    for (const file of files.filter((f) => f.endsWith('.yaml') && SLUG.test(f.slice(0, -5))).sort()) {
      const loaded = await loadMessageTemplates(messagesDir, locale, file.slice(0, -'.yaml'.length));
      const wa = loaded.whatsapp;
      if (wa === undefined) continue;
      const components: TemplateComponentDef[] = [
        { type: 'BODY', text: wa.body, example: { body_text: [wa.params.map((p) => `{${p}}`)] } },
      ];
      if (wa.footer !== undefined) components.push({ type: 'FOOTER', text: wa.footer });
      if (wa.button !== undefined) {
        const url = wa.button.url.replace('{{publicUrl}}', publicUrl);
        components.push({
          type: 'BUTTONS',
          buttons: [{ type: 'URL', text: wa.button.text, url, example: [url.replace('{{1}}', 'example')] }],
        });
      }
      seeds.push({ name: wa.name, language: wa.language, category: wa.category, components });
    }
  }
  return seeds;
}
