// CSV injection (OWASP "CSV Injection"): a spreadsheet opening an exported file runs a cell that
// starts with = + - @ (or a tab or CR before one) as a formula: `=cmd|' /C calc'!A0` starts a
// program, `=HYPERLINK(...)` leaks data. The export writes such a cell with a leading
// apostrophe, which spreadsheets read as "this is text" and do not display.
//
// Which columns: only the free-text ones, `name`, `consent_source` and the `attr.<name>`
// attribute columns, can hold a formula. The
// others are validated to shapes that cannot call anything: E.164 phones are "+" and digits
// (neutralising them would turn every phone into "'+33…" and break the re-import), email
// addresses, ids ([A-Za-z0-9._:-]), tags, zones and ISO instants have no parentheses, pipes,
// quotes or "=" to build a call with.
//
// The import undoes exactly that: one leading apostrophe before one of those characters is
// dropped from those columns, so export → import gives back the same text.

/** The columns the export neutralises and the import restores. */
export const FREE_TEXT_COLUMNS: readonly string[] = ['name', 'consent_source'];

// A value that already starts with apostrophes before such a character gets one more, so that
// the restore (drop one) is the exact inverse for every string, not only for real formulas.
const FORMULA_START = /^'*[=+\-@\t\r]/;
const NEUTRALISED = /^'+[=+\-@\t\r]/;

/** The cell as the export writes it: a formula-looking value gets a leading apostrophe. */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The value an exported cell stood for: the apostrophe the export added is dropped. */
export function restoreFormula(value: string): string {
  return NEUTRALISED.test(value) ? value.slice(1) : value;
}

/** A record's fields with the free-text columns restored (the others untouched). */
export function restoreFreeText(fields: Readonly<Record<string, string>>): Record<string, string> {
  const out = { ...fields };
  for (const column in out) {
    if (FREE_TEXT_COLUMNS.includes(column) || column.startsWith('attr.'))
      out[column] = restoreFormula(out[column]!);
  }
  return out;
}
