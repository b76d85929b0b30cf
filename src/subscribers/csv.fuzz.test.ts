// Property-based tests of the subscribers CSV reader and the export's cells (fast-check), on
// thousands of generated files: every dialect docs/subscribers.md allows read back exactly, with
// the line each row starts on; non-UTF-8 bytes refused at their line; junk of every kind refused
// with a line or a field named, never another exception; formula cells neutralised on export and
// restored on import. No database here (test/fuzz.csv.test.ts imports into one).
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chunked,
  chunkSizesArb,
  expectedValue,
  fileShapeArb,
  lineBreaks,
  NOT_UTF8,
  nameArb,
  sourceArb,
  writeFile,
} from '../../test/support/csv-files.ts';
import { InvalidInput } from '../shared/errors.ts';
import { type CsvRow, readSubscriberCsv } from './csv.ts';
import { neutraliseFormula, restoreFormula } from './csv-formulas.ts';
import { csvLine, EXPORT_COLUMNS, toCsv } from './export.service.ts';

async function read(chunks: readonly Buffer[]): Promise<{ rows: CsvRow[]; error?: unknown }> {
  const rows: CsvRow[] = [];
  try {
    for await (const row of readSubscriberCsv(Readable.from(chunks))) rows.push(row);
    return { rows };
  } catch (error) {
    return { rows, error };
  }
}

const FIELDS = new Set([
  'row',
  'id',
  'name',
  'phone',
  'email',
  'phone, email',
  'locale',
  'timezone',
  'assistant',
  'channels',
  'consent_at',
  'consent_source',
  'tags',
]);
const PERSONAL = new Set(['name', 'phone', 'email', 'phone, email', 'consent_source']);
const FORMULA_START = /^[=+\-@\t\r]/;

