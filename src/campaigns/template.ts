// A deliberately tiny template language for message files, so that nothing in a template can
// run code or reach outside the variables it is given:
//   {{name}}                      a value, escaped when rendering HTML
//   {{attr.plan}}                 a subscriber attribute (empty when the subscriber has none)
//   {{#if flag}}…{{else}}…{{/if}}  a section shown when the value is true (or non-empty)
//   {{#if attr.plan is pro|team}} a section shown when the value is one of these (a value with
//                                 spaces in double quotes: is "New York")
//   {{#unless flag}}…{{/unless}}  the opposite (also with `is`)
// A block tag alone on its line takes the line with it, so sections leave no blank lines.
// WhatsApp bodies are not written in it: Meta receives them as written, with positional
// {{1}}…{{n}} that it fills itself (see message-template.schema.ts).

export type TemplateValue = string | number | boolean;
export type TemplateVars = Readonly<Record<string, TemplateValue>>;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string }
  | {
      kind: 'block';
      negate: boolean;
      name: string;
      /** With `is`: the section is shown when the value is one of these. */
      equals?: readonly string[];
      shown: Node[];
      otherwise: Node[];
    };

/** The prefix of subscriber attributes among a template's names. */
export const ATTR_PREFIX = 'attr.';

export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

export interface CompiledTemplate {
  /** Every name the template reads, as a value or as a section flag. */
  readonly values: ReadonlySet<string>;
  readonly flags: ReadonlySet<string>;
  /** The subscriber attributes it reads (`attr.<name>`, as values or in sections), by name. */
  readonly attributes: ReadonlySet<string>;
  render(vars: TemplateVars, escapeValue?: (text: string) => string): string;
}

const TAG = /\{\{([^{}]*)\}\}/g;
const NAME = '[A-Za-z_][A-Za-z0-9_]*(?:\\.[a-z][a-z0-9_]*)?';
const VALUE = '"[^"]*"|[^\\s|"]+';
const OPEN = new RegExp(
  `^\\s*#(if|unless)\\s+(${NAME})(?:\\s+is\\s+((?:${VALUE})(?:\\s*\\|\\s*(?:${VALUE}))*))?\\s*$`,
);
const CLOSE = /^\s*\/(if|unless)\s*$/;
const ELSE = /^\s*else\s*$/;
const VAR = new RegExp(`^\\s*(${NAME})\\s*$`);
const PLACEHOLDER = /^\s*\d+\s*$/;

/** `pro|team|"New York"` → ['pro', 'team', 'New York']. */
function valuesOf(text: string): string[] {
  return [...text.matchAll(new RegExp(VALUE, 'g'))].map(([v]) => (v.startsWith('"') ? v.slice(1, -1) : v));
}
const STANDALONE = /^[ \t]*(\{\{\s*(?:[#/][^}]*|else\s*)\}\})[ \t]*\r?\n/gm;

export function compileTemplate(source: string): CompiledTemplate {
  const values = new Set<string>();
  const flags = new Set<string>();
  const attributes = new Set<string>();
  const root: Node[] = [];
  const stack: { node: Extract<Node, { kind: 'block' }>; inElse: boolean; keyword: string }[] = [];
  const target = (): Node[] => {
    const top = stack.at(-1);
    return top === undefined ? root : top.inElse ? top.node.otherwise : top.node.shown;
  };
  const text = source.replace(STANDALONE, '$1');
  let last = 0;
  const pushText = (chunk: string): void => {
    // Braces left over are a tag this language does not know ({{{x}}}, {{a b c}}): refuse
    // rather than send them to a subscriber.
    const stray = /\{\{|\}\}/.exec(chunk);
    if (stray)
      throw new TemplateSyntaxError(
        `unsupported tag near "${chunk.slice(Math.max(0, stray.index - 10), stray.index + 20)}"`,
      );
    if (chunk !== '') target().push({ kind: 'text', text: chunk });
  };
  const read = (name: string): void => {
    if (name.startsWith(ATTR_PREFIX)) attributes.add(name.slice(ATTR_PREFIX.length));
  };
  for (const match of text.matchAll(TAG)) {
    const [whole, inner = ''] = match;
    pushText(text.slice(last, match.index));
    last = match.index + whole.length;
    if (text[match.index - 1] === '{' || text[last] === '}') {
      throw new TemplateSyntaxError(
        `unsupported tag {${whole}}: values are always escaped in HTML, use ${whole}`,
      );
    }
    const opened = OPEN.exec(inner);
    const closed = CLOSE.exec(inner);
    const variable = VAR.exec(inner);
    if (PLACEHOLDER.test(inner)) {
      throw new TemplateSyntaxError(
        `${whole} is a WhatsApp placeholder: in an email, name the variable, like {{name}}`,
      );
    } else if (opened) {
      const [, keyword = 'if', name = '', equals] = opened;
      const node: Extract<Node, { kind: 'block' }> = {
        kind: 'block',
        negate: keyword === 'unless',
        name,
        ...(equals === undefined ? {} : { equals: valuesOf(equals) }),
        shown: [],
        otherwise: [],
      };
      target().push(node);
      stack.push({ node, inElse: false, keyword });
      flags.add(name);
      read(name);
    } else if (closed) {
      const word = closed[1]!;
      const top = stack.pop();
      if (top === undefined || top.keyword !== word) {
        throw new TemplateSyntaxError(
          `{{/${word}}} does not close ${top ? `{{#${top.keyword} ${top.node.name}}}` : 'any section'}`,
        );
      }
    } else if (ELSE.test(inner)) {
      const top = stack.at(-1);
      if (top === undefined || top.inElse)
        throw new TemplateSyntaxError('{{else}} outside an {{#if}} or {{#unless}} section');
      top.inElse = true;
    } else if (variable) {
      const name = variable[1]!;
      target().push({ kind: 'var', name });
      values.add(name);
      read(name);
    } else {
      throw new TemplateSyntaxError(
        `unsupported tag ${whole}: use {{name}}, {{attr.name}}, {{#if flag}}, {{#if attr.name is a|b}}, {{#unless flag}}, {{else}}, {{/if}}`,
      );
    }
  }
  const open = stack.at(-1);
  if (open !== undefined)
    throw new TemplateSyntaxError(`{{#${open.keyword} ${open.node.name}}} is never closed`);
  pushText(text.slice(last));
  return {
    values,
    flags,
    attributes,
    render: (vars, escapeValue = (t) => t) => renderNodes(root, vars, escapeValue),
  };
}

function lookup(vars: TemplateVars, name: string): TemplateValue {
  const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
  if (value !== undefined) return value;
  // A subscriber without the attribute: empty, so {{#if attr.x}} is false and {{attr.x}} blank.
  if (name.startsWith(ATTR_PREFIX)) return '';
  throw new Error(`template variable "${name}" has no value`);
}

function renderNodes(
  nodes: readonly Node[],
  vars: TemplateVars,
  escapeValue: (text: string) => string,
): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'var') {
      const value = lookup(vars, node.name);
      if (typeof value === 'boolean') throw new Error(`template variable "${node.name}" is a flag, not text`);
      out += escapeValue(String(value));
    } else {
      const value = lookup(vars, node.name);
      const truthy =
        node.equals === undefined
          ? value !== false && value !== '' && value !== 0
          : node.equals.includes(String(value));
      out += renderNodes(truthy !== node.negate ? node.shown : node.otherwise, vars, escapeValue);
    }
  }
  return out;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in HTML text and in double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}
