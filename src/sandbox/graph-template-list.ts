// `GET /<WABA_ID>/message_templates`: filters, `fields`, and Graph cursor paging. `paging.next` is
// an absolute https://graph.facebook.com URL, as Meta returns it, so a client that follows it
// through its origin-rewriting fetch lands back on this fake.
import type { TemplateDef } from './graph-templates.ts';

const DEFAULT_FIELDS = ['name', 'language', 'status', 'category', 'components', 'parameter_format', 'id'];

const cursor = (i: number) => Buffer.from(String(i)).toString('base64');
const fromCursor = (c: string | undefined) => (c ? Number(Buffer.from(c, 'base64').toString()) : Number.NaN);

export function listTemplates(
  registry: readonly TemplateDef[],
  query: Record<string, string>,
  path: string,
): { data: Record<string, unknown>[]; paging?: Record<string, unknown> } {
  const matches = registry.filter(
    (t) =>
      (!query.name || t.name.includes(query.name)) &&
      (!query.status || t.status === query.status.toUpperCase()) &&
      (!query.language || t.language === query.language) &&
      (!query.category || t.category === query.category.toUpperCase()),
  );
  const fields = query.fields ? query.fields.split(',').map((f) => f.trim()) : DEFAULT_FIELDS;
  const limit = Math.min(Math.max(Number(query.limit) || 25, 1), 1000);
  const after = fromCursor(query.after);
  const start = Number.isInteger(after) ? after + 1 : 0;
  const page = matches.slice(start, start + limit);
  const data = page.map((t) => {
    const row: Record<string, unknown> = { id: t.id };
    for (const f of fields) if (f in t) row[f] = t[f as keyof TemplateDef];
    return row;
  });
  if (page.length === 0) return { data };
  const last = start + page.length - 1;
  const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(last) } };
  if (last < matches.length - 1) {
    const next = new URLSearchParams({ ...query, limit: String(limit), after: cursor(last) });
    paging.next = `https://graph.facebook.com${path}?${next}`;
  }
  return { data, paging };
}
