// `subscribers import` (docs/subscribers.md, "The CSV"): a CSV streamed row by row (csv.ts, which
// validates each row and refuses a repeated id, phone or email with the line it first appeared on),
// valid rows COPYed into a staging table in chunks of CHUNK_SIZE, each chunk merged with a fixed
// number of set-based statements (import.merge.ts). Idempotent, and planned into running campaigns.
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
// - Modes: by default each chunk commits on its own (a crash keeps the chunks done; running
//   the file again finishes the job). --strict and --dry-run run the whole file in one
//   transaction, rolled back if any row is bad (strict) or always (dry run), so their summary
//   counts exactly what a real run would do.
// - Subscribers that are new, moved zone, changed tags or gained a channel are planned into
//   running campaigns in the same transaction (campaigns/slot.planning.ts).
// - The source is a path or any Readable (an HTTP request body): nothing is read twice.
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { plannableCampaigns } from '../campaigns/campaign.repository.ts';
import { planSubscribers } from '../campaigns/slot.planning.ts';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import type { Db, Sql } from '../store/pool.ts';
import { DUPLICATE_FIELDS, duplicateProblems } from './csv.ts';
import { type KnownDigests, knownKeyCount, loadKnownDigests } from './import.digest.ts';
import * as merge from './import.merge.ts';
import { CheckedRows, type RowsBatch } from './import.rows.ts';
import { COPY_STAGING, createStaging } from './import.staging.ts';
import { SeenKeys } from './seen-keys.ts';

/** Rows per chunk: one COPY and one merge transaction each. Each chunk's look-ups into the
 *  subscriber tables cost about one pass over them (hash joins; 100,000 index probes cost more,
 *  measured), so fewer, larger chunks scale better; the chunk parsed ahead is held in memory
 *  as COPY text (about 19 MB at this size). */
export const CHUNK_SIZE = 100_000;
/** Chunks merged at once, each on its own connection. */
export const MERGES_AT_ONCE = 2;
/** Connections an import uses at most: the merging chunks and the tombstone check between
 *  chunks (a pool made for an import alone, as the CLI's, needs this many). */
export const IMPORT_CONNECTIONS = MERGES_AT_ONCE + 1;
/** Bad rows are all counted; this many are kept for the report. */
export const BAD_ROWS_KEPT = 10_000;
/** Rows written by one import from which the tables' planner statistics are refreshed at the
 *  end: autovacuum gets to a freshly filled table minutes later, and until then a re-import or
 *  a fan-out of it runs on plans made for an empty table (measured: a 100k re-import crawled). */
export const ANALYZE_AFTER_ROWS = 5_000;
export const ERASED_RULE = 'erased subscriber: opt-in must come from the person';
/** Progress is reported every this many rows read. */
const PROGRESS_EVERY = 1_000;

export interface ImportDeps {
  readonly db: Db;
  /** config.secretKey: keys the tombstones of erased subscribers. */
  readonly secretKey: string | undefined;
}

export interface ImportOptions {
  /** A path, or a stream of the CSV bytes (named `label` in the summary and errors). */
  readonly file: string | Readable;
  readonly label?: string;
  readonly now: number;
  readonly dryRun?: boolean;
  readonly strict?: boolean;
  /** Rows per chunk (default CHUNK_SIZE). */
  readonly batchSize?: number;
  /** Rows read so far. */
  readonly onProgress?: (rowsRead: number) => void;
  /** Default ANALYZE_AFTER_ROWS. */
  readonly analyzeAfterRows?: number;
  /** Worker threads that validate rows (default import.rows.ts's CHECK_THREADS; 0: none). */
  readonly threads?: number;
  /** Rows validated in the importing thread before the workers start (default THREADED_FROM). */
  readonly threadedFrom?: number;
  /** CSV records per batch handed to a worker (default csv.ts's RECORDS_PER_BATCH). */
  readonly batchRecords?: number;
  /** False: every row is validated and merged, even one whose digest says it is unchanged
   *  (the tests compare both ways; default true). */
  readonly knownDigests?: boolean;
  /** Told, at the end, how many rows were known unchanged by their digest (not validated). */
  readonly onKnown?: (rows: number) => void;
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
  /** Rows imported with a change worth saying, by line (a locale neither fr nor en stored as en). */
  readonly notes: readonly BadRow[];
}

