// Validation of a batch of CSV records into COPY text for the import's staging table
// (docs/subscribers.md, "How an import works"). Pure: it runs in a worker thread
// (import.worker.ts) for a big file, or in the importing thread for the first rows. What it hands
// back is typed arrays and bytes, which a worker transfers without copying: the staging lines of
// the valid records, where each ends, and the hashes of their ids, phones and emails for the
// duplicate check, which stays in the importing thread (it needs the file's order).
import type { Problem } from '../shared/errors.ts';
import { DUPLICATE_FIELDS, duplicateKeys, SIFTED_NONE, SIFTED_RAW, validateRecord } from './csv.ts';
import { keyHash } from './hash.ts';
import {
  DIGEST_WORDS,
  digestInto,
  digestSeed,
  findKnown,
  type KnownDigests,
  knownKeys,
  storedDigestHex,
} from './import.digest.ts';
import { stagingLine } from './import.staging.ts';

export interface CheckTask {
  readonly names: readonly string[];
  readonly lines: readonly number[];
  readonly fields: readonly (readonly string[])[];
  /** Consent dated after this instant is refused. */
  readonly now: number;
  /** Set: each valid row carries the tombstone hashes of its phone and email. */
  readonly hashKey?: string | undefined;
  /** The digests stored when the import began (import.digest.ts): a record found there is
   *  unchanged and is not validated. */
  readonly known?: KnownDigests | undefined;
  /** What the sifter said of each record (csv.ts's CsvBatch.sifted): a known entry, or the raw
   *  digest of a one-line record (stored instead of its fields' digest). */
  readonly sifted?: { readonly kinds: readonly number[]; readonly digests: readonly number[] } | undefined;
}

export interface LineProblems {
  readonly line: number;
  readonly problems: readonly Problem[];
}

export interface CheckedBatch {
  /** Every record's line, in file order. */
  readonly lines: readonly number[];
  /** Per record: 1 valid, 2 known unchanged by its digest (valid, not validated again, no
   *  staging line: its text is empty), 0 refused (its problems are in `bad`). */
  readonly valid: Uint8Array;
  readonly bad: readonly LineProblems[];
  /** Valid rows accepted with a change worth saying. */
  readonly notes: readonly LineProblems[];
  /** The valid records' staging lines, one after the other (UTF-8). */
  readonly text: Uint8Array;
  /** Per valid record, the byte offset in `text` where its line ends. */
  readonly ends: Uint32Array;
  /** Per valid record, the 64-bit hashes of its id, phone and email keys (6 words). */
  readonly keys: Uint32Array;
  /** Per valid record, bit i set when key i (DUPLICATE_FIELDS order) exists. */
  readonly present: Uint8Array;
  readonly hashed: boolean;
}

const KEYS = DUPLICATE_FIELDS.length;
const encoder = new TextEncoder();

export function checkBatch(task: CheckTask): CheckedBatch {
  const count = task.lines.length;
  const valid = new Uint8Array(count);
  const bad: LineProblems[] = [];
  const notes: LineProblems[] = [];
  const staged: string[] = [];
  const keys = new Uint32Array(count * KEYS * 2);
  const present = new Uint8Array(count);
  let chars = 0;
  const seed = digestSeed(task.names);
  const digest = new Uint32Array(DIGEST_WORDS);
  for (let i = 0; i < count; i++) {
    const line = task.lines[i]!;
    const fields = task.fields[i]!;
    const kind = task.sifted?.kinds[i] ?? SIFTED_NONE;
    let found = kind >= 0 ? kind : -1;
    if (kind === SIFTED_RAW)
      for (let w = 0; w < DIGEST_WORDS; w++) digest[w] = task.sifted!.digests[i * 4 + w]!;
    else if (kind === SIFTED_NONE) {
      digestInto(seed, fields, digest, 0);
      found = task.known === undefined ? -1 : findKnown(task.known, digest, 0);
    }
    if (found >= 0) {
      valid[i] = 2;
      const v = staged.length;
      present[v] = knownKeys(task.known!, found, keys, v * KEYS * 2);
      staged.push('');
      continue;
    }
    const result = validateRecord(task.names, fields, task.now);
    if (!result.ok) {
      bad.push({ line, problems: result.problems });
      continue;
    }
    valid[i] = 1;
    if (result.notes) notes.push({ line, problems: result.notes });
    const v = staged.length;
    duplicateKeys(result.value).forEach((key, k) => {
      if (key === undefined) return;
      keyHash(key, keys, (v * KEYS + k) * 2);
      present[v]! |= 1 << k;
    });
    // A row imported with a note is not stored with its digest: the note is said every time.
    const stored = result.notes ? undefined : storedDigestHex(digest, 0, present[v]!, keys, v * KEYS * 2);
    const text = stagingLine(line, result.value, task.hashKey, stored);
    staged.push(text);
    chars += text.length;
  }
  // UTF-8 into one buffer: a character takes 1 to 3 bytes (a surrogate pair 4 for 2); grown
  // when a line does not fit.
  let text = new Uint8Array(Math.ceil(chars * 1.1) + 1024);
  const ends = new Uint32Array(staged.length);
  let at = 0;
  staged.forEach((line, v) => {
    // A row known by its digest has no staging line.
    while (line !== '') {
      const { read, written } = encoder.encodeInto(line, text.subarray(at));
      if (read === line.length) {
        at += written;
        break;
      }
      const bigger = new Uint8Array(text.length * 2 + line.length * 3);
      bigger.set(text.subarray(0, at));
      text = bigger;
    }
    ends[v] = at;
  });
  return {
    lines: task.lines,
    valid,
    bad,
    notes,
    text: text.subarray(0, at),
    ends,
    keys: keys.subarray(0, staged.length * KEYS * 2),
    present: present.subarray(0, staged.length),
    hashed: task.hashKey !== undefined,
  };
}
