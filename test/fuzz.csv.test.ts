// `subscribers import` on generated files (fast-check), on a real PostgreSQL with subscribers
// already in it and a running campaign (so that an import also plans slots). Each file is good
// or spoilt one way: a bad cell, consent in the future, a phone that belongs to someone else
// (found only when writing), a non-UTF-8 byte, an unclosed quote, a record too long. Whatever
// the file, the import ends with a summary or an InvalidInput naming a line, and a refusal leaves
// every table exactly as it was: with --strict for bad rows, in every mode for an unreadable
// file given by path. A few hundred imports in all: the parser's thousands run in
// src/subscribers/csv.fuzz.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { InvalidInput } from '../src/shared/errors.ts';
import {
  createImportService,
  type ImportService,
  type ImportSummary,
} from '../src/subscribers/import.service.ts';
import { at, campaignFile } from './support/campaign.ts';
import { type FileShape, fileShapeArb, writeFile } from './support/csv-files.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { tableSnapshot } from './support/snapshot.ts';

const NOW = at('2026-06-01T00:00:00Z');
const TABLES = ['subscribers', 'subscriber_channels', 'consent_events', 'slots', 'tombstones'];
const BASE_PHONE = '+33699999901';

let t: TestDatabase;
let importer: ImportService;
let run = 0;
const scratch = mkdtempSync(join(tmpdir(), 'lastcall-fuzz-csv-'));

beforeAll(async () => {
  t = await createTestDatabase();
  importer = createImportService({ db: t.db, secretKey: t.config.secretKey });
  const campaigns = createCampaignService({ db: t.db });
  await campaigns.create(campaignFile('running'), at('2026-05-01T00:00:00Z'));
  await campaigns.start('running', at('2026-05-01T00:00:00Z'));
  const base = await importer.importFile({
    file: Readable.from([
      'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source\n',
      `base-1,Base One,${BASE_PHONE},base1@example.org,fr,Europe/Paris,both,whatsapp;email,2025-01-01T00:00:00Z,seed\n`,
    ]),
    now: NOW,
  });
  expect(base).toMatchObject({ inserted: 1, bad: 0 });
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await t?.drop();
});

const snapshot = () => tableSnapshot(t.db, TABLES);

const subscriberCount = async () =>
  (await t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM subscribers'))!.n;

type Spoiler =
  | 'none'
  | 'bad cell'
  | 'future consent'
  | 'taken phone'
  | 'not utf-8'
  | 'unclosed quote'
  | 'too long';
const SPOILERS: Spoiler[] = [
  'none',
  'bad cell',
  'future consent',
  'taken phone',
  'not utf-8',
  'unclosed quote',
  'too long',
];

/** The file's bytes, spoilt as asked; `refusedAsFile` when the whole file must be refused. */
function spoil(file: FileShape, spoiler: Spoiler, pick: number, prefix: string) {
  const k = pick % file.rows.length;
  const rows = file.rows.map((row, i) => {
    if (i !== k) return row;
    if (spoiler === 'bad cell') return { ...row, timezone: ['Mars/Olympus_Mons', ''] as const };
    if (spoiler === 'future consent') return { ...row, consentAt: NOW + 86_400_000 };
    if (spoiler === 'taken phone') return { ...row, hasPhone: true };
    return row;
  });
  let { text } = writeFile({ ...file, rows }, prefix);
  if (spoiler === 'taken phone') {
    const own = `+336${prefix.replace(/\D/g, '').padStart(5, '0').slice(-5)}${String(k).padStart(3, '0')}`;
    text = text.replace(own, BASE_PHONE);
  }
  let bytes = Buffer.from(text);
  if (spoiler === 'not utf-8') {
    const chars = [...text];
    const cut = pick % (chars.length + 1);
    bytes = Buffer.concat([
      Buffer.from(chars.slice(0, cut).join('')),
      Buffer.from([0xe9, 0x2c]),
      Buffer.from(chars.slice(cut).join('')),
    ]);
  }
  if (spoiler === 'unclosed quote') bytes = Buffer.concat([bytes, Buffer.from('"never closed,')]);
  if (spoiler === 'too long') bytes = Buffer.concat([bytes, Buffer.from(`x,"${'y'.repeat(130_000)}"\n`)]);
  return { bytes, refusedAsFile: ['not utf-8', 'unclosed quote', 'too long'].includes(spoiler) };
}

async function attempt(run: () => Promise<ImportSummary>): Promise<ImportSummary | InvalidInput> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InvalidInput) return error;
    throw error;
  }
}

const cases = fc.record({
  file: fileShapeArb({ minLength: 1, maxLength: 6 }),
  spoiler: fc.constantFrom(...SPOILERS),
  pick: fc.nat(),
});

// A few hundred imports: a loaded machine can make them many times slower than here alone.
describe('subscribers import of generated files', { timeout: 120_000 }, () => {
  it('--strict: a refused file or a file with any bad row changes no table; a good one is imported whole', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ file, spoiler, pick }) => {
        const prefix = `r${++run}`;
        const { bytes, refusedAsFile } = spoil(file, spoiler, pick, prefix);
        const before = await snapshot();
        const count = await subscriberCount();
        const outcome = await attempt(() =>
          importer.importFile({ file: Readable.from([bytes]), now: NOW, strict: true }),
        );
        if (outcome instanceof InvalidInput) {
          expect(refusedAsFile).toBe(true);
          expect(outcome.problems[0]?.path).toMatch(/^line \d+$/);
          expect(await snapshot()).toBe(before);
          return;
        }
        expect(refusedAsFile).toBe(false);
        expect(outcome.rows).toBe(file.rows.length);
        if (spoiler === 'none') {
          expect(outcome).toMatchObject({ committed: true, bad: 0, inserted: file.rows.length });
          // Planned into the running campaign: an import writes slots too, and a refusal must not.
          expect(outcome.planned.subscribers).toBe(file.rows.length);
          expect(await subscriberCount()).toBe(count + file.rows.length);
        } else {
          expect(outcome).toMatchObject({
            committed: false,
            bad: 1,
            badRows: [{ line: expect.any(Number) }],
          });
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('by default: bad rows are skipped and the rest imported; a file given by path that cannot be read changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ file, spoiler, pick }) => {
        const prefix = `r${++run}`;
        const { bytes, refusedAsFile } = spoil(file, spoiler, pick, prefix);
        const path = join(scratch, `${prefix}.csv`);
        writeFileSync(path, bytes);
        const before = await snapshot();
        const count = await subscriberCount();
        const outcome = await attempt(() => importer.importFile({ file: path, now: NOW }));
        if (outcome instanceof InvalidInput) {
          expect(refusedAsFile).toBe(true);
          expect(outcome.problems[0]?.path).toMatch(/^line \d+$/);
          expect(await snapshot()).toBe(before);
          return;
        }
        expect(refusedAsFile).toBe(false);
        const bad = spoiler === 'none' ? 0 : 1;
        expect(outcome).toMatchObject({ committed: true, bad, inserted: file.rows.length - bad });
        expect(await subscriberCount()).toBe(count + file.rows.length - bad);
        // The refused row was not written, and the base subscriber kept its phone.
        const owner = await t.db.one<{ id: string }>('SELECT id FROM subscribers WHERE phone = $1', [
          BASE_PHONE,
        ]);
        expect(owner?.id).toBe('base-1');
      }),
      { numRuns: 120 },
    );
  });
});
