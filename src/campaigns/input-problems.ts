// Problems a person can act on, from the two parsers behind every config file: YAML syntax
// errors (with their line) and zod issues.
//
// zod issues become Problems: the YAML path ("steps[1].before"), the
// value found there, and the rule in words. zod's own wording ("Invalid input: expected string,
// received undefined") is replaced where we know better: a missing key says "is required", an
// unknown key names the keys allowed at that place.
import type { Document } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../shared/errors.ts';

// A key that is not a plain name (a space, a dot, a bracket, empty: "sendAt " typed with a
// trailing space) is written quoted, ["sendAt "], so that the path shows what the file has.
const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** "steps[1].before" from ["steps", 1, "before"]; "(top level)" for the document itself. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (!PLAIN_KEY.test(String(key))) out += `[${JSON.stringify(String(key))}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** A found value as it reads in a message: strings quoted, long values cut. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** The keys a strict object schema accepts at `path`, for "unknown key" messages. */
function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  const unwrap = (): void => {
    while (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodPipe) {
      node = node instanceof z.ZodPipe ? node.in : node.unwrap();
    }
  };
  for (const key of path) {
    unwrap();
    if (node instanceof z.ZodObject && typeof key === 'string') node = node.shape[key];
    else if (node instanceof z.ZodArray && typeof key === 'number') node = node.element;
    else if (node instanceof z.ZodRecord && typeof key === 'string') node = node.valueType;
    else return [];
  }
  unwrap();
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

export function zodProblems(schema: z.ZodType, error: z.ZodError, input: unknown): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        problems.push({
          path: formatPath([...issue.path, key]),
          rule: `unknown key${allowed.length > 0 ? ` (allowed here: ${allowed.join(', ')})` : ''}`,
        });
      }
      continue;
    }
    const value = valueAt(input, issue.path);
    // A missing value is "required", whatever the rule it would have had to meet (a type, one
    // of several shapes): zod's own words for it ("Invalid input") name neither.
    if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      problems.push({ path: formatPath(issue.path), rule: 'is required' });
      continue;
    }
    // zod's default words for a wrong type ("Invalid input: expected array, received string")
    // become the rule in ours; a schema's own message is kept.
    const rule =
      issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')
        ? `must be ${kind(issue.expected)}, not ${kind(kindOf(value))}`
        : issue.message;
    problems.push({ path: formatPath(issue.path), value: showValue(value), rule });
  }
  return problems;
}

/** zod's type names as words: "an array", "a string", "null". */
function kind(type: string): string {
  if (type === 'null' || type === 'undefined') return type;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The position of a problem's path in the document, key by key; missing keys sort last. */
function documentOrder(path: string, raw: unknown): number[] {
  const order: number[] = [];
  let node = raw;
  for (const [, quoted, plain, index] of path.matchAll(/\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)|\[(\d+)\]/g)) {
    const key = quoted === undefined ? plain : (JSON.parse(quoted) as string);
    const position =
      index !== undefined
        ? Number(index)
        : node !== null && typeof node === 'object'
          ? Object.keys(node).indexOf(key ?? '')
          : -1;
    order.push(position < 0 ? Number.MAX_SAFE_INTEGER : position);
    node = valueAt(node, [index !== undefined ? Number(index) : (key ?? '')]);
  }
  return order;
}

/** Problems in the order their places appear in the file, so a reader can go down it once. */
export function sortByDocumentOrder<T extends { readonly path: string }>(
  problems: readonly T[],
  raw: unknown,
): T[] {
  const keyed = problems.map((problem) => ({ problem, order: documentOrder(problem.path, raw) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < Math.min(a.order.length, b.order.length); i++) {
      const diff = (a.order[i] ?? 0) - (b.order[i] ?? 0);
      if (diff !== 0) return diff;
    }
    return a.order.length - b.order.length;
  });
  return keyed.map((entry) => entry.problem);
}

/** YAML syntax errors, each at its line and column (the message's own position suffix dropped). */
export function yamlProblems(doc: Document): Problem[] {
  return doc.errors.map((e) => ({
    path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(YAML)',
    rule: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
  }));
}

/**
 * One list from several checks of the same input (a schema's types, the rules of the service it
 * goes to): every path once, the first list that names it wins.
 */
export function mergeProblems(...lists: readonly (readonly Problem[])[]): Problem[] {
  const seen = new Set<string>();
  return lists.flat().filter((p) => !seen.has(p.path) && seen.add(p.path) !== undefined);
}