class Rollback extends Error {}

export function createImportService(deps: ImportDeps) {
  return {
    async importFile(options: ImportOptions): Promise<ImportSummary> {
      const dryRun = options.dryRun === true;
      const strict = options.strict === true;
      const label = typeof options.file === 'string' ? options.file : (options.label ?? 'input');
      const tally = new Tally(label, dryRun, strict);
      const hashKey = await tombstoneKey(deps);
      // The digests stored before the first row is read: one snapshot, so a row skipped by its
      // digest is judged as of the import's start (a skipped row writes nothing; a change made
      // after that snapshot comes after the import for it).
      const known = options.knownDigests === false ? undefined : await loadKnownDigests(deps.db);
      // Whether to hash addresses is decided per chunk's worth of rows: erasures may happen
      // while a file imports.
      const rows = new CheckedRows(options.file, {
        now: options.now,
        label,
        hashKey: async () => (hashKey !== undefined && (await hasTombstones(deps.db)) ? hashKey : undefined),
        hashKeyEvery: options.batchSize ?? CHUNK_SIZE,
        known,
        sift: options.knownDigests !== false,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.threadedFrom === undefined ? {} : { threadedFrom: options.threadedFrom }),
        ...(options.batchRecords === undefined ? {} : { batchRecords: options.batchRecords }),
      });
      const chunks = new Chunks(rows, tally, options, known);
      const read = () => chunks.read();
      // The next chunk is parsed and validated (Node) while earlier ones merge (PostgreSQL).
      // One transaction for the whole file (--strict, --dry-run): chunks merge one after the
      // other. Otherwise up to MERGES_AT_ONCE chunks merge at once, each in its own
      // transaction on its own connection (PostgreSQL then uses more than one core): chunks
      // never share an id, phone or email (csv.ts refuses repeats), so they never write the
      // same subscriber.
      const run = async (sql?: Sql) => {
        const merging = new Set<Promise<void>>();
        const merge = async (chunk: Chunk) => {
          const tries = { unchanged: tally.unchangedLikely, newcomers: tally.newcomersLikely };
          tally.add(
            sql
              ? await importChunk(sql, chunk, options.now, tries)
              : await mergeAlone(deps.db, chunk, options.now, tries),
          );
        };
        try {
          let next = read();
          for (;;) {
            const chunk = await next;
            const last = chunks.done;
            if (!last) next = read();
            // Awaited on the next turn; until then its failure must not count as unhandled.
            next.catch(() => undefined);
            if (chunk.staged > 0) {
              if (sql) await merge(chunk);
              else {
                const merged = merge(chunk);
                merging.add(merged);
                merged.then(
                  () => merging.delete(merged),
                  () => undefined,
                );
                if (merging.size >= MERGES_AT_ONCE) await Promise.race(merging);
              }
            }
            if (last) break;
          }
          await Promise.all(merging);
        } finally {
          // A failed merge ends the import; the others finish (or fail) before the pool closes.
          await Promise.allSettled(merging);
        }
      };
      try {
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
      } finally {
        await rows.close();
        options.onKnown?.(tally.known);
      }
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
  if (!(await hasTombstones(deps.db))) return undefined;
  throw new InvalidInput(
    'subscribers import needs SECRET_KEY: erased subscribers are recognised by tombstones keyed with it (set the same SECRET_KEY as serve and work)',
  );
}

async function hasTombstones(sql: Sql): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM tombstones LIMIT 1')) !== undefined;
}

