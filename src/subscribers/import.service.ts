// `subscribers import` (SPEC 5): a CSV streamed row by row (csv.ts), written in batches of 500
// with set-based statements, idempotent, and planned into campaigns already running.
//
// - Upsert by id. A row whose phone or email belongs to another id is a bad row; so is one whose
//   phone or email was erased (`subscribers forget` left a tombstone): only the person may opt
//   in again, through the web form.
// - Listed channels become active: the operator vouches for the evidence (consent_at,
//   consent_source). An `import` consent event is recorded only when that evidence is new for
//   the channel (same source, instant and address already recorded: nothing new), so importing
//   one file twice writes nothing the second time.
// - An opt-out wins over older evidence: a channel the person unsubscribed from or stopped is
//   re-activated only by evidence given after the opt-out. Unlisted channels are left alone,
//   except that consent belongs to an address: a channel whose address changed loses it.
// - Modes: by default each batch commits on its own (a crash keeps the batches done; running
//   the file again finishes the job). --strict and --dry-run run the whole file in one
//   transaction, rolled back if any row is bad (strict) or always (dry run), so their summary
//   counts exactly what a real run would do.
// - Subscribers that are new, moved zone, changed tags or gained a channel are planned into
//   running campaigns in the same transaction (campaigns/slot.planning.ts).
import type { Readable } from 'node:stream';
import { planSubscribers } from '../campaigns/slot.planning.ts';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import type { Db, Sql } from '../store/pool.ts';
import { readSubscriberCsv } from './csv.ts';
import { decideChannels } from './import.channels.ts';
import * as repo from './import.repository.ts';
import { tombstoneHash } from './subscriber.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';

export const BATCH_SIZE = 500;
/** Bad rows are all counted; this many are kept for the report. */
export const BAD_ROWS_KEPT = 10_000;
/** Rows written by one import from which the tables' planner statistics are refreshed at the
 *  end: autovacuum gets to a freshly filled table minutes later, and until then a re-import or
 *  a fan-out of it runs on plans made for an empty table (measured: a 100k re-import crawled). */
export const ANALYZE_AFTER_ROWS = 5_000;
export const ERASED_RULE = 'erased subscriber: opt-in must come from the person';

export interface ImportDeps {
  readonly db: Db;
  /** config.secretKey: keys the tombstones of erased subscribers. */
  readonly secretKey: string | undefined;
}

export interface ImportOptions {
  readonly file: string | Readable;
  readonly now: number;
  readonly dryRun?: boolean;
  readonly strict?: boolean;
  readonly batchSize?: number;
  /** Rows read so far (after each batch). */
  readonly onProgress?: (rowsRead: number) => void;
  /** Default ANALYZE_AFTER_ROWS. */
  readonly analyzeAfterRows?: number;
}

export interface BadRow {
  readonly line: number;
  readonly problems: readonly Problem[];
}

export interface ImportSummary {
  readonly file: string;
  readonly dryRun: boolean;
  readonly strict: boolean;
  /** False for a dry run, and for --strict when any row was bad: nothing was written. */
  readonly committed: boolean;
  readonly rows: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly bad: number;
  readonly consentEvents: number;
  /** Listed channels left off because the person opted out after the row's evidence. */
  readonly optOutsKept: number;
  readonly planned: { readonly subscribers: number; readonly slots: number };
  readonly badRows: readonly BadRow[];
}

class Rollback extends Error {}

