// The subscribers CSV (docs/subscribers.md, "The CSV": scripts rely on its columns), read as a
// stream: one validated row at a time, so a file of any size costs the same memory (plus 12 bytes a
// key for duplicates). UTF-8 with or without BOM, comma or semicolon (decided by the header line),
// CRLF or LF, quoted fields with delimiters and line breaks inside. Every row comes back with the
// line it starts on; a bad row is reported and the next one read. Only a file that cannot be read
// as CSV at all (not UTF-8, bad header, unclosed quote, a record over 128,000 characters) stops the
// reading, with an InvalidInput. A file given by path is checked for UTF-8 whole before its first
// row comes out, so an encoding refusal never leaves part of it imported; a stream is checked as it
// flows (utf8-lines.ts).
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type CsvError, type InfoRecord, type Options, parse } from 'csv-parse';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import { restoreFreeText } from './csv-formulas.ts';
import { SeenKeys } from './seen-keys.ts';
import {
  ATTRIBUTE_NAME,
  ATTRIBUTE_NAME_RULE,
  ATTRIBUTE_PREFIX,
  type SubscriberInput,
  type SubscriberResult,
  validateSubscriber,
} from './subscriber.schema.ts';
import { checkUtf8File, Utf8Lines } from './utf8-lines.ts';

export const REQUIRED_COLUMNS = [
  'id',
  'name',
  'phone',
  'email',
  'locale',
  'timezone',
  'channels',
  'consent_at',
  'consent_source',
] as const;
/** Besides these, any number of `attr.<name>` columns. `assistant` is the attribute of the
 *  shipped campaign under its old column name (it is `attr.assistant`). */
export const OPTIONAL_COLUMNS = ['assistant', 'tags'] as const;
const KNOWN_COLUMNS: readonly string[] = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS];

export type CsvRow =
  | {
      readonly line: number;
      readonly ok: true;
      readonly value: SubscriberInput;
      /** Accepted with a change worth saying (validateSubscriber's notes). */
      readonly notes?: readonly Problem[];
    }
  | { readonly line: number; readonly ok: false; readonly problems: readonly Problem[] };

export interface CsvReadOptions {
  /** Consent dated after this instant (epoch ms) is refused. */
  readonly now?: number;
  /** How to name a Readable source in errors (a path names itself). */
  readonly label?: string;
}

