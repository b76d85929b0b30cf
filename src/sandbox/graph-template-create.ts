// `POST /<WABA_ID>/message_templates` checks, after Meta's: a lowercase name, a known category, one
// BODY, placeholders numbered {{1}}..{{n}} without gaps, an example for every variable, dynamic
// URL buttons with their {{1}} at the end, and no second template in the same language.
import { randomInt } from 'node:crypto';
import { type GraphErrorReply, invalidTemplate } from './graph-errors.ts';
import {
  placeholders,
  type TemplateCategory,
  type TemplateComponentDef,
  type TemplateDef,
  type TemplateStatus,
} from './graph-templates.ts';

const CATEGORIES: readonly TemplateCategory[] = ['MARKETING', 'UTILITY', 'AUTHENTICATION'];
const COMPONENT_TYPES = ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'];

function sequential(where: string, text: string | undefined): GraphErrorReply | undefined {
  const keys = placeholders(text);
  const expected = keys.map((_k, i) => String(i + 1));
  if (keys.every((k, i) => k === expected[i])) return undefined;
  return invalidTemplate(
    'Variables must be sequential',
    `${where}: variables must be numbered {{1}} to {{${keys.length}}} in order (found ${keys.map((k) => `{{${k}}}`).join(', ')})`,
    2388043,
  );
}

function bodyExampleCount(c: TemplateComponentDef): number {
  const rows = c.example?.body_text;
  return Array.isArray(rows) && Array.isArray(rows[0]) ? rows[0].length : 0;
}

function checkComponents(components: TemplateComponentDef[]): GraphErrorReply | undefined {
  const bodies = components.filter((c) => c.type === 'BODY');
  if (bodies.length !== 1 || !bodies[0]?.text) {
    return invalidTemplate(
      'Body is required',
      'components: exactly one BODY component with text is required',
    );
  }
  for (const [i, c] of components.entries()) {
    if (!COMPONENT_TYPES.includes(c.type)) {
      return invalidTemplate(
        'Invalid component',
        `components[${i}].type: ${String(c.type)} is not supported`,
      );
    }
    if (c.type === 'BODY' || (c.type === 'HEADER' && (c.format ?? 'TEXT') === 'TEXT')) {
      const seq = sequential(`components[${i}] (${c.type})`, c.text);
      if (seq) return seq;
    }
    if (c.type === 'BODY') {
      const n = placeholders(c.text).length;
      if ((c.text ?? '').length > 1024) {
        return invalidTemplate('Body too long', `components[${i}].text: at most 1024 characters`);
      }
      if (n > 0 && bodyExampleCount(c) !== n) {
        return invalidTemplate(
          'Missing example',
          `components[${i}].example.body_text: give one example row with ${n} value(s), one per variable`,
          2388023,
        );
      }
    }
    if ((c.type === 'HEADER' || c.type === 'FOOTER') && (c.text ?? '').length > 60) {
      return invalidTemplate('Text too long', `components[${i}].text: at most 60 characters`);
    }
    for (const [j, b] of (c.buttons ?? []).entries()) {
      if (b.type !== 'URL') continue;
      const keys = placeholders(b.url);
      const where = `components[${i}].buttons[${j}].url`;
      if (!/^https?:\/\//.test(b.url ?? ''))
        return invalidTemplate('Invalid URL', `${where}: must be http(s)`);
      if (keys.length > 1 || (keys.length === 1 && !/\{\{1\}\}$/.test(b.url ?? ''))) {
        return invalidTemplate('Invalid URL variable', `${where}: only one {{1}}, at the end of the URL`);
      }
      if (keys.length === 1 && !b.example?.[0]) {
        return invalidTemplate(
          'Missing example',
          `${where}: a dynamic URL needs example: [full url]`,
          2388023,
        );
      }
    }
  }
  return undefined;
}

/** Validates a create request; returns the stored template or Meta's refusal. */
export function createTemplate(
  registry: readonly TemplateDef[],
  input: unknown,
  status: TemplateStatus,
): GraphErrorReply | TemplateDef {
  const d = (input ?? {}) as Partial<TemplateDef>;
  if (typeof d.name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(d.name)) {
    return invalidTemplate(
      'Invalid template name',
      `name: ${JSON.stringify(d.name)} must be lowercase letters, digits and underscores (at most 512)`,
    );
  }
  if (typeof d.language !== 'string' || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(d.language)) {
    return invalidTemplate(
      'Invalid language',
      `language: ${JSON.stringify(d.language)} is not a language code`,
    );
  }
  if (!CATEGORIES.includes(d.category as TemplateCategory)) {
    return invalidTemplate('Invalid category', `category: must be one of ${CATEGORIES.join(', ')}`);
  }
  if (!Array.isArray(d.components)) {
    return invalidTemplate('Components are required', 'components: an array of HEADER/BODY/FOOTER/BUTTONS');
  }
  const problem = checkComponents(d.components);
  if (problem) return problem;
  if (registry.some((t) => t.name === d.name && t.language === d.language)) {
    return invalidTemplate(
      'Content in This Language Already Exists',
      `There is already ${d.language} content for this template (${d.name}). Create a new template and try again.`,
      2388024,
    );
  }
  return {
    id: String(randomInt(1e14, 3e14)),
    name: d.name,
    language: d.language,
    status,
    category: d.category as TemplateCategory,
    parameter_format: d.parameter_format ?? 'POSITIONAL',
    components: d.components,
  };
}
