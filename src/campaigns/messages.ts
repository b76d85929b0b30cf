// Message templates: found by name under <messages>/<locale>/<template>.yaml (docs/campaigns.md,
// "Message templates"), validated when loaded, compiled once, rendered per subscriber. Every value
// inserted into HTML is escaped; WhatsApp gets its ordered body parameters and the URL button's
// suffix.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import { type Campaign, SLUG } from './campaign.schema.ts';
import { yamlProblems, zodProblems } from './input-problems.ts';
import {
  compileField,
  compileVars,
  KnownNames,
  type MessageFile,
  messageFileProblems,
  sharedVarsSchema,
} from './message-template.schema.ts';
import { MESSAGE_LOCALES, type MessageVars, resolveLocale } from './message-vars.ts';
import { type CompiledTemplate, escapeHtml, type TemplateValue } from './template.ts';

/** The vars every template of a language shares: <messages>/<locale>/_vars.yaml (optional). */
export const SHARED_VARS_FILE = '_vars.yaml';

/** The templates shipped with Lastcall, used when a campaign file names no folder. */
export const SHIPPED_MESSAGES_DIR = fileURLToPath(new URL('../../config/messages', import.meta.url));

export interface MessageTemplate {
  readonly template: string;
  readonly locale: Locale;
  /** The file it was read from. */
  readonly file: string;
  /** Its vars (the language's shared ones, then its own), rendered in this order. */
  readonly vars: readonly { readonly name: string; readonly template: CompiledTemplate }[];
  /** The subscriber attributes it reads (in vars, email and WhatsApp parameters), by name. */
  readonly attributes: ReadonlySet<string>;
  readonly email?: {
    readonly subject: CompiledTemplate;
    readonly text: CompiledTemplate;
    readonly html: CompiledTemplate;
  };
  readonly whatsapp?: NonNullable<MessageFile['whatsapp']>;
}

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface RenderedWhatsApp {
  readonly name: string;
  readonly language: string;
  readonly category: 'UTILITY' | 'MARKETING';
  /** Body parameters in placeholder order: {{1}} is the first. One line each. */
  readonly bodyParams: readonly string[];
  /** The body as the subscriber will read it (for previews and logs of templates, not sends). */
  readonly preview: string;
  readonly footer?: string;
  /** The dynamic URL button (button index 0): `param` is the {{1}} suffix, `url` the full link. */
  readonly button?: { readonly text: string; readonly param: string; readonly url: string };
}

/** The messages folder of a campaign: its `messages` key relative to its file, else `defaultDir`. */
export function resolveMessagesDir(campaign: Campaign, defaultDir: string = SHIPPED_MESSAGES_DIR): string {
  return campaign.messages === undefined ? defaultDir : resolve(dirname(campaign.source), campaign.messages);
}

export async function loadMessageTemplates(
  dir: string,
  locale: string,
  template: string,
): Promise<MessageTemplate> {
  const resolved = resolveLocale(locale);
  if (!SLUG.test(template)) {
    throw new InvalidInput(`Invalid message template name`, [
      { path: 'template', value: JSON.stringify(template), rule: 'must be a slug' },
    ]);
  }
  const file = join(dir, resolved, `${template}.yaml`);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InvalidInput(
      `Message template "${template}" (${resolved}) ${missing ? 'not found' : 'cannot be read'}`,
      [{ path: file, rule: missing ? 'file not found' : String(error) }],
    );
  }
  const shared = await loadSharedVars(join(dir, resolved, SHARED_VARS_FILE));
  const doc = parseDocument(source.replace(/^\uFEFF/, ''));
  const syntax = yamlProblems(doc);
  const { problems, file: parsed } =
    syntax.length > 0 ? { problems: syntax } : messageFileProblems(doc.toJS(), shared.known);
  if (problems.length > 0 || parsed === undefined) {
    throw new InvalidInput(`Message template ${file} is invalid`, problems);
  }
  const own = compileVars(parsed.vars ?? {}, 'vars', [], shared.known);
  const email = parsed.email && {
    subject: compileField(parsed.email.subject, 'email.subject', [])!,
    text: compileField(parsed.email.text, 'email.text', [])!,
    html: compileField(parsed.email.html, 'email.html', [])!,
  };
  const vars = [...shared.defined.filter((v) => !own.defined.some((o) => o.name === v.name)), ...own.defined];
  const attributes = new Set<string>();
  const compiled = [
    ...vars.map((v) => v.template),
    ...(email ? [email.subject, email.text, email.html] : []),
  ];
  for (const template of compiled) for (const a of template.attributes) attributes.add(a);
  for (const name of parsed.whatsapp ? [...parsed.whatsapp.params, parsed.whatsapp.button?.param ?? ''] : [])
    if (name.startsWith('attr.')) attributes.add(name.slice('attr.'.length));
  return {
    template,
    locale: resolved,
    file,
    vars,
    attributes,
    ...(email ? { email } : {}),
    ...(parsed.whatsapp ? { whatsapp: parsed.whatsapp } : {}),
  };
}

