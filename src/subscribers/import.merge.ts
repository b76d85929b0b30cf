// The merge of one staged chunk (import_rows, import.staging.ts) into subscribers, channels and
// consent events: a fixed number of set-based statements whatever the chunk's size. The rules
// (import.service.ts has the whole list):
//
// Listed channel:   absent or pending → active (import event)
//                   active            → active; a new import event (and consent_at) only if
//                                       the evidence is new or the address changed
//                   unsubscribed / stopped / complained → active only with evidence newer than
//                                       the opt-out (or the complaint)
//                   bounced           → the same, or at once when the address changed: a bounce
//                                       is about the old address
// Unlisted channel: untouched, unless its address changed or went away while active or
//                   pending: consent belongs to an address, so it ends (opt_out event).
//
// Every statement reads the subscribers as they were before the chunk (import_before, locked
// FOR UPDATE: sign-ups and opt-outs lock the subscriber row first, so they wait for the chunk).
import type { Problem } from '../shared/errors.ts';
import type { Sql } from '../store/pool.ts';

export interface BadLine {
  readonly line: number;
  readonly problems: Problem[];
}

/** Rows whose phone or email was erased (a tombstone), removed from the chunk. */
export async function removeErased(sql: Sql, rule: string): Promise<BadLine[]> {
  const rows = await sql.query<{ line: number; phone: boolean; email: boolean }>(
    `WITH erased AS (
       SELECT r.line,
              EXISTS (SELECT 1 FROM tombstones t WHERE t.hash = r.phone_hash) AS phone,
              EXISTS (SELECT 1 FROM tombstones t WHERE t.hash = r.email_hash) AS email
         FROM import_rows r)
     DELETE FROM import_rows r USING erased e
      WHERE r.line = e.line AND (e.phone OR e.email)
     RETURNING e.line, e.phone, e.email`,
  );
  return rows.map((r) => ({
    line: r.line,
    problems: [{ path: [r.phone && 'phone', r.email && 'email'].filter(Boolean).join(', '), rule }],
  }));
}

/**
 * The attributes a row leaves a subscriber with: the stored ones (of `stored`, a subscribers-like
 * row, possibly missing), then the row's, whose nulls (empty cells) remove.
 */
const MERGED_ATTRIBUTES = (stored: string) =>
  `jsonb_strip_nulls(coalesce(${stored}.attributes, '{}'::jsonb) || r.attributes)`;

/**
 * Rows that would change nothing, removed from the chunk before anything is locked (the usual
 * re-import of rows not known by their digest): the subscriber exists with exactly this profile,
 * and every listed channel is active with this very evidence already recorded (same source,
 * instant and address). The full merge would leave such a row alone (no write, no event, no
 * opt-out kept, no planning); one statement decides, so one snapshot: a change committed after
 * it comes after the import. Probes by index, per row: cost follows the chunk, not the tables.
 *
 * Such a subscriber is given the row's digest (import.digest.ts), so that the next import skips
 * the row without validating it; only on the row version this statement looked at (its xmin):
 * an opt-out, a bounce or an edit committed since made a new version (the triggers of
 * 1796570000000_import-digests.sql), and the digest is then not set. Returns how many went.
 */