// CPU-bound: a loaded machine (the whole suite, other work) can make them ten times slower.
describe('reading generated subscribers files', { timeout: 120_000 }, () => {
  it('reads every dialect back exactly: delimiter, BOM, CRLF/LF, quoting, column order, empty lines, chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fileShapeArb({ maxLength: 6 }), chunkSizesArb, async (file, sizes) => {
        const { text, lines } = writeFile(file);
        const { rows, error } = await read(chunked(Buffer.from(text), sizes));
        expect(error).toBeUndefined();
        expect(rows).toEqual(
          file.rows.map((shape, i) => ({
            line: lines[i],
            ok: true,
            value: expectedValue(shape, '', i, file.columns.includes('tags')),
          })),
        );
      }),
      { numRuns: 600 },
    );
  });

  it('refuses a non-UTF-8 byte anywhere with its line and the characters before it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileShapeArb({ maxLength: 4 }),
        fc.nat(),
        fc.constantFrom(...NOT_UTF8),
        chunkSizesArb,
        async (file, position, [, bad], sizes) => {
          const { text } = writeFile(file);
          const chars = [...text];
          const at = position % (chars.length + 1);
          const before = chars.slice(0, at).join('');
          const bytes = Buffer.concat([Buffer.from(before), bad, Buffer.from(chars.slice(at).join(''))]);
          const { rows, error } = await read(chunked(bytes, sizes));
          expect(error).toBeInstanceOf(InvalidInput);
          const problems = (error as InvalidInput).problems;
          expect(problems).toHaveLength(1);
          const line = lineBreaks(before) + 1;
          expect(problems[0]!.path).toBe(`line ${line}`);
          expect(problems[0]!.rule).toMatch(/^not UTF-8: /);
          // The reader stopped at the bad line: no row at or after it came out.
          for (const row of rows) expect(row.line).toBeLessThan(line);
          if (at < chars.length) {
            const column = [
              ...before
                .split(/\r\n|\r|\n/)
                .at(-1)!
                .replace(/^\uFEFF/, ''),
            ].length;
            expect(problems[0]!.rule).toContain(`after ${column} character${column === 1 ? '' : 's'} `);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  const wildCell = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '"',
        '""',
        '"a"b',
        'a"b',
        '"x""',
        '\r',
        '\n',
        '\r\n',
        ',',
        ';',
        '\uFEFF',
        '\t',
        ' ',
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom("=cmd|' /C calc'!A0", '+1', '-1', '@A1', "'=x") },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '+33612345678',
        'a@example.org',
        'fr',
        'Europe/Paris',
        'chatgpt',
        'whatsapp;email',
        '2025-01-01T00:00:00Z',
        '2999-01-01T00:00:00Z',
        'web',
        's1',
      ),
    },
  );
  const header = fc.oneof(
    fc.shuffledSubarray([...EXPORT_COLUMNS], { minLength: 8 }),
    fc.array(wildCell, { maxLength: 12 }),
  );
  const junkFile = fc.record({
    bom: fc.boolean(),
    header,
    rows: fc.array(fc.array(wildCell, { maxLength: 13 }), { maxLength: 6 }),
    delimiter: fc.constantFrom(',', ';'),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
    noise: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }))),
    // One huge field, quoted or not, in some files: around the 128,000-character record limit.
    huge: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1_000, max: 140_000 }), fc.boolean()), { freq: 4 }),
  });

  it('refuses junk with a line or a field named, never another exception, never echoing personal data', async () => {
    await fc.assert(
      fc.asyncProperty(junkFile, chunkSizesArb, async (file, sizes) => {
        const lines = file.rows.map((cells) => [...cells]);
        if (file.huge && lines.length > 0) {
          const [where, size, quoted] = file.huge;
          const row = lines[where % lines.length]!;
          const x = 'x'.repeat(size);
          row.splice(where % (row.length + 1), 0, quoted ? `"${x}"` : x);
        }
        const text =
          (file.bom ? '\uFEFF' : '') +
          [file.header, ...lines].map((cells) => cells.join(file.delimiter)).join(file.eol);
        let bytes = Buffer.from(text);
        if (file.noise) {
          const at = file.noise[0] % (bytes.length + 1);
          bytes = Buffer.concat([bytes.subarray(0, at), file.noise[1], bytes.subarray(at)]);
        }
        const physicalLines = lineBreaks(bytes.toString('latin1')) + 1;
        // Small chunks for small files; a huge field in bigger ones (thousands of 30-byte chunks
        // would only measure the stream machinery).
        const scale = bytes.length > 20_000 ? 1024 : 1;
        const { rows, error } = await read(
          chunked(
            bytes,
            sizes.map((size) => size * scale),
          ),
        );
        if (error !== undefined) {
          expect(error).toBeInstanceOf(InvalidInput);
          const { problems, message } = error as InvalidInput;
          expect(message).toMatch(/^Subscribers file input /);
          expect(problems.length).toBeGreaterThan(0);
          for (const p of problems) {
            expect(p.path).toMatch(/^(line \d+|header)$/);
            if (p.path.startsWith('line '))
              expect(Number(p.path.slice(5))).toBeLessThanOrEqual(physicalLines);
            expect(p.rule.length).toBeGreaterThan(0);
          }
        }
        let previous = 1;
        for (const row of rows) {
          expect(row.line).toBeGreaterThan(previous);
          expect(row.line).toBeLessThanOrEqual(physicalLines);
          previous = row.line;
          if (row.ok) continue;
          for (const p of row.problems) {
            expect(FIELDS).toContain(p.path);
            expect(p.rule.length).toBeGreaterThan(0);
            if (PERSONAL.has(p.path)) expect(p.value).toBeUndefined();
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('formula cells', { timeout: 120_000 }, () => {
  it('neutralise and restore are inverses, and no neutralised cell starts like a formula', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc
        .tuple(fc.constantFrom('', "'", "''"), fc.constantFrom('=', '+', '-', '@', '\t', '\r'), fc.string())
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (value) => {
        const cell = neutraliseFormula(value);
        expect(restoreFormula(cell)).toBe(value);
        expect(cell).not.toMatch(FORMULA_START);
      }),
      { numRuns: 5000 },
    );
  });

  it('export → import gives back names, sources and phones, with no formula left in a cell', async () => {
    const page = fc.record({
      name: nameArb,
      source: sourceArb,
      phone: fc.constantFrom('+33612345678', '+447911123456', '+14155552671', '+4915112345678'),
    });
    await fc.assert(
      fc.asyncProperty(page, async ({ name, source, phone }) => {
        const line = toCsv(
          {
            id: 's1',
            name,
            phone,
            email: null,
            locale: 'fr',
            timezone: 'Europe/Paris',
            attributes: { assistant: 'both' },
            tags: [],
            done: false,
            consent: [{ channel: 'whatsapp', consentAt: '2025-11-02T14:30:00Z', source }],
          },
          [],
        )!;
        const text = csvLine(EXPORT_COLUMNS) + line;
        const [cells] = parse(line, { columns: [...EXPORT_COLUMNS] }) as Record<string, string>[];
        expect(cells!.name).not.toMatch(FORMULA_START);
        expect(cells!.consent_source).not.toMatch(FORMULA_START);
        expect(cells!.phone).toBe(phone);
        const { rows, error } = await read([Buffer.from(text)]);
        expect(error).toBeUndefined();
        expect(rows).toMatchObject([{ line: 2, ok: true, value: { name, consentSource: source, phone } }]);
      }),
      { numRuns: 500 },
    );
  });
});