/** One chunk's valid rows as COPY text, and whether their addresses were hashed. */
interface Chunk {
  /** COPY text in pieces (slices of the checked batches' bytes), off the JavaScript heap: a
   *  chunk waits while others merge, and strings that old would fill the old generation. */
  readonly pieces: readonly Buffer[];
  /** The file's name, for the consent evidence. */
  readonly file: string;
  readonly staged: number;
  readonly hashed: boolean;
}

/** Keys of a row in the duplicate check: id, phone, email. */
const KEYS = DUPLICATE_FIELDS.length;

/** Cuts the checked rows into chunks of valid rows (bad ones go to the tally), refusing a row
 *  whose id, phone or email an earlier row used (the check needs the file's order, so it is
 *  made here, on hashes the workers computed). */
class Chunks {
  done = false;
  readonly #rows: CheckedRows;
  readonly #tally: Tally;
  readonly #size: number;
  readonly #onProgress: ((rowsRead: number) => void) | undefined;
  readonly #seen: SeenKeys;
  /** The batch being cut, the next record in it, and the next valid row's index among them. */
  #batch: RowsBatch | undefined;
  #record = 0;
  #valid = 0;
  #bad = 0;
  #note = 0;

  constructor(rows: CheckedRows, tally: Tally, options: ImportOptions, known: KnownDigests | undefined) {
    this.#rows = rows;
    // A re-import's file holds at least about the keys it left (docs/memory.md).
    this.#seen = new SeenKeys(known === undefined ? 0 : knownKeyCount(known));
    this.#tally = tally;
    this.#size = options.batchSize ?? CHUNK_SIZE;
    this.#onProgress = options.onProgress;
  }