export async function removeUnchanged(sql: Sql): Promise<number> {
  // Index probes even when the statistics say the tables are empty (a first import, before its
  // closing ANALYZE): a sequential scan per row over the rows another chunk is writing, which
  // it must still visit, ran for minutes. (Join methods are left to the planner: with hash and
  // merge joins off, a first import's planner, believing subscribers empty, looped over it and
  // scanned the chunk for each of its rows: minutes again, measured.)
  await sql.exec('SET LOCAL enable_seqscan = off');
  const row = await sql.one<{ removed: number }>(`
    WITH removed AS (
      DELETE FROM import_rows r
       WHERE EXISTS (
               SELECT 1 FROM subscribers s
                WHERE s.id = r.id
                  AND (s.name, s.phone, s.email, s.locale, s.timezone, s.tags, s.attributes)
                      IS NOT DISTINCT FROM
                      (r.name, r.phone, r.email, r.locale, r.timezone, r.tags, ${MERGED_ATTRIBUTES('s')}))
         AND NOT EXISTS (
               SELECT 1 FROM unnest(r.channels) AS listed (channel)
                WHERE NOT EXISTS (
                        SELECT 1 FROM subscriber_channels c
                         WHERE c.subscriber_id = r.id AND c.channel = listed.channel AND c.state = 'active')
                   OR NOT EXISTS (
                        SELECT 1 FROM consent_events e
                         WHERE e.subscriber_id = r.id AND e.occurred_at = r.consent_at
                           AND e.channel = listed.channel AND e.kind = 'import' AND e.source = r.consent_source
                           AND e.evidence->>'address' =
                               CASE listed.channel WHEN 'whatsapp' THEN r.phone ELSE r.email END))
      RETURNING r.id, r.import_digest),
    -- The version of each row this statement's snapshot saw (one probe a row with a digest).
    seen AS (
      SELECT m.id, m.import_digest, s.xmin AS version, s.import_digest AS stored
        FROM removed m JOIN subscribers s ON s.id = m.id
       WHERE m.import_digest IS NOT NULL),
    stamped AS (
      UPDATE subscribers s SET import_digest = v.import_digest
        FROM seen v
       WHERE s.id = v.id AND v.stored IS DISTINCT FROM v.import_digest AND s.xmin = v.version)
    SELECT count(*)::int AS removed FROM removed`);
  await sql.exec('RESET enable_seqscan');
  return row?.removed ?? 0;
}

/**
 * Locks the subscribers holding any id, phone or email of the chunk (in id order: two imports
 * of overlapping files take the locks in one order) and keeps what they were in import_before.
 */
export async function lockBefore(sql: Sql): Promise<number> {
  await sql.exec(`
    DROP TABLE IF EXISTS import_before;
    CREATE TEMP TABLE import_before (id text, phone text, email text, timezone text, tags text[], attributes jsonb)
      ON COMMIT DROP`);
  // One pass over subscribers, each row probing three hash tables of the chunk's ids, phones
  // and emails (hashed sub-plans): about a third of the time of three joins, each its own pass.
  return sql.exec(`
    INSERT INTO import_before
    SELECT id, phone, email, timezone, tags, attributes FROM subscribers
     WHERE id IN (SELECT id FROM import_rows)
        OR phone IN (SELECT phone FROM import_rows WHERE phone IS NOT NULL)
        OR email IN (SELECT email FROM import_rows WHERE email IS NOT NULL)
     ORDER BY id FOR UPDATE OF subscribers`);
}

/** Rows whose phone or email belongs to another subscriber, removed from the chunk. */
export async function removeTaken(sql: Sql): Promise<BadLine[]> {
  const rows = await sql.query<{ line: number; phone_holder: string | null; email_holder: string | null }>(
    `WITH taken AS (
       SELECT r.line, nullif(bp.id, r.id) AS phone_holder, nullif(be.id, r.id) AS email_holder
         FROM import_rows r
         LEFT JOIN import_before bp ON bp.phone = r.phone
         LEFT JOIN import_before be ON be.email = r.email
        WHERE bp.id <> r.id OR be.id <> r.id)
     DELETE FROM import_rows r USING taken t WHERE r.line = t.line
     RETURNING t.line, t.phone_holder, t.email_holder`,
  );
  return rows.map((r) => ({
    line: r.line,
    problems: (['phone', 'email'] as const).flatMap((field) => {
      const holder = field === 'phone' ? r.phone_holder : r.email_holder;
      return holder === null
        ? []
        : [{ path: field, rule: `already belongs to another subscriber (id ${holder})` }];
    }),
  }));
}

/**
 * Inserts new subscribers and overwrites changed ones (never `done_at`: only the person says
 * they are done); rows identical to what is stored are not touched. What changed goes to
 * import_written. A new subscriber gets its row's digest at once (every listed channel of a
 * newcomer is activated with the row's evidence); an existing one gets it from storeDigests.
 */
