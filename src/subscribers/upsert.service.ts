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
 * The SPEC 5 columns as JSON fields; `channels` and `tags` are arrays, the `attr.<name>` columns
 * are the object `attributes` (a null or empty value removes one; names left out are kept).
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
}

export function createUpsertService(deps: { readonly imports: ImportService }) {
  const { imports } = deps;
  return {
    async upsert(id: string, fields: SubscriberFields, now: number): Promise<UpsertResult> {
      const attributes = Object.entries(fields.attributes ?? {});
      const problems: Problem[] = attributes
        .filter(([name]) => !ATTRIBUTE_NAME.test(name))
        .map(([name]) => ({ path: `attributes.${name}`, rule: ATTRIBUTE_NAME_RULE }));
      if (fields.assistant !== undefined && fields.attributes?.assistant !== undefined) {
        problems.push({
          path: 'assistant',
          rule: 'is the attribute attributes.assistant, given too: keep one of them',
        });
      }
      if (problems.length > 0) throw new InvalidInput(`subscriber ${id} is invalid`, problems);
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
      const summary = await imports.importFile({ file: Readable.from([csv]), now, strict: true });
      const bad = summary.badRows[0];
      if (bad) throw new InvalidInput(`subscriber ${id} is invalid`, bad.problems);
      return {
        id,
        outcome: summary.inserted > 0 ? 'created' : summary.updated > 0 ? 'updated' : 'unchanged',
        consentEvents: summary.consentEvents,
        planned: summary.planned,
      };
    },
  };
}
