// A message template file, config/messages/<locale>/<template>.yaml: the email (subject, text,
// HTML, written in the tiny language of template.ts) and the WhatsApp template as Meta knows
// it (name, language, category, body with positional {{1}}…{{n}}, the variable behind each
// placeholder, an optional footer and URL button), and `vars`: named one-line texts written in
// the same language, which the email and the WhatsApp parameters use like built-in variables
// (a campaign's own words, such as the shipped campaign's text for each assistant). Vars shared
// by every template of a language live in <messages>/<locale>/_vars.yaml. Problems are listed
// all at once, with paths.
import { z } from 'zod';
import type { Problem } from '../shared/errors.ts';
import { ATTRIBUTE_NAME } from '../subscribers/subscriber.schema.ts';
import { zodProblems } from './input-problems.ts';
import { TEXT_VARIABLES } from './message-vars.ts';
import { ATTR_PREFIX, type CompiledTemplate, compileTemplate, TemplateSyntaxError } from './template.ts';

const TEXT_NAMES: readonly string[] = TEXT_VARIABLES;
const variable = z.string({ error: 'must be a variable name' });
const VAR_NAME = /^[a-z][A-Za-z0-9_]{0,39}$/;

/** `vars`: name → one line of template text. */
export const varsSchema = z.record(
  z
    .string()
    .regex(VAR_NAME, { error: 'must be a variable name: a lower-case letter, then letters, digits or _' })
    .refine((name) => !TEXT_NAMES.includes(name), { error: 'is a built-in variable already' }),
  z.string({ error: 'must be text' }).min(1, { error: 'must not be empty' }),
);

/** The shared vars file of a language, <messages>/<locale>/_vars.yaml. */
export const sharedVarsSchema = z.strictObject(
  { vars: varsSchema },
  { error: 'must be a YAML mapping with vars: { name: text }' },
);

/** Names a template may read: built-ins, vars defined before, and any `attr.<name>`. */
export class KnownNames {
  readonly #defined: Set<string>;
  constructor(defined: Iterable<string> = []) {
    this.#defined = new Set(defined);
  }
  has(name: string): boolean {
    if (name.startsWith(ATTR_PREFIX)) return ATTRIBUTE_NAME.test(name.slice(ATTR_PREFIX.length));
    return TEXT_NAMES.includes(name) || this.#defined.has(name);
  }
  with(name: string): KnownNames {
    return new KnownNames([...this.#defined, name]);
  }
  describe(): string {
    return [...TEXT_VARIABLES, ...this.#defined, 'attr.<name>'].join(', ');
  }
}
const nonEmpty = (max?: number) => {
  const base = z.string({ error: 'must be text' }).min(1, { error: 'must not be empty' });
  return max === undefined
    ? base
    : base.max(max, { error: `must be at most ${max} characters (a WhatsApp limit)` });
};

export const messageFileSchema = z.strictObject(
  {
    vars: varsSchema.optional(),
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

/** Compiles one email field or var, reporting syntax errors and names that are not variables. */
export function compileField(
  source: string,
  path: string,
  problems: Problem[],
  known: KnownNames = new KnownNames(),
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
    if (!known.has(name)) {
      problems.push({ path, value: `{{${name}}}`, rule: `unknown variable (known: ${known.describe()})` });
    }
  }
  for (const name of compiled.flags) {
    if (!known.has(name)) {
      problems.push({
        path,
        value: `{{#if ${name}}}`,
        rule: `unknown variable (known: ${known.describe()})`,
      });
    }
  }
  return compiled;
}

/** Compiles vars in order (each may read the ones before it); their names join `known`. */
export function compileVars(
  vars: Readonly<Record<string, string>>,
  path: string,
  problems: Problem[],
  known: KnownNames,
): { defined: { name: string; template: CompiledTemplate }[]; known: KnownNames } {
  const defined: { name: string; template: CompiledTemplate }[] = [];
  let names = known;
  for (const [name, source] of Object.entries(vars)) {
    const template = compileField(source, `${path}.${name}`, problems, names);
    if (template) defined.push({ name, template });
    names = names.with(name);
  }
  return { defined, known: names };
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

/** Every problem of one parsed YAML document, paths relative to the file. `known`: the names
 *  the file may read besides its own vars (built-ins, the language's shared vars, attributes). */
export function messageFileProblems(
  raw: unknown,
  known: KnownNames = new KnownNames(),
): { problems: Problem[]; file?: MessageFile } {
  const parsed = messageFileSchema.safeParse(raw);
  if (!parsed.success) return { problems: zodProblems(messageFileSchema, parsed.error, raw) };
  const problems: Problem[] = [];
  const { email, whatsapp } = parsed.data;
  const names = parsed.data.vars ? compileVars(parsed.data.vars, 'vars', problems, known).known : known;
  if (email === undefined && whatsapp === undefined) {
    problems.push({ path: '(top level)', rule: 'must define email, whatsapp or both' });
  }
  if (email !== undefined) {
    for (const key of ['subject', 'text', 'html'] as const)
      compileField(email[key], `email.${key}`, problems, names);
  }
  if (whatsapp !== undefined) {
    problems.push(...whatsappBodyProblems(whatsapp.body, whatsapp.params));
    const params: [string, string][] = whatsapp.params.map((name, i) => [`whatsapp.params[${i}]`, name]);
    if (whatsapp.button) params.push(['whatsapp.button.param', whatsapp.button.param]);
    for (const [path, name] of params)
      if (!names.has(name))
        problems.push({ path, value: name, rule: `unknown variable (known: ${names.describe()})` });
    if (/\{\{/.test(whatsapp.footer ?? ''))
      problems.push({ path: 'whatsapp.footer', rule: 'must not contain placeholders' });
  }
  return { problems, file: parsed.data };
}