export async function upsertSubscribers(
  sql: Sql,
  now: number,
): Promise<{ inserted: number; updated: number }> {
  await sql.exec(`
    DROP TABLE IF EXISTS import_written;
    CREATE TEMP TABLE import_written (id text, inserted boolean) ON COMMIT DROP`);
  await sql.exec(
    `WITH written AS (
       INSERT INTO subscribers (id, name, phone, email, locale, timezone, attributes, tags, created_at, updated_at,
                                phone_region, import_digest)
       SELECT r.id, r.name, r.phone, r.email, r.locale, r.timezone, ${MERGED_ATTRIBUTES('b')}, r.tags, $1, $1,
              r.phone_region, r.import_digest
         FROM import_rows r LEFT JOIN import_before b ON b.id = r.id
        ORDER BY r.line
       ON CONFLICT (id) DO UPDATE
          SET name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email, locale = EXCLUDED.locale,
              timezone = EXCLUDED.timezone, attributes = EXCLUDED.attributes, tags = EXCLUDED.tags,
              updated_at = EXCLUDED.updated_at, phone_region = EXCLUDED.phone_region
        WHERE (subscribers.name, subscribers.phone, subscribers.email, subscribers.locale, subscribers.timezone,
               subscribers.attributes, subscribers.tags, subscribers.phone_region)
              IS DISTINCT FROM
              (EXCLUDED.name, EXCLUDED.phone, EXCLUDED.email, EXCLUDED.locale, EXCLUDED.timezone,
               EXCLUDED.attributes, EXCLUDED.tags, EXCLUDED.phone_region)
       RETURNING id, (xmax = 0) AS inserted)
     INSERT INTO import_written SELECT id, inserted FROM written`,
    [new Date(now)],
  );
  const row = await sql.one<{ inserted: number; updated: number }>(
    `SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated
       FROM import_written`,
  );
  return row ?? { inserted: 0, updated: 0 };
}

/**
 * The chunk's subscribers inserted with a plain INSERT, when none of its ids, phones or emails is
 * stored yet (a first import): nothing is locked or read first (lockBefore's pass over
 * subscribers) and no row arbitrates a conflict (the upsert's ON CONFLICT). Writes what
 * upsertSubscribers writes for a new subscriber. When a row's id, phone or email is stored after
 * all (an earlier import, a sign-up, even one committed while this waits on it), the insert fails
 * with a unique violation: the caller runs this in a savepoint and then merges the chunk the
 * ordinary way (import.service.ts, docs/subscribers.md "How an import works"). No ORDER BY:
 * a subscriber's place in the table means nothing, and sorting the chunk by line cost about
 * 0.2 s of the statement's 5 (EXPLAIN ANALYZE of a 100,000-row chunk); the consent events keep
 * the file's order.
 */
export async function insertNewcomers(sql: Sql, now: number): Promise<number> {
  return sql.exec(
    `INSERT INTO subscribers (id, name, phone, email, locale, timezone, attributes, tags, created_at, updated_at,
                              phone_region, import_digest)
     SELECT r.id, r.name, r.phone, r.email, r.locale, r.timezone, ${MERGED_ATTRIBUTES('n')}, r.tags, $1, $1,
            r.phone_region, r.import_digest
       FROM import_rows r CROSS JOIN (SELECT NULL::jsonb AS attributes) n`,
    [new Date(now)],
  );
}

/**
 * Decides each (row, channel) by the rules above into import_decisions: 'activate', 'end'
 * (the address changed under an unlisted channel) or 'kept' (an opt-out, bounce or complaint
 * newer than the evidence). Rows with nothing to do get no decision.
 */