export function createImportService(deps: ImportDeps) {
  return {
    async importFile(options: ImportOptions): Promise<ImportSummary> {
      const dryRun = options.dryRun === true;
      const strict = options.strict === true;
      const label = typeof options.file === 'string' ? options.file : 'input';
      const tally = new Tally(label, dryRun, strict);
      const hashKey = await tombstoneKey(deps);
      const run = (sql?: Sql) =>
        readBatches(options, tally, (rows) =>
          sql
            ? importBatch(sql, rows, options.now, hashKey, tally)
            : deps.db.tx((tx) => importBatch(tx, rows, options.now, hashKey, tally)),
        );
      if (!dryRun && !strict) {
        await run();
        await analyzeIfBig(deps.db, tally, options.analyzeAfterRows);
        return tally.summary(true);
      }
      try {
        await deps.db.tx(async (sql) => {
          await run(sql);
          if (dryRun || tally.bad > 0) throw new Rollback();
        });
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
        return tally.summary(false);
      }
      await analyzeIfBig(deps.db, tally, options.analyzeAfterRows);
      return tally.summary(true);
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;

async function analyzeIfBig(db: Db, tally: Tally, threshold = ANALYZE_AFTER_ROWS): Promise<void> {
  if (tally.inserted + tally.updated < threshold) return;
  await db.exec('ANALYZE subscribers, subscriber_channels, consent_events, slots');
}

/** The tombstone key, or undefined when there are no tombstones to check. */
async function tombstoneKey(deps: ImportDeps): Promise<string | undefined> {
  if (deps.secretKey !== undefined) return deps.secretKey;
  if (!(await repo.hasTombstones(deps.db))) return undefined;
  throw new InvalidInput(
    'subscribers import needs SECRET_KEY: erased subscribers are recognised by tombstones keyed with it (set the same SECRET_KEY as serve and work)',
  );
}

interface Row {
  readonly line: number;
  readonly value: SubscriberInput;
}

async function readBatches(
  options: ImportOptions,
  tally: Tally,
  write: (rows: Row[]) => Promise<void>,
): Promise<void> {
  const size = options.batchSize ?? BATCH_SIZE;
  let batch: Row[] = [];
  for await (const row of readSubscriberCsv(options.file, { now: options.now })) {
    tally.rows++;
    if (!row.ok) tally.addBad(row.line, row.problems);
    else batch.push({ line: row.line, value: row.value });
    if (batch.length >= size) {
      await write(batch);
      batch = [];
      options.onProgress?.(tally.rows);
    }
  }
  if (batch.length > 0) await write(batch);
  options.onProgress?.(tally.rows);
}

async function importBatch(
  sql: Sql,
  rows: Row[],
  now: number,
  hashKey: string | undefined,
  tally: Tally,
): Promise<void> {
  const good = await refuseErased(sql, rows, hashKey, tally);
  const existing = await repo.lockExisting(
    sql,
    good.map((r) => r.value),
  );
  const byId = new Map(existing.map((s) => [s.id, s]));
  const owner = new Map<string, string>();
  for (const s of existing) {
    if (s.phone) owner.set(`phone:${s.phone}`, s.id);
    if (s.email) owner.set(`email:${s.email}`, s.id);
  }
  const accepted: Row[] = [];
  for (const row of good) {
    const problems: Problem[] = [];
    for (const field of ['phone', 'email'] as const) {
      const value = row.value[field];
      const holder = value === undefined ? undefined : owner.get(`${field}:${value}`);
      if (holder !== undefined && holder !== row.value.id) {
        problems.push({ path: field, rule: `already belongs to another subscriber (id ${holder})` });
      }
    }
    if (problems.length > 0) tally.addBad(row.line, problems);
    else accepted.push(row);
  }
  if (accepted.length === 0) return;

  const inputs = accepted.map((r) => r.value);
  const written = await repo.upsertSubscribers(sql, inputs, now);
  const ids = inputs.map((r) => r.id);
  const [channels, recorded] = await Promise.all([
    repo.lockChannelConsent(sql, ids),
    repo.recordedImportEvidence(sql, ids),
  ]);
  const decided = decideChannels(accepted, byId, channels, recorded, { now, file: tally.file });
  await repo.writeChannels(sql, decided.writes, now);
  await repo.appendEvents(sql, decided.events, now);
  tally.consentEvents += decided.events.length;
  tally.optOutsKept += decided.optOutsKept;

  const toPlan: string[] = [];
  for (const input of inputs) {
    const before = byId.get(input.id);
    const outcome = written.get(input.id) ?? (decided.changed.has(input.id) ? 'updated' : 'unchanged');
    tally[outcome]++;
    const moved =
      before === undefined ||
      before.timezone !== input.timezone ||
      before.tags.join(',') !== repo.sortedTags(input.tags).join(',');
    if (moved || decided.activated.has(input.id)) toPlan.push(input.id);
  }
  const planned = await planSubscribers(sql, toPlan, now);
  tally.plannedSubscribers += planned.subscribers;
  tally.plannedSlots += planned.slotsCreated;
}

async function refuseErased(
  sql: Sql,
  rows: Row[],
  hashKey: string | undefined,
  tally: Tally,
): Promise<Row[]> {
  if (hashKey === undefined) return rows;
  const hashes = rows.map((r) => ({
    phone: r.value.phone === undefined ? undefined : tombstoneHash(hashKey, 'phone', r.value.phone),
    email: r.value.email === undefined ? undefined : tombstoneHash(hashKey, 'email', r.value.email),
  }));
  const found = await repo.tombstonedHashes(
    sql,
    hashes.flatMap((h) => [h.phone ?? [], h.email ?? []].flat()),
  );
  return rows.filter((row, i) => {
    const h = hashes[i]!;
    const erased = (['phone', 'email'] as const).filter((f) => h[f] !== undefined && found.has(h[f]));
    if (erased.length === 0) return true;
    tally.addBad(row.line, [{ path: erased.join(', '), rule: ERASED_RULE }]);
    return false;
  });
}

class Tally {
  rows = 0;
  inserted = 0;
  updated = 0;
  unchanged = 0;
  bad = 0;
  consentEvents = 0;
  optOutsKept = 0;
  plannedSubscribers = 0;
  plannedSlots = 0;
  readonly badRows: BadRow[] = [];
  readonly file: string;
  readonly #dryRun: boolean;
  readonly #strict: boolean;

  constructor(file: string, dryRun: boolean, strict: boolean) {
    this.file = file;
    this.#dryRun = dryRun;
    this.#strict = strict;
  }

  addBad(line: number, problems: readonly Problem[]): void {
    this.bad++;
    if (this.badRows.length < BAD_ROWS_KEPT) this.badRows.push({ line, problems });
  }

  summary(committed: boolean): ImportSummary {
    return {
      file: this.file,
      dryRun: this.#dryRun,
      strict: this.#strict,
      committed,
      rows: this.rows,
      inserted: this.inserted,
      updated: this.updated,
      unchanged: this.unchanged,
      bad: this.bad,
      consentEvents: this.consentEvents,
      optOutsKept: this.optOutsKept,
      planned: { subscribers: this.plannedSubscribers, slots: this.plannedSlots },
      badRows: [...this.badRows].sort((a, b) => a.line - b.line),
    };
  }
}
