// The fake Cloud API's template registry and the checks Meta runs on a template send.
// Templates use Meta's own management format (components HEADER / BODY / FOOTER / BUTTONS with
// positional {{n}} placeholders), so the same definitions feed `message_templates` and sends.
import { type GraphErrorReply, graphError } from './graph-errors.ts';

export type TemplateStatus = 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

export interface TemplateButtonDef {
  type: 'URL' | 'QUICK_REPLY' | 'PHONE_NUMBER' | 'COPY_CODE';
  text: string;
  url?: string;
  phone_number?: string;
  example?: string[];
}

export interface TemplateComponentDef {
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS';
  format?: string;
  text?: string;
  buttons?: TemplateButtonDef[];
  example?: Record<string, unknown>;
}

export interface TemplateDef {
  id: string;
  name: string;
  language: string;
  status: TemplateStatus;
  category: TemplateCategory;
  /** Meta's quality rating of the template, as the Graph API returns it. */
  quality_score?: { score: 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN' };
  parameter_format?: 'POSITIONAL' | 'NAMED';
  components: TemplateComponentDef[];
}

/** What the fake rendered for an accepted send: handy for the demo sandbox's log. */
export interface RenderedTemplate {
  header?: string;
  body: string;
  buttonUrls: string[];
}

interface SendParameter {
  type?: string;
  text?: unknown;
  payload?: unknown;
}
interface SendComponent {
  type?: string;
  sub_type?: string;
  index?: unknown;
  parameters?: SendParameter[];
}

const PLACEHOLDER = /\{\{\s*([a-z0-9_]+)\s*\}\}/g;

/** Distinct placeholders in a template text, in order of first use. */
export function placeholders(text: string | undefined): string[] {
  const seen: string[] = [];
  for (const m of (text ?? '').matchAll(PLACEHOLDER)) if (!seen.includes(m[1]!)) seen.push(m[1]!);
  return seen;
}

function fill(text: string, values: string[]): string {
  const keys = placeholders(text);
  return text.replace(PLACEHOLDER, (_m, key: string) => values[keys.indexOf(key)] ?? '');
}

function texts(component: SendComponent | undefined): string[] | GraphErrorReply {
  const out: string[] = [];
  for (const p of component?.parameters ?? []) {
    if (p.type === 'text' && typeof p.text === 'string' && p.text.length > 0) out.push(p.text);
    else if (p.type === 'text') return graphError(131008, 'Parameter of type text is missing text value');
    else return graphError(132012, `parameter of type ${String(p.type)} where the template expects text`);
  }
  return out;
}

function countCheck(where: string, given: number, expected: number): GraphErrorReply | undefined {
  if (given === expected) return undefined;
  return graphError(
    132000,
    `${where}: number of localizable_params (${given}) does not match the expected number of params (${expected})`,
  );
}

/**
 * Meta's send-time checks, in its order: the template must exist and be approved in that language
 * (132001; paused 132015, disabled 132016), the parameter counts must match the registered
 * placeholders (132000), body parameters may not hold new lines, tabs or 5+ spaces (132018), the
 * hydrated body must fit 1,024 characters (132005), and each dynamic URL button needs exactly one
 * text parameter at its own index (131008 when missing, 131009 for an index that isn't one).
 */
export function checkTemplateSend(
  registry: readonly TemplateDef[],
  name: unknown,
  languageCode: unknown,
  components: unknown,
): GraphErrorReply | RenderedTemplate {
  const tpl = registry.find((t) => t.name === name && t.language === languageCode);
  if (!tpl || tpl.status === 'PENDING' || tpl.status === 'REJECTED') {
    return graphError(132001, `template name (${String(name)}) does not exist in ${String(languageCode)}`);
  }
  if (tpl.status === 'PAUSED') return graphError(132015, `template (${tpl.name}) is paused`);
  if (tpl.status === 'DISABLED') return graphError(132016, `template (${tpl.name}) is disabled`);
  const sent = Array.isArray(components) ? (components as SendComponent[]) : [];
  const def = (type: TemplateComponentDef['type']) => tpl.components.find((c) => c.type === type);

  const bodyText = def('BODY')?.text ?? '';
  const body = texts(sent.find((c) => c.type === 'body'));
  if (!Array.isArray(body)) return body;
  const bodyCount = countCheck('body', body.length, placeholders(bodyText).length);
  if (bodyCount) return bodyCount;
  if (body.some((t) => /[\n\t]| {5,}/.test(t))) return graphError(132018);
  const rendered: RenderedTemplate = { body: fill(bodyText, body), buttonUrls: [] };
  if (rendered.body.length > 1024) return graphError(132005, 'body text is longer than 1024 characters');

  const headerDef = def('HEADER');
  if (headerDef && (headerDef.format ?? 'TEXT') === 'TEXT') {
    const header = texts(sent.find((c) => c.type === 'header'));
    if (!Array.isArray(header)) return header;
    const headerCount = countCheck('header', header.length, placeholders(headerDef.text).length);
    if (headerCount) return headerCount;
    rendered.header = fill(headerDef.text ?? '', header);
  }

  const buttons = def('BUTTONS')?.buttons ?? [];
  const buttonComponents = sent.filter((c) => c.type === 'button');
  for (const c of buttonComponents) {
    const index = Number(c.index);
    const b = buttons[index];
    if (c.sub_type === 'url') {
      if (b?.type !== 'URL' || placeholders(b.url).length === 0) {
        return graphError(131009, `button at index ${String(c.index)} is not a dynamic URL button`);
      }
      const values = texts(c);
      if (!Array.isArray(values)) return values;
      const n = countCheck(`button at index ${index}`, values.length, 1);
      if (n) return n;
      rendered.buttonUrls.push(fill(b.url ?? '', values));
    } else if (c.sub_type === 'quick_reply') {
      if (b?.type !== 'QUICK_REPLY') {
        return graphError(131009, `button at index ${String(c.index)} is not a quick reply button`);
      }
    } else {
      return graphError(131009, `button sub_type ${String(c.sub_type)} is not supported here`);
    }
  }
  for (const [i, b] of buttons.entries()) {
    const dynamic = b.type === 'URL' && placeholders(b.url).length > 0;
    if (dynamic && !buttonComponents.some((c) => Number(c.index) === i && c.sub_type === 'url')) {
      return graphError(131008, `buttons: parameter for the URL button at index ${i} is missing`);
    }
  }
  return rendered;
}

export function isGraphErrorReply(x: GraphErrorReply | RenderedTemplate): x is GraphErrorReply {
  return 'status' in x && 'body' in x;
}