export async function decideChannels(sql: Sql, existing: number): Promise<void> {
  if (existing === 0) return decideForNewcomers(sql);
  // Hash joins over the chunk rather than a sub-query per row: the opt-outs and the import
  // evidence of the chunk's existing subscribers are read once.
  await sql.exec(`DROP TABLE IF EXISTS import_decisions;
    CREATE TEMP TABLE import_decisions ON COMMIT DROP AS
    -- The chunk's channels in one pass over subscriber_channels (a hashed sub-plan), rather
    -- than a join whose plan, on a staging table without statistics, hashes the whole table.
    WITH channels AS MATERIALIZED (
      SELECT subscriber_id, channel, state, consent_at FROM subscriber_channels
       WHERE subscriber_id IN (SELECT id FROM import_before)),
    facts AS (
      SELECT r.id, r.line, ch.channel, ch.position, r.consent_at, r.consent_source,
             ch.channel = ANY (r.channels) AS listed,
             CASE ch.channel WHEN 'whatsapp' THEN r.phone ELSE r.email END AS address,
             b.id IS NOT NULL AND CASE ch.channel WHEN 'whatsapp' THEN b.phone ELSE b.email END
               IS DISTINCT FROM CASE ch.channel WHEN 'whatsapp' THEN r.phone ELSE r.email END AS address_changed,
             c.state, c.consent_at AS current_consent_at
        FROM import_rows r
        CROSS JOIN (VALUES ('whatsapp', 0), ('email', 1)) AS ch (channel, position)
        LEFT JOIN import_before b ON b.id = r.id
        LEFT JOIN channels c ON c.subscriber_id = r.id AND c.channel = ch.channel),
    -- One pass over the consent events of the chunk's existing subscribers, for both uses.
    events AS MATERIALIZED (
      SELECT e.subscriber_id, e.channel, e.kind, e.source, e.occurred_at, e.evidence->>'address' AS address
        FROM consent_events e
       WHERE e.subscriber_id IN (SELECT id FROM import_before)
         AND e.kind IN ('import', 'opt_out', 'bounce', 'complaint')),
    -- The latest end of each channel: an opt-out, a bounce or a complaint.
    opt_outs AS (
      SELECT subscriber_id, channel, max(occurred_at) AS at FROM events
       WHERE kind IN ('opt_out', 'bounce', 'complaint')
       GROUP BY subscriber_id, channel),
    evidence AS (
      SELECT DISTINCT subscriber_id, channel, source, occurred_at, address FROM events WHERE kind = 'import')
    SELECT * FROM (
      SELECT f.*,
             CASE
               WHEN NOT f.listed THEN
                 CASE WHEN f.address_changed AND f.state IN ('active', 'pending') THEN 'end' END
               WHEN (f.state IN ('unsubscribed', 'stopped', 'complained')
                     OR (f.state = 'bounced' AND NOT f.address_changed))
                    AND f.consent_at <= o.at THEN 'kept'
               WHEN f.state = 'active' AND NOT f.address_changed AND k.subscriber_id IS NOT NULL THEN NULL
               ELSE 'activate'
             END AS action
        FROM facts f
        LEFT JOIN opt_outs o ON o.subscriber_id = f.id AND o.channel = f.channel
        LEFT JOIN evidence k
               ON k.subscriber_id = f.id AND k.channel = f.channel AND k.source = f.consent_source
              AND k.occurred_at = f.consent_at AND k.address = f.address
    ) decided
    WHERE action IS NOT NULL`);
}

/**
 * The decisions when no row of the chunk exists yet (a first import): every listed channel is
 * activated, nothing else happens. Read straight from the staging table, without the joins with
 * the channel and event tables (which a planner without statistics on the chunk runs as full
 * scans, once a chunk).
 */
const NEWCOMER_DECISIONS = `
    SELECT r.id, r.line, ch.channel, ch.position, r.consent_at, r.consent_source, true AS listed,
           CASE ch.channel WHEN 'whatsapp' THEN r.phone ELSE r.email END AS address,
           false AS address_changed, NULL::text AS state, NULL::timestamptz AS current_consent_at,
           'activate' AS action
      FROM import_rows r
      CROSS JOIN (VALUES ('whatsapp', 0), ('email', 1)) AS ch (channel, position)
     WHERE ch.channel = ANY (r.channels)`;

/** The decisions of a chunk with no existing subscriber, kept for the statements that follow. */
async function decideForNewcomers(sql: Sql): Promise<void> {
  await sql.exec(`DROP TABLE IF EXISTS import_decisions;
    CREATE TEMP TABLE import_decisions ON COMMIT DROP AS ${NEWCOMER_DECISIONS}`);
}

/** The source of writeDecisions for a chunk that went through insertNewcomers: its decisions
 *  read where they are written, rather than kept in a table first (nothing else reads them). */
export const NEWCOMERS = `(${NEWCOMER_DECISIONS}) AS newcomers`;

/**
 * Writes the decided channel states and their consent events (in file order). `fresh`: every
 * subscriber of the chunk was just inserted by this transaction, so none can have a channel yet
 * and a plain insert does (about a fifth faster than the upsert, measured). `decisions`: where
 * the decisions are read (NEWCOMERS for a chunk of newcomers). Returns the number of consent
 * events written.
 */
