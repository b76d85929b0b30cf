// `subscribers export`: every subscriber with consent in force, as the import's CSV (the columns
// of docs/subscribers.md, "The CSV", in that order), so that export → import round-trips. Read in
// keyset pages inside one read-only REPEATABLE READ transaction: a consistent snapshot, constant
// memory, any size.
//
// What a row says:
// - channels: the channels whose consent is in force (`active`). A channel that is pending,
//   unsubscribed or stopped is left out: importing a listed channel activates it, and the
//   exported file must never grant consent the person has not given or has withdrawn.
//   Subscribers with no such channel are left out of the file and counted.
// - consent_at / consent_source: the evidence of the consent in force (the channel's
//   consent_at, and the source of the consent event that granted it). One row holds one piece
//   of evidence: when two channels were consented to at different times (a web sign-up and its
//   email confirmation), the later instant is written, when both were in force, and the
//   distinct sources are joined with " + ".
// - done_at has no column in the format: it is counted, so the operator knows.
// - attributes: one `attr.<name>` column per attribute name any exported subscriber has (in
//   name order, after the fixed columns); a subscriber without it has an empty cell, which the
//   import reads as "no such attribute". The shipped campaign's `assistant` goes out as
//   `attr.assistant`, which the import reads exactly as the old bare column.
// - name and consent_source starting like a formula (= + - @) get a leading apostrophe, which
//   the import drops again (csv-formulas.ts); phones keep their "+".
import type { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CHANNELS, type Channel } from '../shared/vocabulary.ts';
import type { Db, Sql } from '../store/pool.ts';
import { REQUIRED_COLUMNS } from './csv.ts';
import { neutraliseFormula } from './csv-formulas.ts';
import type { SubscriberRow } from './subscriber.repository.ts';
import { ATTRIBUTE_PREFIX } from './subscriber.schema.ts';

/** The columns every exported file has; `attr.<name>` columns follow. */
export const EXPORT_COLUMNS = [...REQUIRED_COLUMNS, 'tags'] as const;
export const PAGE_SIZE = 1000;

export interface ExportOptions {
  readonly pageSize?: number;
  /** After each page: subscribers read so far, and how many there are in all. */
  readonly onProgress?: (read: number, total: number) => void;
}

export interface ExportSummary {
  /** Rows written (one per subscriber with consent in force). */
  readonly exported: number;
  /** Subscribers without any channel in force, not written. */
  readonly leftOut: number;
  /** Exported subscribers who said they are done (the format cannot carry it). */
  readonly done: number;
}

/** A subscriber's columns as the CSV carries them, with what the query adds. */
type PageRow = Pick<
  SubscriberRow,
  'id' | 'name' | 'phone' | 'email' | 'locale' | 'timezone' | 'attributes' | 'tags'
> & {
  readonly done: boolean;
  readonly consent: { channel: Channel; consentAt: string; source: string | null }[];
};

/** Writes the CSV to `out` and ends it. */
export async function exportSubscribers(
  db: Db,
  out: Writable,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const summary = { exported: 0, leftOut: 0, done: 0 };
  await db.tx(async (sql) => {
    await sql.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const total = (await sql.one<{ n: number }>('SELECT count(*)::int AS n FROM subscribers'))?.n ?? 0;
    const names = await sql.query<{ name: string }>(
      'SELECT DISTINCT jsonb_object_keys(attributes) AS name FROM subscribers ORDER BY 1',
    );
    const attributes = names.map((n) => n.name);
    await pipeline(Readable.from(lines(sql, total, attributes, summary, options)), out);
  });
  return summary;
}

async function* lines(
  sql: Sql,
  total: number,
  attributes: readonly string[],
  summary: { exported: number; leftOut: number; done: number },
  options: ExportOptions,
): AsyncGenerator<string> {
  yield csvLine(exportHeader(attributes));
  let read = 0;
  let after: string | null = null;
  for (;;) {
    const page = await readPage(sql, after, options.pageSize ?? PAGE_SIZE);
    if (page.length === 0) break;
    let chunk = '';
    for (const row of page) {
      const line = toCsv(row, attributes);
      if (line === undefined) summary.leftOut++;
      else {
        summary.exported++;
        if (row.done) summary.done++;
        chunk += line;
      }
    }
    if (chunk !== '') yield chunk;
    read += page.length;
    after = page[page.length - 1]!.id;
    options.onProgress?.(read, Math.max(total, read));
  }
}

function readPage(sql: Sql, after: string | null, limit: number): Promise<PageRow[]> {
  return sql.query<PageRow>(
    `SELECT s.id, s.name, s.phone, s.email, s.locale, s.timezone, s.attributes, s.tags,
            s.done_at IS NOT NULL AS done,
            coalesce((
              SELECT json_agg(json_build_object(
                       'channel', c.channel,
                       'consentAt', c.consent_at,
                       'source', (SELECT e.source FROM consent_events e
                                   WHERE e.subscriber_id = c.subscriber_id AND e.channel = c.channel
                                     AND e.kind IN ('import', 'opt_in', 'confirm', 'resume')
                                   ORDER BY (e.occurred_at = c.consent_at) DESC, e.id DESC LIMIT 1)))
                FROM subscriber_channels c
               WHERE c.subscriber_id = s.id AND c.state = 'active' AND c.consent_at IS NOT NULL), '[]') AS consent
       FROM subscribers s
      WHERE ($1::text IS NULL OR s.id > $1)
      ORDER BY s.id
      LIMIT $2`,
    [after, limit],
  );
}

// RFC 4180 quoting, written here rather than with a library (csv-stringify is not a dependency):
// a field holding a comma, a double quote or a line break is quoted and its quotes doubled;
// nothing else is. The import (csv-parse) reads it back: the round trip is tested.
const NEEDS_QUOTES = /[",\r\n]/;
export function csvLine(values: readonly string[]): string {
  return `${values.map((v) => (NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',')}\r\n`;
}

/** The header of an export whose subscribers have these attribute names. */
export function exportHeader(attributes: readonly string[]): string[] {
  return [...EXPORT_COLUMNS, ...attributes.map((name) => `${ATTRIBUTE_PREFIX}${name}`)];
}

/** One CSV line, or undefined when the subscriber has no consent in force. */
export function toCsv(row: PageRow, attributes: readonly string[]): string | undefined {
  const consent = [...row.consent].sort((a, b) => CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel));
  if (consent.length === 0) return undefined;
  const latest = Math.max(...consent.map((c) => Date.parse(c.consentAt)));
  const sources = [...new Set(consent.map((c) => c.source ?? 'unknown'))];
  const values: Record<(typeof EXPORT_COLUMNS)[number], string> = {
    id: row.id,
    // The free-text columns, and only they, are neutralised against CSV injection (csv-formulas.ts).
    name: neutraliseFormula(row.name ?? ''),
    phone: row.phone ?? '',
    email: row.email ?? '',
    locale: row.locale,
    timezone: row.timezone,
    channels: consent.map((c) => c.channel).join(';'),
    consent_at: new Date(latest).toISOString(),
    consent_source: neutraliseFormula(sources.join(' + ')),
    tags: row.tags.join(';'),
  };
  return csvLine([
    ...EXPORT_COLUMNS.map((column) => values[column]),
    // Attribute values are free text as well.
    ...attributes.map((name) => neutraliseFormula(row.attributes[name] ?? '')),
  ]);
}