/** The language's shared vars, compiled; none when the file does not exist. */
async function loadSharedVars(
  file: string,
): Promise<{ defined: MessageTemplate['vars'][number][]; known: KnownNames }> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { defined: [], known: new KnownNames() };
    throw new InvalidInput(`Shared vars ${file} cannot be read`, [{ path: file, rule: String(error) }]);
  }
  const doc = parseDocument(source.replace(/^\uFEFF/, ''));
  const problems = yamlProblems(doc);
  const raw = problems.length === 0 ? doc.toJS() : undefined;
  const parsed = raw === undefined ? undefined : sharedVarsSchema.safeParse(raw);
  if (parsed && !parsed.success) problems.push(...zodProblems(sharedVarsSchema, parsed.error, raw));
  const compiled = parsed?.success
    ? compileVars(parsed.data.vars, 'vars', problems, new KnownNames())
    : undefined;
  if (problems.length > 0 || compiled === undefined)
    throw new InvalidInput(
      `Shared vars ${file} are invalid`,
      problems.map((p) => ({ ...p, path: `${file}: ${p.path}` })),
    );
  return compiled;
}

/** The subscriber's values with the template's vars added, each rendered on one line. */
function withVars(template: MessageTemplate, vars: MessageVars): Readonly<Record<string, TemplateValue>> {
  if (template.vars.length === 0) return vars;
  const all: Record<string, TemplateValue> = { ...vars };
  for (const { name, template: text } of template.vars) all[name] = oneLine(text.render(all));
  return all;
}

/** Meta refuses newlines, tabs and runs of spaces in parameters; a subject must stay one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function renderEmail(template: MessageTemplate, subscriber: MessageVars): RenderedEmail {
  if (template.email === undefined) throw new Error(`${template.file} has no email part`);
  const vars = withVars(template, subscriber);
  return {
    subject: oneLine(template.email.subject.render(vars)),
    text: template.email.text.render(vars),
    html: template.email.html.render(vars, escapeHtml),
  };
}

export function renderWhatsApp(template: MessageTemplate, subscriber: MessageVars): RenderedWhatsApp {
  const wa = template.whatsapp;
  if (wa === undefined) throw new Error(`${template.file} has no whatsapp part`);
  const vars = withVars(template, subscriber);
  const bodyParams = wa.params.map((name, index) => {
    const value = oneLine(String(vars[name] ?? ''));
    if (value === '')
      throw new Error(`${template.file}: WhatsApp parameter {{${index + 1}}} (${name}) is empty`);
    return value;
  });
  const preview = wa.body.replace(/\{\{\s*(\d+)\s*\}\}/g, (_, n: string) => bodyParams[Number(n) - 1] ?? '');
  let button: RenderedWhatsApp['button'];
  if (wa.button !== undefined) {
    // The button's URL is registered with Meta as a fixed prefix plus {{1}}; the link we send
    // must start with that prefix, and only the rest travels as the parameter.
    const prefix = wa.button.url.replace('{{publicUrl}}', String(vars.publicUrl)).replace(/\{\{1\}\}$/, '');
    const url = String(vars[wa.button.param] ?? '');
    if (!url.startsWith(prefix) || url.length === prefix.length) {
      throw new Error(
        `${template.file}: ${wa.button.param} does not start with the button's URL prefix ${prefix}`,
      );
    }
    button = { text: wa.button.text, param: url.slice(prefix.length), url };
  }
  return {
    name: wa.name,
    language: wa.language,
    category: wa.category,
    bodyParams,
    preview,
    ...(wa.footer === undefined ? {} : { footer: wa.footer }),
    ...(button === undefined ? {} : { button }),
  };
}

export function renderMessage(
  template: MessageTemplate,
  vars: MessageVars,
): { email?: RenderedEmail; whatsapp?: RenderedWhatsApp } {
  return {
    ...(template.email ? { email: renderEmail(template, vars) } : {}),
    ...(template.whatsapp ? { whatsapp: renderWhatsApp(template, vars) } : {}),
  };
}

/**
 * Every missing or invalid template file for every step × locale, and every step channel its
 * template does not cover. Empty when the campaign can be sent in every language.
 */
export async function validateCampaignTemplates(campaign: Campaign, baseDir?: string): Promise<Problem[]> {
  const dir = resolveMessagesDir(campaign, baseDir);
  const problems: Problem[] = [];
  const needed = new Map<string, Set<Channel>>();
  for (const step of campaign.steps) {
    const channels = needed.get(step.template) ?? new Set<Channel>();
    for (const channel of step.channels) channels.add(channel);
    needed.set(step.template, channels);
  }
  for (const [template, channels] of needed) {
    for (const locale of MESSAGE_LOCALES) {
      try {
        const loaded = await loadMessageTemplates(dir, locale, template);
        for (const channel of channels) {
          if (loaded[channel] === undefined) {
            problems.push({
              path: loaded.file,
              rule: `has no ${channel} part, but a step sends "${template}" by ${channel}`,
            });
          }
        }
        if (loaded.whatsapp && !loaded.whatsapp.language.startsWith(locale)) {
          problems.push({
            path: `${loaded.file}: whatsapp.language`,
            value: loaded.whatsapp.language,
            rule: `must be a language code for ${locale}`,
          });
        }
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        const file = join(dir, locale, `${template}.yaml`);
        for (const p of error.problems)
          problems.push(p.path === file ? p : { ...p, path: `${file}: ${p.path}` });
      }
    }
  }
  return problems;
}
