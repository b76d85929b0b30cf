import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsvRecords, SIFTED_NONE, SIFTED_RAW } from './csv.ts';
import { addKnown, DIGEST_WORDS, type KnownDigests, knownDigestsFor } from './import.digest.ts';
import { RawSifter, rawSeed } from './import.sift.ts';

const HEADER = 'id,name,phone,email,locale,timezone,channels,consent_at,consent_source';
const row = (id: string, source = 'form') =>
  `${id},N ${id},,${id}@example.org,en,UTC,email,2025-11-02T14:30:00Z,${source}`;
/** Lines 1–10: a header, one-line records (one with quoted fields and "" in them), a record
 *  whose quoted field goes on over lines 4–5, an empty line, CRLF, a lone CR, no final line end. */
const FILE = [
  `${HEADER}\n`,
  `${row('a')}\n`,
  `"b",N b,,b@example.org,en,UTC,"email","2025-11-02T14:30:00Z","said ""yes"", twice"\n`,
  `${row('c', '"paper\nform"')}\n`,
  '\r\n',
  `${row('d')}\r\n`,
  `${row('e')}\r`,
  `${row('f')}\n`,
  row('g'),
].join('');

interface Seen {
  readonly line: number;
  readonly kind: number;
  readonly fields: readonly string[];
  readonly digest?: string;
}

/** Every record csv.ts gives for `text` cut into pieces of `step` bytes, with what the sifter
 *  said of it (no sifter: `known` null). */
async function records(text: string, step: number, known: KnownDigests | undefined | null): Promise<Seen[]> {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += step) pieces.push(bytes.subarray(at, at + step));
  const seen: Seen[] = [];
  const sifter = known === null ? {} : { sifter: (d: ',' | ';') => new RawSifter(known, d) };
  for await (const batch of readCsvRecords(Readable.from(pieces), { batchRecords: 3, ...sifter }))
    batch.lines.forEach((line, i) => {
      const kind = batch.sifted?.kinds[i] ?? SIFTED_NONE;
      const digest = kind === SIFTED_RAW ? batch.sifted!.digests.slice(i * 4, i * 4 + 4).join() : undefined;
      seen.push({ line, kind, fields: batch.fields[i]!, ...(digest === undefined ? {} : { digest }) });
    });
  return seen;
}

/** A table knowing the raw digests of `seen`'s records on `lines`, entry i for lines[i]. */
function knowing(seen: readonly Seen[], lines: readonly number[]): KnownDigests {
  const known = knownDigestsFor(lines.length);
  lines.forEach((line, index) => {
    const words = new Uint32Array(DIGEST_WORDS + 6);
    words.set(
      seen
        .find((s) => s.line === line)!
        .digest!.split(',')
        .map(Number),
    );
    addKnown(known, index, words, 1);
  });
  return known;
}

describe('RawSifter', () => {
  it('hashes each one-line record and leaves a multi-line one to the parser; with nothing known the records are the same as without it', async () => {
    const plain = await records(FILE, 1 << 16, null);
    const sifted = await records(FILE, 1 << 16, undefined);
    expect(sifted.map((s) => [s.line, s.fields])).toEqual(plain.map((s) => [s.line, s.fields]));
    expect(sifted.map((s) => [s.line, s.kind])).toEqual([
      [2, SIFTED_RAW],
      [3, SIFTED_RAW],
      [4, SIFTED_NONE],
      [7, SIFTED_RAW],
      [8, SIFTED_RAW],
      [9, SIFTED_RAW],
      [10, SIFTED_RAW],
    ]);
    expect(new Set(sifted.map((s) => s.digest)).size).toBe(7);
  });

  it('gives known records as their entries, in file order, however the file is cut into pieces', async () => {
    const first = await records(FILE, 1 << 16, undefined);
    const plain = await records(FILE, 1 << 16, null);
    // Lines 2, 8, 9 and the last one known: entries 0–3.
    const known = knowing(first, [2, 8, 9, 10]);
    const entry = new Map([
      [2, 0],
      [8, 1],
      [9, 2],
      [10, 3],
    ]);
    for (let step = 1; step <= FILE.length; step++) {
      // A byte order mark changes nothing, wherever the first piece ends.
      const seen = await records(step % 2 === 0 ? `\uFEFF${FILE}` : FILE, step, known);
      expect(
        seen.map((s) => s.line),
        `pieces of ${step}`,
      ).toEqual(plain.map((s) => s.line));
      seen.forEach((s, i) => {
        const index = entry.get(s.line);
        if (index !== undefined) expect(s.kind, `line ${s.line}, pieces of ${step}`).toBe(index);
        else {
          expect(s.kind, `line ${s.line}, pieces of ${step}`).toBe(first[i]!.kind);
          expect(s.fields).toEqual(plain[i]!.fields);
          expect(s.digest).toEqual(first[i]!.digest);
        }
      });
    }
  });

  it('keeps a long run of known records in order', async () => {
    const rows = Array.from({ length: 700 }, (_, i) => row(`r${i}`));
    const file = `${HEADER}\n${rows.join('\n')}\n`;
    const first = await records(file, 1 << 16, undefined);
    const known = knowing(
      first,
      first.map((s) => s.line),
    );
    for (const step of [1 << 16, 1000, 97]) {
      const seen = await records(file, step, known);
      expect(seen.map((s) => [s.line, s.kind])).toEqual(first.map((s, i) => [s.line, i]));
    }
  });

  it('stops at a quote csv-parse reads by its relaxed rules: every later record is parsed', async () => {
    const file = `${HEADER}\n${row('a')}\n${row('b', 'Jean "JJ"')}\n${row('c')}\n${row('a')}\n`;
    const first = await records(file, 1 << 16, undefined);
    expect(first.map((s) => s.kind)).toEqual([SIFTED_RAW, SIFTED_NONE, SIFTED_NONE, SIFTED_NONE]);
    const known = knowing(first, [2]);
    const seen = await records(file, 7, known);
    // Line 2 is known; the same record after the stop (line 5) is parsed.
    expect(seen.map((s) => [s.line, s.kind])).toEqual([
      [2, 0],
      [3, SIFTED_NONE],
      [4, SIFTED_NONE],
      [5, SIFTED_NONE],
    ]);
    expect(seen[3]!.fields[0]).toBe('a');
  });

  it('stops at a quoted header, and at spaces around a quoted field', async () => {
    for (const file of [
      `"id",${HEADER.slice(3)}\n${row('a')}\n`,
      `${HEADER}\n${row('a', ' "x"')}\n${row('b')}\n`,
      `${HEADER}\n${row('a', '"x" ')}\n${row('b')}\n`,
    ]) {
      const seen = await records(file, 3, undefined);
      expect(seen.at(-1)!.kind).toBe(SIFTED_NONE);
    }
  });

  it('seeds the digests with the rules version and the header', () => {
    const header = Buffer.from(HEADER);
    expect([...rawSeed(header)]).toEqual([...rawSeed(Buffer.from(HEADER))]);
    expect([...rawSeed(header, 'lastcall-import-rules-0')]).not.toEqual([...rawSeed(header)]);
    expect([...rawSeed(Buffer.from(`${HEADER},tags`))]).not.toEqual([...rawSeed(header)]);
  });
});
