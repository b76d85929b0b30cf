// The import summary as `lastcall subscribers import` prints it: rows imported with a note (a
// locale neither fr nor en, stored as en) are listed by line, as bad rows are.
import { describe, expect, it } from 'vitest';
import type { ImportSummary } from '../../subscribers/import.service.ts';
import { summaryText } from './subscribers-import.ts';

const summary: ImportSummary = {
  file: 'people.csv',
  dryRun: false,
  strict: false,
  committed: true,
  rows: 2,
  inserted: 2,
  updated: 0,
  unchanged: 0,
  bad: 0,
  consentEvents: 2,
  optOutsKept: 0,
  planned: { subscribers: 0, slots: 0 },
  badRows: [],
  notes: [
    { line: 3, problems: [{ path: 'locale', value: '"xx"', rule: 'is neither fr nor en: stored as en' }] },
  ],
};

describe('the import summary text', () => {
  it('lists the rows imported with a note, by line', () => {
    expect(summaryText(summary).split('\n')).toEqual([
      'imported people.csv',
      '  rows       2: 2 inserted, 0 updated, 0 unchanged, 0 bad',
      '  consent    2 import events recorded',
      'imported with a note:',
      '  line 3: locale: is neither fr nor en: stored as en (got "xx")',
    ]);
  });
});
