// A message template file, config/messages/<locale>/<template>.yaml: the email (subject, text,
// HTML, written in the tiny language of template.ts) and the WhatsApp template as Meta knows
// it (name, language, category, body with positional {{1}}…{{n}}, the variable behind each
// placeholder, an optional footer and URL button). Problems are listed all at once, with paths.
import { z } from 'zod';
import type { Problem } from '../shared/errors.ts';
import { zodProblems } from './input-problems.ts';
import { FLAG_VARIABLES, TEXT_VARIABLES } from './message-vars.ts';
import { type CompiledTemplate, compileTemplate, TemplateSyntaxError } from './template.ts';

const TEXT_NAMES: readonly string[] = TEXT_VARIABLES;
const FLAG_NAMES: readonly string[] = FLAG_VARIABLES;
const variable = z.string({ error: 'must be a variable name' }).refine((v) => TEXT_NAMES.includes(v), {
  error: `must be one of: ${TEXT_VARIABLES.join(', ')}`,
});
const nonEmpty = (max?: number) => {
  const base = z.string({ error: 'must be text' }).min(1, { error: 'must not be empty' });
  return max === undefined
    ? base
    : base.max(max, { error: `must be at most ${max} characters (a WhatsApp limit)` });
};

export const messageFileSchema = z.strictObject(
  {
    email: z.strictObject({ subject: nonEmpty(), text: nonEmpty(), html: nonEmpty() }).optional(),
    whatsapp: z
      .strictObject({
        name: z.string({ error: 'must be text' }).regex(/^[a-z0-9_]{1,512}$/, {
          error: 'must be a WhatsApp template name: lower-case letters, digits and underscores',
        }),
        language: z.string({ error: 'must be text' }).regex(/^[a-z]{2,3}(?:_[A-Z]{2})?$/, {
          error: 'must be a WhatsApp language code like fr, en or en_US',
        }),
        category: z.enum(['UTILITY', 'MARKETING'], { error: 'must be UTILITY or MARKETING' }),
        body: nonEmpty(1024),
        footer: nonEmpty(60).optional(),
        params: z.array(variable, { error: 'must be a list of variable names, one per {{n}}' }),
        button: z
          .strictObject({
            type: z.literal('url', { error: 'must be url' }),
            text: nonEmpty(25),
            url: z
              .string({ error: 'must be text' })
              .regex(/^(?:\{\{publicUrl\}\}|https:\/\/[^\s{}]+)[^\s{}]*\{\{1\}\}$/, {
                error:
                  'must start with {{publicUrl}} or https:// and end with {{1}}, like "{{publicUrl}}/done/{{1}}"',
              }),
            param: variable,
          })
          .optional(),
      })
      .optional(),
  },
  { error: 'must be a YAML mapping with email and/or whatsapp' },
);

export type MessageFile = z.infer<typeof messageFileSchema>;

/** Compiles one email field, reporting syntax errors and names that are not variables. */
export function compileField(
  source: string,
  path: string,
  problems: Problem[],
): CompiledTemplate | undefined {
  let compiled: CompiledTemplate;
  try {
    compiled = compileTemplate(source);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    problems.push({ path, rule: error.message });
    return undefined;
  }
  for (const name of compiled.values) {
    if (!TEXT_NAMES.includes(name)) {
      problems.push({
        path,
        value: `{{${name}}}`,
        rule: `unknown variable (known: ${TEXT_VARIABLES.join(', ')})`,
      });
    }
  }
  for (const name of compiled.flags) {
    if (!FLAG_NAMES.includes(name) && !TEXT_NAMES.includes(name)) {
      problems.push({
        path,
        value: `{{#if ${name}}}`,
        rule: `unknown flag (known: ${FLAG_VARIABLES.join(', ')})`,
      });
    }
  }
  return compiled;
}

/** Meta's rules for a template body that zod cannot express. */
export function whatsappBodyProblems(body: string, params: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const numbers = [...body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1]));
  const distinct = new Set(numbers);
  const expected = params.map((_, index) => index + 1);
  if (distinct.size !== numbers.length) {
    problems.push({ path: 'whatsapp.body', rule: 'must use each placeholder {{n}} once' });
  }
  if (distinct.size !== params.length || expected.some((n) => !distinct.has(n))) {
    problems.push({
      path: 'whatsapp.params',
      value: `${params.length} names`,
      rule: `must name one variable per placeholder, in order: the body uses ${[...distinct].map((n) => `{{${n}}}`).join(', ') || 'none'}`,
    });
  }
  if (/\{\{\s*[^\d\s}]/.test(body)) {
    problems.push({
      path: 'whatsapp.body',
      rule: 'must use positional placeholders {{1}}…{{n}} only (Meta fills them from params)',
    });
  }
  if (/^\s*\{\{\s*\d+\s*\}\}|\{\{\s*\d+\s*\}\}\s*$/.test(body)) {
    problems.push({
      path: 'whatsapp.body',
      rule: 'must not start or end with a placeholder (Meta refuses such templates)',
    });
  }
  if (/https?:\/\/|www\./i.test(body)) {
    problems.push({ path: 'whatsapp.body', rule: 'must not contain links: put the link in the URL button' });
  }
  return problems;
}

/** Every problem of one parsed YAML document, paths relative to the file. */
export function messageFileProblems(raw: unknown): { problems: Problem[]; file?: MessageFile } {
  const parsed = messageFileSchema.safeParse(raw);
  if (!parsed.success) return { problems: zodProblems(messageFileSchema, parsed.error, raw) };
  const problems: Problem[] = [];
  const { email, whatsapp } = parsed.data;
  if (email === undefined && whatsapp === undefined) {
    problems.push({ path: '(top level)', rule: 'must define email, whatsapp or both' });
  }
  if (email !== undefined) {
    for (const key of ['subject', 'text', 'html'] as const)
      compileField(email[key], `email.${key}`, problems);
  }
  if (whatsapp !== undefined) {
    problems.push(...whatsappBodyProblems(whatsapp.body, whatsapp.params));
    if (/\{\{/.test(whatsapp.footer ?? ''))
      problems.push({ path: 'whatsapp.footer', rule: 'must not contain placeholders' });
  }
  return { problems, file: parsed.data };
}