  async read(): Promise<Chunk> {
    const pieces: Buffer[] = [];
    let staged = 0;
    let hashed = false;
    const tally = this.#tally;
    while (staged < this.#size) {
      let batch = this.#batch;
      if (batch === undefined || this.#record >= batch.lines.length) {
        batch = await this.#rows.next();
        if (batch === undefined) {
          this.done = true;
          break;
        }
        this.#take(batch);
      }
      hashed ||= batch.hashed;
      const text = Buffer.from(batch.text.buffer, batch.text.byteOffset, batch.text.byteLength);
      // A run of rows kept, as a byte range of the batch's text.
      let from = -1;
      let to = -1;
      const lines = batch.lines;
      for (; this.#record < lines.length && staged < this.#size; this.#record++) {
        const line = lines[this.#record]!;
        if (++tally.rows % PROGRESS_EVERY === 0) this.#onProgress?.(tally.rows);
        if (batch.valid[this.#record] === 0) {
          const bad = batch.bad[this.#bad++]!;
          tally.addBad(bad.line, bad.problems);
          continue;
        }
        const v = this.#valid++;
        const start = v === 0 ? 0 : batch.ends[v - 1]!;
        const end = batch.ends[v]!;
        const earlier = this.#seen.claimHashed(batch.keys, v * KEYS * 2, KEYS, batch.present[v]!, line);
        if (earlier.some((first) => first !== 0)) {
          if (batch.notes[this.#note]?.line === line) this.#note++;
          tally.addBad(line, duplicateProblems(earlier));
          if (from >= 0) pieces.push(text.subarray(from, to));
          from = -1;
          continue;
        }
        if (batch.valid[this.#record] === 2) {
          // Known unchanged by its digest: its keys are claimed, it has no staging line.
          tally.unchanged++;
          tally.known++;
          continue;
        }
        if (from < 0) from = start;
        to = end;
        staged++;
        const note = batch.notes[this.#note];
        if (note?.line === line) {
          tally.addNotes(line, note.problems);
          this.#note++;
        }
      }
      if (from >= 0) pieces.push(text.subarray(from, to));
    }
    if (this.done) this.#onProgress?.(tally.rows);
    return { pieces, staged, hashed, file: basename(tally.file) };
  }

  /** Starts cutting `batch`: its notes and the rows the reader refused go to the tally. */
  #take(batch: RowsBatch): void {
    this.#batch = batch;
    this.#record = 0;
    this.#valid = 0;
    this.#bad = 0;
    this.#note = 0;
    for (const skipped of batch.skipped) {
      this.#tally.rows++;
      this.#tally.addBad(skipped.line, skipped.problems);
    }
  }
}

/** What one chunk did, added to the tally once its transaction commits (a chunk retried after
 *  a deadlock is counted once). */
interface ChunkResult {
  readonly bad: readonly merge.BadLine[];
  readonly counts: merge.ChunkCounts;
  readonly planned: { readonly subscribers: number; readonly slots: number };
  /** Every row of the chunk was a new subscriber. */
  readonly newcomers: boolean;
}

const DEADLOCK = '40P01';

/** A chunk in a transaction of its own. Chunks take their locks in id order and plan one at a
 *  time, so two of them should not deadlock; should one happen anyway (another writer in
 *  between), the chunk is repeated rather than ending the import. */
async function mergeAlone(db: Db, chunk: Chunk, now: number, tries: Tries): Promise<ChunkResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.tx((tx) => importChunk(tx, chunk, now, tries));
    } catch (error) {
      if ((error as { code?: unknown }).code !== DEADLOCK || attempt >= 3) throw error;
    }
  }
}

/** What a chunk tries before the full merge. `unchanged`: first remove the rows that would
 *  change nothing (worth its index probes when the file was imported before; a first import
 *  skips it after its first chunk). `newcomers`: insert every row as a new subscriber, falling
 *  back to the full merge if one exists (mergeNewcomers). */
interface Tries {
  readonly unchanged: boolean;
  readonly newcomers: boolean;
}

async function importChunk(sql: Sql, chunk: Chunk, now: number, tries: Tries): Promise<ChunkResult> {
  const bad: merge.BadLine[] = [];
  await createStaging(sql);
  await sql.copyIn(COPY_STAGING, Readable.from(chunk.pieces));
  if (chunk.hashed) bad.push(...(await merge.removeErased(sql, ERASED_RULE)));
  if (tries.newcomers && chunk.staged > bad.length) {
    const newcomers = await mergeNewcomers(sql, chunk, now);
    if (newcomers !== undefined) return { ...newcomers, bad };
  }
  const unchanged = tries.unchanged ? await merge.removeUnchanged(sql) : 0;
  /** Rows still in the staging table. */
  const left = () => chunk.staged - bad.length - unchanged;
  if (left() === 0) {
    const counts = { inserted: 0, updated: 0, unchanged, consentEvents: 0, optOutsKept: 0 };
    return { bad, counts, planned: NOTHING_PLANNED, newcomers: false };
  }
  const existing = await merge.lockBefore(sql);
  if (existing > 0) bad.push(...(await merge.removeTaken(sql)));
  const written = await merge.upsertSubscribers(sql, now);
  await merge.decideChannels(sql, existing);
  // Every row left was just inserted: nothing to look up to count the chunk.
  const fresh = written.updated === 0 && written.inserted === left();
  const events = await merge.writeDecisions(sql, now, chunk.file, fresh);
  // A chunk of newcomers got its digests with the rows.
  if (!fresh) await merge.storeDigests(sql);
  const counts = fresh
    ? { inserted: written.inserted, updated: 0, unchanged, consentEvents: events, optOutsKept: 0 }
    : await merge.chunkCounts(sql).then((c) => ({ ...c, unchanged: c.unchanged + unchanged }));
  return { bad, counts, planned: await planJoiners(sql, now, false), newcomers: existing === 0 };
}

const UNIQUE_VIOLATION = '23505';
const NEWCOMERS = 'SAVEPOINT import_newcomers';

/** The chunk's rows (the staging table's) written as new subscribers, each listed channel active
 *  with an import event, without reading or locking anything first (merge.insertNewcomers).
 *  Undefined, with nothing written, when one of them exists: the chunk then takes the full
 *  merge, in the same transaction. */
async function mergeNewcomers(
  sql: Sql,
  chunk: Chunk,
  now: number,
): Promise<Omit<ChunkResult, 'bad'> | undefined> {
  await sql.exec(NEWCOMERS);
  let inserted: number;
  try {
    inserted = await merge.insertNewcomers(sql, now);
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    await sql.exec('ROLLBACK TO SAVEPOINT import_newcomers');
    return undefined;
  }
  await sql.exec('RELEASE SAVEPOINT import_newcomers');
  const consentEvents = await merge.writeDecisions(sql, now, chunk.file, true, merge.NEWCOMERS);
  const counts = { inserted, updated: 0, unchanged: 0, consentEvents, optOutsKept: 0 };
  return { counts, planned: await planJoiners(sql, now, true), newcomers: true };
}

/** The joiners are read only when some campaign could take them (a first import of a big list
 *  usually comes before any campaign starts). Chunks merging at once plan one after the other:
 *  they would otherwise create the same zone slots in different orders. */
async function planJoiners(sql: Sql, now: number, newcomers: boolean): Promise<ChunkResult['planned']> {
  if ((await plannableCampaigns(sql, now)).length === 0) return NOTHING_PLANNED;
  await sql.exec('SELECT pg_advisory_xact_lock($1)', [PLANNING_LOCK]);
  const planned = await planSubscribers(sql, await merge.joiners(sql, newcomers), now);
  return { subscribers: planned.subscribers, slots: planned.slotsCreated };
}

const NOTHING_PLANNED = { subscribers: 0, slots: 0 } as const;
/** A stable 32-bit key for pg_advisory_xact_lock: "lastcall-import-planning". */
const PLANNING_LOCK = 0x1a5c_a11e;

class Tally {
  rows = 0;
  /** Rows known unchanged by their digest (counted in `unchanged` too). */
  known = 0;
  inserted = 0;
  updated = 0;
  unchanged = 0;
  bad = 0;
  consentEvents = 0;
  optOutsKept = 0;
  plannedSubscribers = 0;
  plannedSlots = 0;
  readonly badRows: BadRow[] = [];
  readonly notes: BadRow[] = [];
  readonly file: string;
  readonly #dryRun: boolean;
  readonly #strict: boolean;

  constructor(file: string, dryRun: boolean, strict: boolean) {
    this.file = file;
    this.#dryRun = dryRun;
    this.#strict = strict;
  }

  /** Whether the last chunk merged had rows that changed nothing (true until one is merged). */
  unchangedLikely = true;
  /** Whether the last chunk merged was all new subscribers (true until one is merged). */
  newcomersLikely = true;

  add(chunk: ChunkResult): void {
    this.unchangedLikely = chunk.counts.unchanged > 0;
    this.newcomersLikely = chunk.newcomers;
    for (const bad of chunk.bad) this.addBad(bad.line, bad.problems);
    this.inserted += chunk.counts.inserted;
    this.updated += chunk.counts.updated;
    this.unchanged += chunk.counts.unchanged;
    this.consentEvents += chunk.counts.consentEvents;
    this.optOutsKept += chunk.counts.optOutsKept;
    this.plannedSubscribers += chunk.planned.subscribers;
    this.plannedSlots += chunk.planned.slots;
  }

  addBad(line: number, problems: readonly Problem[]): void {
    this.bad++;
    if (this.badRows.length < BAD_ROWS_KEPT) this.badRows.push({ line, problems });
  }

  addNotes(line: number, notes: readonly Problem[]): void {
    if (this.notes.length < BAD_ROWS_KEPT) this.notes.push({ line, problems: notes });
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
      notes: [...this.notes].sort((a, b) => a.line - b.line),
    };
  }
}
