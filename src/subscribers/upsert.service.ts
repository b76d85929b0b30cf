// Upsert one subscriber (API: PUT /subscribers/{id}) by the import's own path: the fields become
// a one-row CSV read by the import service, strictly (a bad row writes nothing). So one record
// meets exactly the rules of `subscribers import`: the same validation words, consent evidence,
// tombstones of erased people, phone and email ownership, and planning into running campaigns.
import { Readable } from 'node:stream';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import { csvLine, EXPORT_COLUMNS } from './export.service.ts';
import type { ImportService } from './import.service.ts';
import { ATTRIBUTE_NAME, ATTRIBUTE_NAME_RULE, ATTRIBUTE_PREFIX } from './subscriber.schema.ts';

/**
 * The CSV columns (docs/subscribers.md) as JSON fields; `channels` and `tags` are arrays, the
 * `attr.<name>` columns are the object `attributes` (a null or empty value removes one; names left
 * out are kept).
 */
export interface SubscriberFields {
  readonly name?: string;
  readonly phone?: string;
  readonly email?: string;
  readonly locale: string;
  readonly timezone: string;
  /** The attribute `assistant`, under its old column name. */
  readonly assistant?: string;
  readonly attributes?: Readonly<Record<string, string | null>>;
  readonly channels: readonly string[];
  readonly consent_at: string;
  readonly consent_source: string;
  readonly tags?: readonly string[];
}

export interface UpsertResult {
  readonly id: string;
  readonly outcome: 'created' | 'updated' | 'unchanged';
  readonly consentEvents: number;
  readonly planned: { readonly subscribers: number; readonly slots: number };
  /** Accepted with a change worth saying (a locale neither fr nor en stored as en). */
  readonly notes: readonly Problem[];
}

/** The import names an attribute by its column (attr.plan); the JSON body by its key (attributes.plan). */
const inApiWords = (problems: readonly Problem[]): Problem[] =>
  problems.map((p) =>
    p.path.startsWith(ATTRIBUTE_PREFIX)
      ? { ...p, path: `attributes.${p.path.slice(ATTRIBUTE_PREFIX.length)}` }
      : p,
  );

export function createUpsertService(deps: { readonly imports: ImportService }) {
  const { imports } = deps;
  /** The subscriber as a one-row CSV read strictly by the import (dryRun: checked, nothing written). */
  const run = (id: string, fields: SubscriberFields, now: number, dryRun: boolean) => {
    const attributes = Object.entries(fields.attributes ?? {});
    const values: Record<(typeof EXPORT_COLUMNS)[number], string> = {
      id,
      name: fields.name ?? '',
      phone: fields.phone ?? '',
      email: fields.email ?? '',
      locale: fields.locale,
      timezone: fields.timezone,
      channels: fields.channels.join(';'),
      consent_at: fields.consent_at,
      consent_source: fields.consent_source,
      tags: (fields.tags ?? []).join(';'),
    };
    const header = [
      ...EXPORT_COLUMNS,
      ...(fields.assistant === undefined ? [] : ['assistant']),
      ...attributes.map(([name]) => `${ATTRIBUTE_PREFIX}${name}`),
    ];
    const row = [
      ...EXPORT_COLUMNS.map((c) => values[c]),
      ...(fields.assistant === undefined ? [] : [fields.assistant]),
      ...attributes.map(([, value]) => value ?? ''),
    ];
    const csv = csvLine(header) + csvLine(row);
    // One row: the stored digests of every subscriber are not worth loading for it.
    return imports.importFile({ file: Readable.from([csv]), now, strict: true, dryRun, knownDigests: false });
  };
  const ownProblems = (fields: SubscriberFields): Problem[] => {
    const problems: Problem[] = Object.keys(fields.attributes ?? {})
      .filter((name) => !ATTRIBUTE_NAME.test(name))
      .map((name) => ({ path: `attributes.${name}`, rule: ATTRIBUTE_NAME_RULE }));
    if (fields.assistant !== undefined && fields.attributes?.assistant !== undefined) {
      problems.push({
        path: 'assistant',
        rule: 'is the attribute attributes.assistant, given too: keep one of them',
      });
    }
    return problems;
  };
  /** Own problems and the import's, nothing written (bad attribute names kept out of the CSV). */
  const allProblems = async (id: string, fields: SubscriberFields, now: number): Promise<Problem[]> => {
    const attributes = Object.entries(fields.attributes ?? {}).filter(([name]) => ATTRIBUTE_NAME.test(name));
    const summary = await run(id, { ...fields, attributes: Object.fromEntries(attributes) }, now, true);
    return [...ownProblems(fields), ...inApiWords(summary.badRows[0]?.problems ?? [])];
  };
  return {
    /**
     * Every problem the import's rules find in these fields, nothing written: for a body whose
     * types already failed, so that one answer lists them all (not the types, then the rest).
     */
    problems: allProblems,

    async upsert(id: string, fields: SubscriberFields, now: number): Promise<UpsertResult> {
      if (ownProblems(fields).length > 0)
        throw new InvalidInput(`subscriber ${id} is invalid`, await allProblems(id, fields, now));
      const summary = await run(id, fields, now, false);
      const bad = summary.badRows[0];
      if (bad) throw new InvalidInput(`subscriber ${id} is invalid`, inApiWords(bad.problems));
      return {
        id,
        outcome: summary.inserted > 0 ? 'created' : summary.updated > 0 ? 'updated' : 'unchanged',
        consentEvents: summary.consentEvents,
        planned: summary.planned,
        notes: inApiWords(summary.notes[0]?.problems ?? []),
      };
    },
  };
}