export async function writeDecisions(
  sql: Sql,
  now: number,
  file: string,
  fresh = false,
  decisions = 'import_decisions',
): Promise<number> {
  await sql.exec(
    `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at, created_at, updated_at)
     SELECT id, channel, CASE action WHEN 'end' THEN 'unsubscribed' ELSE 'active' END,
            CASE action WHEN 'end' THEN current_consent_at ELSE consent_at END, $1, $1
       FROM ${decisions} WHERE action IN ('activate', 'end')
     ${
       fresh
         ? ''
         : `ON CONFLICT (subscriber_id, channel) DO UPDATE
        SET state = EXCLUDED.state, consent_at = EXCLUDED.consent_at, updated_at = EXCLUDED.updated_at`
     }`,
    [new Date(now)],
  );
  return sql.exec(
    `INSERT INTO consent_events (subscriber_id, channel, kind, source, evidence, occurred_at, recorded_at)
     SELECT id, channel,
            CASE action WHEN 'end' THEN 'opt_out' ELSE 'import' END,
            CASE action WHEN 'end' THEN 'import' ELSE consent_source END,
            CASE action
              WHEN 'end' THEN jsonb_build_object('reason', 'address-changed', 'previousState', state,
                                                 'file', $2::text, 'line', line)
              ELSE jsonb_build_object('address', address,
                                      'consentAt', to_char(consent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                      'file', $2::text, 'line', line)
                   || CASE WHEN state IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('previousState', state) END
            END,
            CASE action WHEN 'end' THEN $1 ELSE consent_at END, $1
       FROM ${decisions} WHERE action IN ('activate', 'end')
      ORDER BY line, position`,
    [new Date(now), file],
  );
}

/**
 * After the chunk's writes, each of its subscribers keeps its row's digest when the row left
 * it exactly as the record says (no listed channel kept off by an opt-out, a bounce or a
 * complaint), and none otherwise (import.digest.ts). The rows are locked (lockBefore).
 */
export async function storeDigests(sql: Sql): Promise<void> {
  await sql.exec(`
    UPDATE subscribers s SET import_digest = x.digest
      FROM (SELECT r.id,
                   CASE WHEN NOT EXISTS (SELECT 1 FROM import_decisions d WHERE d.id = r.id AND d.action = 'kept')
                        THEN r.import_digest END AS digest
              FROM import_rows r) x
     WHERE s.id = x.id AND s.import_digest IS DISTINCT FROM x.digest`);
}

export interface ChunkCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly consentEvents: number;
  readonly optOutsKept: number;
}

/** The chunk's outcome per row: inserted, updated (profile or any channel), unchanged. */
export async function chunkCounts(sql: Sql): Promise<ChunkCounts> {
  const row = await sql.one<ChunkCounts>(
    `WITH changed AS (
       SELECT id, count(*) FILTER (WHERE action <> 'kept') AS written, count(*) FILTER (WHERE action = 'kept') AS kept
         FROM import_decisions GROUP BY id)
     SELECT count(*) FILTER (WHERE w.inserted)::int AS inserted,
            count(*) FILTER (WHERE NOT w.inserted OR (w.id IS NULL AND c.written > 0))::int AS updated,
            count(*) FILTER (WHERE w.id IS NULL AND coalesce(c.written, 0) = 0)::int AS unchanged,
            coalesce(sum(c.written), 0)::int AS "consentEvents",
            coalesce(sum(c.kept), 0)::int AS "optOutsKept"
       FROM import_rows r
       LEFT JOIN import_written w ON w.id = r.id
       LEFT JOIN changed c ON c.id = r.id`,
  );
  return row!;
}

/** Subscribers to plan into running campaigns: new, moved zone, changed tags or attributes (an
 *  audience may now include them), or gained a channel. `newcomers`: the chunk went through
 *  insertNewcomers. */
export async function joiners(sql: Sql, newcomers = false): Promise<string[]> {
  if (newcomers) {
    // insertNewcomers: every row of the chunk is a new subscriber (and there is no import_before).
    return (await sql.query<{ id: string }>('SELECT id FROM import_rows ORDER BY line')).map((r) => r.id);
  }
  const rows = await sql.query<{ id: string }>(
    `SELECT r.id FROM import_rows r LEFT JOIN import_before b ON b.id = r.id
      WHERE b.id IS NULL OR b.timezone <> r.timezone OR b.tags IS DISTINCT FROM r.tags
         OR b.attributes IS DISTINCT FROM ${MERGED_ATTRIBUTES('b')}
         OR EXISTS (SELECT 1 FROM import_decisions d
                     WHERE d.id = r.id AND d.action = 'activate' AND d.state IS DISTINCT FROM 'active')
      ORDER BY r.line`,
  );
  return rows.map((r) => r.id);
}