/** The header line decides: more semicolons than commas outside quotes → semicolon. */
export function detectDelimiter(head: string): ',' | ';' {
  const firstLine = head.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/, 1)[0] ?? '';
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ',') commas++;
    else if (!quoted && ch === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/**
 * Header names are matched trimmed and case-insensitively. Unknown columns are refused with
 * the rest: a misspelt optional `tags` column would otherwise drop every row's tags silently.
 */
export function headerProblems(names: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const expected = `expected: ${REQUIRED_COLUMNS.join(', ')} and optionally ${OPTIONAL_COLUMNS.join(', ')} and attr.<name> columns`;
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      problems.push({ path: 'header', value: JSON.stringify(name), rule: 'column named twice' });
    else if (name.startsWith(ATTRIBUTE_PREFIX)) {
      if (!ATTRIBUTE_NAME.test(name.slice(ATTRIBUTE_PREFIX.length)))
        problems.push({ path: 'header', value: JSON.stringify(name), rule: ATTRIBUTE_NAME_RULE });
    } else if (!KNOWN_COLUMNS.includes(name)) {
      problems.push({ path: 'header', value: JSON.stringify(name), rule: `unknown column (${expected})` });
    }
    seen.add(name);
  }
  if (seen.has('assistant') && seen.has(`${ATTRIBUTE_PREFIX}assistant`)) {
    problems.push({
      path: 'header',
      value: '"assistant"',
      rule: 'names the attribute attr.assistant, which has its own column too: keep one of them',
    });
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    problems.push({
      path: 'header',
      rule: `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    });
  }
  return problems;
}

const HEAD_LIMIT = 64 * 1024;

/** Reads chunks until the first line break (or EOF, or 64 KiB) is in hand. */
async function readHead(chunks: AsyncIterator<Buffer | string>, label: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  try {
    while (length < HEAD_LIMIT) {
      const next = await chunks.next();
      if (next.done) break;
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      parts.push(chunk);
      length += chunk.length;
      if (chunk.includes(0x0a) || chunk.includes(0x0d)) break;
    }
  } catch (error) {
    throw unreadable(error, label);
  }
  return Buffer.concat(parts);
}

function unreadable(error: unknown, label: string): InvalidInput {
  const code = (error as NodeJS.ErrnoException).code;
  const rule = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String(error);
  return new InvalidInput(`Cannot read subscribers file ${label}`, [{ path: label, rule }]);
}

/** The head, then the rest of the chunks; with `check`, only bytes already checked as UTF-8. */
async function* replay(
  head: Buffer,
  rest: AsyncIterator<Buffer | string>,
  check: Utf8Lines | undefined,
): AsyncGenerator<Buffer> {
  const checked = (chunk: Buffer | string): Buffer => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    return check ? check.push(bytes) : bytes;
  };
  for (
    let next: IteratorResult<Buffer | string> = { done: false, value: head };
    !next.done;
    next = await rest.next()
  ) {
    const bytes = checked(next.value);
    if (bytes.length > 0) yield bytes;
  }
  check?.end();
}

const CSV_RULES: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field starting in this record is never closed (a missing ")',
  CSV_INVALID_CLOSING_QUOTE:
    'a closing quote is followed by other text; write a " inside a quoted field as ""',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE:
    'a closing quote is followed by other text; write a " inside a quoted field as ""',
  CSV_MAX_RECORD_SIZE: 'the record is longer than 128,000 characters (a missing closing quote?)',
};
/** No valid record comes near it (names 200, sources 500, emails 254 characters); it bounds
 *  the memory a missing closing quote or a runaway field can take. */
const MAX_RECORD_SIZE = 128_000;

function countBreaks(value: string): { breaks: number; crlf: number } {
  let breaks = 0;
  let crlf = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d && value.charCodeAt(i + 1) === 0x0a) {
      crlf++;
      breaks++;
      i++;
    } else if (c === 0x0a || c === 0x0d) breaks++;
  }
  return { breaks, crlf };
}

/** Records per batch of readCsvRecords. */
export const RECORDS_PER_BATCH = 2_000;

/** A record the sifter saw no digest for (it spans lines, or there is no sifter). */
export const SIFTED_NONE = -2;
/** A one-line record the sifter did not know: RecordSifter.digest holds its raw digest. */
export const SIFTED_RAW = -1;

/** Looks at the file's bytes before csv-parse does (import.sift.ts: a re-import's known records
 *  reach the parser as empty fields). */
export interface RecordSifter {
  /** The bytes to parse, from the file's. */
  run(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer>;
  /** Adds to `batch` the known records it sent the parser as empty lines before `line`
   *  (asked in file order), then says what it knows of the record starting on `line`: an
   *  index >= 0, SIFTED_RAW (its digest then in `digest`) or SIFTED_NONE. */
  take(line: number, batch: CsvBatch): number;
  readonly digest: Uint32Array;
}

/**
 * Records of the file in batches, in file order: each record's fields (as csv-parse gives them,
 * trimmed, in header order) and the line it starts on, and the rows refused before validation
 * (a wrong number of fields) with theirs. `names` is the checked header (trimmed, lower case).
 */
export interface CsvBatch {
  readonly names: readonly string[];
  readonly lines: number[];
  readonly fields: string[][];
  /** Rows refused as records (their lines fall among this batch's records'). */
  readonly skipped: { readonly line: number; readonly ok: false; readonly problems: readonly Problem[] }[];
  /** With a sifter: per record, what RecordSifter.take said, and 4 words each of the digests
   *  of those it said SIFTED_RAW of (zeros for the others). */
  readonly sifted?: { readonly kinds: number[]; readonly digests: number[] };
}

/**
 * The file's records, RECORDS_PER_BATCH at a time (a smaller last one). A file that cannot be
 * read as CSV (not UTF-8, bad header, unclosed quote…) throws an InvalidInput where it breaks,
 * after the batch holding the records before the break.
 */
export async function* readCsvRecords(
  source: string | Readable,
  opts: CsvReadOptions & {
    readonly batchRecords?: number;
    /** Made once the delimiter is known. */
    readonly sifter?: (delimiter: ',' | ';') => RecordSifter;
  } = {},
): AsyncGenerator<CsvBatch> {
  const label = typeof source === 'string' ? source : (opts.label ?? 'input');
  const size = opts.batchRecords ?? RECORDS_PER_BATCH;
  if (typeof source === 'string') {
    try {
      await checkUtf8File(createReadStream(source), label);
    } catch (error) {
      throw error instanceof InvalidInput ? error : unreadable(error, label);
    }
  }
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const chunks: AsyncIterator<Buffer | string> = input[Symbol.asyncIterator]();
  // Line bookkeeping. csv-parse's info.lines is the line a record ends on, but it counts a
  // CRLF *inside a quoted field* as two lines (for the rest of the file); `crlfSeen` undoes
  // that. A record starts after the previous one ends and any empty lines between them.
  let crlfSeen = 0;
  let lastEnd = 0;
  let lastEmpty = 0;
  let names: string[] | undefined;
  let sifter: RecordSifter | undefined;
  const fresh = (): CsvBatch => ({
    names: names!,
    lines: [],
    fields: [],
    skipped: [],
    ...(sifter === undefined ? {} : { sifted: { kinds: [], digests: [] } }),
  });
  let batch: CsvBatch | undefined;
  /** Full batches the parser passed on and the loop below has not taken yet: a parser that
   *  fails drops what it holds, and these rows come before the failure. */
  const passed: CsvBatch[] = [];
  try {
    const head = await readHead(chunks, label);
    const delimiter = detectDelimiter(head.toString('utf8'));
    sifter = opts.sifter?.(delimiter);
    const options: Options<CsvBatch, string[]> = {
      max_record_size: MAX_RECORD_SIZE,
      // Every line end, whatever the first one was: csv-parse otherwise takes the first line's
      // end for the whole file, so in a CRLF file a line ending in a bare LF (rows pasted from
      // elsewhere) merged with the next row, and in an LF file a CRLF line shifted every later
      // line number by one. CRLF first, so that it is one line end and not two.
      record_delimiter: ['\r\n', '\n', '\r'],
      bom: true,
      delimiter,
      trim: true,
      relax_quotes: true,
      relax_column_count: false,
      skip_empty_lines: true,
      skip_records_with_error: true,
      // Records as arrays (csv-parse's objects per record cost a third of its time, measured);
      // the first one is the header. Records are gathered into batches here, and the parser
      // passes on whole batches only.
      columns: false,
      on_record: (fields: string[], info: InfoRecord): CsvBatch | undefined => {
        if (names === undefined) {
          const header = fields.map((name) => name.trim().toLowerCase());
          const problems = headerProblems(header);
          if (problems.length > 0)
            throw new InvalidInput(`Subscribers file ${label} has a bad header line`, problems);
          names = header;
          lastEnd = info.lines;
          lastEmpty = info.empty_lines;
          return undefined;
        }
        let breaks = 0;
        for (const value of fields) {
          if (value.includes('\n') || value.includes('\r')) {
            const counted = countBreaks(value);
            breaks += counted.breaks;
            crlfSeen += counted.crlf;
          }
        }
        lastEnd = info.lines - crlfSeen;
        lastEmpty = info.empty_lines;
        batch ??= fresh();
        const line = lastEnd - breaks;
        // The known records before this one first (file order).
        const kind = sifter?.take(line, batch) ?? SIFTED_NONE;
        batch.lines.push(line);
        batch.fields.push(fields);
        if (sifter !== undefined) {
          // The sifter only speaks of one-line records.
          const sifted = batch.sifted!;
          sifted.kinds.push(breaks === 0 ? kind : SIFTED_NONE);
          const d = sifter.digest;
          if (breaks === 0 && kind === SIFTED_RAW) sifted.digests.push(d[0]!, d[1]!, d[2]!, d[3]!);
          else sifted.digests.push(0, 0, 0, 0);
        }
        if (batch.lines.length < size) return undefined;
        const full = batch;
        batch = undefined;
        passed.push(full);
        return full;
      },
      on_skip: (error: CsvError | undefined) => {
        const line = lastEnd + 1 + (parser.info.empty_lines - lastEmpty);
        // A skipped record's quoted CRLFs were counted twice too.
        if (Array.isArray(error?.record))
          for (const value of error.record)
            if (typeof value === 'string') crlfSeen += countBreaks(value).crlf;
        lastEnd = parser.info.lines - crlfSeen;
        lastEmpty = parser.info.empty_lines;
        const code = error?.code ?? 'CSV_UNKNOWN_ERROR';
        if (code !== 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
          // csv-parse's own messages may quote field values (personal data): never echoed.
          const rule = CSV_RULES[code] ?? `unreadable record (${code})`;
          throw new InvalidInput(`Subscribers file ${label} is not valid CSV`, [
            { path: `line ${line}`, rule },
          ]);
        }
        const got = Array.isArray(error?.record) ? error.record.length : undefined;
        const rule = `has ${got ?? 'a different number of'} fields, the header has ${names?.length ?? 'another number'} (a missing or extra delimiter, or an unquoted field containing one?)`;
        batch ??= fresh();
        batch.skipped.push({ line, ok: false, problems: [{ path: 'row', rule }] });
        return undefined;
      },
    };
    // csv-parse types on_record as returning a record; it passes on whatever it returns.
    // One batch waiting in the parser at most (its default is 16: 32,000 records in memory).
    const parser = parse({ ...options, readableHighWaterMark: 1 } as unknown as Options);
    const bytes = replay(head, chunks, typeof source === 'string' ? undefined : new Utf8Lines(label));
    const feeding = pipeline(Readable.from(sifter === undefined ? bytes : sifter.run(bytes)), parser);
    // Errors surface through the iteration below; a consumer stopping early also ends up here.
    feeding.catch(() => undefined);
    try {
      for await (const full of parser as AsyncIterable<CsvBatch>) {
        passed.shift();
        yield full;
      }
      await feeding;
    } catch (error) {
      // The records read before the break come first (the import keeps the chunks before it).
      while (passed.length > 0) yield passed.shift()!;
      if (batch !== undefined) {
        const partial = batch;
        batch = undefined;
        yield partial;
      }
      throw error;
    }
    if (batch !== undefined) yield batch;
    if (names === undefined) {
      throw new InvalidInput(`Subscribers file ${label} is empty`, [
        {
          path: 'header',
          rule: `expected a header line: ${[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].join(',')}`,
        },
      ]);
    }
  } finally {
    input.destroy();
  }
}

/** One record's fields by column name, the free-text columns restored, then validated. */
export function validateRecord(
  names: readonly string[],
  fields: readonly string[],
  now: number | undefined,
): SubscriberResult {
  const record: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) record[names[i]!] = fields[i]!;
  return validateSubscriber(restoreFreeText(record), now === undefined ? {} : { now });
}

/** The keys a valid row claims in the duplicate check, in DUPLICATE_FIELDS order. */
export const DUPLICATE_FIELDS = ['id', 'phone', 'email'] as const;
export function duplicateKeys(value: SubscriberInput): (string | undefined)[] {
  return [`id:${value.id}`, value.phone && `phone:${value.phone}`, value.email && `email:${value.email}`];
}

/** The problems of a row whose keys appeared on earlier lines (`earlier`: 0 for a new key). */
export function duplicateProblems(earlier: readonly number[]): Problem[] {
  const problems: Problem[] = [];
  DUPLICATE_FIELDS.forEach((field, i) => {
    const first = earlier[i]!;
    if (first !== 0)
      problems.push({ path: field, rule: `already used on line ${first}: each ${field} once per file` });
  });
  return problems;
}

export async function* readSubscriberCsv(
  source: string | Readable,
  opts: CsvReadOptions = {},
): AsyncGenerator<CsvRow> {
  const seen = new SeenKeys();
  // Small batches: a reader that stops early (or a slow consumer) holds few records.
  for await (const batch of readCsvRecords(source, { ...opts, batchRecords: 64 })) {
    const skipped = batch.skipped;
    let s = 0;
    for (let i = 0; i < batch.lines.length; i++) {
      const line = batch.lines[i]!;
      while (s < skipped.length && skipped[s]!.line < line) yield skipped[s++]!;
      yield checkRow(batch.names, line, batch.fields[i]!, seen, opts.now);
    }
    while (s < skipped.length) yield skipped[s++]!;
  }
}

/** Validates one record, then refuses it if its id, phone or email appeared on an earlier row. */
function checkRow(
  names: readonly string[],
  line: number,
  fields: readonly string[],
  seen: SeenKeys,
  now: number | undefined,
): CsvRow {
  const result = validateRecord(names, fields, now);
  if (!result.ok) return { line, ok: false, problems: result.problems };
  const { value } = result;
  const problems = duplicateProblems(seen.claim(duplicateKeys(value), line));
  if (problems.length > 0) return { line, ok: false, problems };
  return result.notes ? { line, ok: true, value, notes: result.notes } : { line, ok: true, value };
}
