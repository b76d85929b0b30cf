import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../shared/errors.ts';
import { type CsvRow, detectDelimiter, readSubscriberCsv } from './csv.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'subscribers');
const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';

/** A valid comma-separated row; `n` makes its id, phone and email unique. */
function row(n: number, fields: { source?: string; name?: string } = {}): string {
  const source = fields.source ?? 'web form';
  return `s${n},${fields.name ?? `Person ${n}`},+3361234560${n},p${n}@example.org,fr,Europe/Paris,chatgpt,whatsapp;email,2025-11-02T14:30:00Z,${source},`;
}

/** Feeds `text` in small chunks, so that records and line breaks straddle chunk boundaries. */
function source(text: string | Buffer, chunkSize = 7): Readable {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

async function readAll(input: string | Readable): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const r of readSubscriberCsv(input)) rows.push(r);
  return rows;
}

/** "line:id" for good rows, "line:path,path" for bad ones. */
function summary(rows: readonly CsvRow[]): string[] {
  return rows.map((r) => `${r.line}:${r.ok ? r.value.id : r.problems.map((p) => p.path).join(',')}`);
}

async function inputError(input: string | Readable): Promise<InvalidInput> {
  const error = await readAll(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InvalidInput)) throw new Error(`expected an InvalidInput, got ${String(error)}`);
  return error;
}

describe('readSubscriberCsv', () => {
  it('reads a plain comma-separated LF file', async () => {
    const rows = await readAll(source(`${HEADER}\n${row(1)}\n${row(2)}\n`));
    expect(summary(rows)).toEqual(['2:s1', '3:s2']);
    expect(rows[0]).toMatchObject({
      ok: true,
      value: { phone: '+33612345601', channels: ['whatsapp', 'email'] },
    });
  });

  it('skips a UTF-8 BOM and reads CRLF line ends', async () => {
    const text = `\uFEFF${HEADER}\r\n${row(1, { name: 'Zoé Lefèvre' })}\r\n${row(2)}`;
    const rows = await readAll(source(text, 1));
    expect(summary(rows)).toEqual(['2:s1', '3:s2']);
    expect(rows[0]?.ok && rows[0].value.name).toBe('Zoé Lefèvre');
  });

  it('detects semicolons from the header line, with quoted semicolon lists inside', async () => {
    const text = `${HEADER.replaceAll(',', ';')}\n"s1";"Dupont, Jean";+33612345601;;fr-FR;Europe/Paris;copilot;whatsapp;2025-11-02T14:30:00Z;salon 2025;"beta;vip"\n`;
    const rows = await readAll(source(text));
    expect(rows).toMatchObject([
      { line: 2, ok: true, value: { id: 's1', name: 'Dupont, Jean', tags: ['beta', 'vip'] } },
    ]);
  });

  it('decides the delimiter on the first line only, ignoring quoted text', () => {
    expect(detectDelimiter('a;b;c\nx,y,z,w,v\n')).toBe(';');
    expect(detectDelimiter('"a;b;c",d,e\r\n')).toBe(',');
    expect(detectDelimiter('\uFEFFid;name\n')).toBe(';');
    expect(detectDelimiter('id')).toBe(',');
  });

  it('reads a semicolon, BOM and CRLF file from disk', async () => {
    const rows = await readAll(join(FIXTURES, 'semicolon-bom-crlf.csv'));
    expect(summary(rows)).toEqual(['2:fr-1', '3:en-1', '4:phone']);
    expect(rows[1]).toMatchObject({
      ok: true,
      value: { email: 'alex@example.com', channels: ['email'], tags: [] },
    });
  });

  it('numbers each row by the line it starts on, across quoted line breaks and empty lines', async () => {
    const text = [
      HEADER,
      row(1, { source: '"signed form,\nbox 3"' }), // lines 2–3
      '',
      row(2), // line 5
      row(3, { source: '"paper\r\nform\r\n\r\nbox 9"' }), // lines 6–9, CRLF inside the field
      row(4), // line 10
      'x,y', // line 11: wrong field count
      row(5, { source: '"a\rb"' }), // line 12–13
      row(6), // line 14
    ].join('\n');
    const rows = await readAll(source(text));
    expect(summary(rows)).toEqual(['2:s1', '5:s2', '6:s3', '10:s4', '11:row', '12:s5', '14:s6']);
    expect(rows[0]?.ok && rows[0].value.consentSource).toBe('signed form,\nbox 3');
  });

  it('numbers rows in a CRLF file with CRLF inside quoted fields', async () => {
    const text = `${[HEADER, row(1, { source: '"two\r\nlines"' }), '', row(2), 'a,b,c', row(3)].join('\r\n')}\r\n`;
    expect(summary(await readAll(source(text, 5)))).toEqual(['2:s1', '5:s2', '6:row', '7:s3']);
  });

  it('reads a file mixing CRLF, LF and CR line ends, numbering every line', async () => {
    const lf = `${HEADER}\n${row(1)}\r\n${row(2)}\n${row(3)}\r${row(4)}\n`;
    expect(summary(await readAll(source(lf)))).toEqual(['2:s1', '3:s2', '4:s3', '5:s4']);
    const crlf = `${HEADER}\r\n${row(1)}\n${row(2)}\r\n\n${row(3)}\r\n`;
    expect(summary(await readAll(source(crlf)))).toEqual(['2:s1', '3:s2', '5:s3']);
    // A short row with a quoted CRLF (lines 3–4) does not shift the lines after it.
    const short = `${HEADER}\r\n${row(1)}\r\n"a\r\nb",c\r\n${row(2)}\r\n`;
    expect(summary(await readAll(source(short)))).toEqual(['2:s1', '3:row', '5:s2']);
  });

  it('reports a row with the wrong number of fields and reads on', async () => {
    const rows = await readAll(source(`${HEADER}\n${row(1)},extra\n${row(2)}\n`));
    expect(rows[0]).toEqual({
      line: 2,
      ok: false,
      problems: [
        {
          path: 'row',
          rule: 'has 12 fields, the header has 11 (a missing or extra delimiter, or an unquoted field containing one?)',
        },
      ],
    });
    expect(summary(rows)).toEqual(['2:row', '3:s2']);
  });

  it('reports invalid rows with their problems and reads on', async () => {
    const bad = row(2).replace('Europe/Paris', 'Europe/Pariss');
    const rows = await readAll(source(`${HEADER}\n${row(1)}\n${bad}\n${row(3)}\n`));
    expect(rows[1]).toEqual({
      line: 3,
      ok: false,
      problems: [
        {
          path: 'timezone',
          value: '"Europe/Pariss"',
          rule: 'must be an IANA time zone name like Europe/Paris',
        },
      ],
    });
    expect(summary(rows)).toEqual(['2:s1', '3:timezone', '4:s3']);
  });

  it('refuses a later row repeating an id, phone or email, naming the first line', async () => {
    const text = [
      HEADER,
      row(1),
      row(2),
      row(3).replace('s3,', 's1,'),
      row(4).replace('+33612345604', '+33 6 12 34 56 02'),
      row(5).replace('p5@', 'P1@'),
      row(6),
    ].join('\n');
    const rows = await readAll(source(text));
    expect(summary(rows)).toEqual(['2:s1', '3:s2', '4:id', '5:phone', '6:email', '7:s6']);
    expect(rows[2]).toEqual({
      line: 4,
      ok: false,
      problems: [{ path: 'id', rule: 'already used on line 2: each id once per file' }],
    });
    expect(rows[3]).toMatchObject({
      problems: [{ path: 'phone', rule: 'already used on line 3: each phone once per file' }],
    });
  });

  it('does not let a refused row claim its id', async () => {
    const refused = row(1).replace('Europe/Paris', 'Nowhere');
    const rows = await readAll(source(`${HEADER}\n${refused}\n${row(1)}\n`));
    expect(summary(rows)).toEqual(['2:timezone', '3:s1']);
  });

  it('refuses a header with missing, unknown or repeated columns, all at once', async () => {
    const header = 'ID, Name ,phone,email,locale,time_zone,assistant,channels,consent_at,channels';
    const error = await inputError(source(`${header}\n`));
    expect(error.message).toMatch(/has a bad header line/);
    expect(error.problems).toEqual([
      {
        path: 'header',
        value: '"time_zone"',
        rule: 'unknown column (expected: id, name, phone, email, locale, timezone, channels, consent_at, consent_source and optionally assistant, tags and attr.<name> columns)',
      },
      { path: 'header', value: '"channels"', rule: 'column named twice' },
      { path: 'header', rule: 'missing columns timezone, consent_source' },
    ]);
  });

  it('reads attr.<name> columns, and refuses a bad name or assistant twice', async () => {
    const header =
      'id,name,phone,email,locale,timezone,channels,consent_at,consent_source,Attr.Plan,attr.city';
    const line = 'a1,Ana,,a@example.org,fr,Europe/Paris,email,2025-11-02T14:30:00Z,fair,pro,';
    expect(await readAll(source(`${header}\n${line}\n`))).toMatchObject([
      { line: 2, ok: true, value: { id: 'a1', attributes: { plan: 'pro', city: null } } },
    ]);
    const bad = await inputError(
      source(`${header.replace('attr.city', 'attr.2nd,assistant,attr.assistant')}\n`),
    );
    expect(bad.problems).toEqual([
      {
        path: 'header',
        value: '"attr.2nd"',
        rule: 'an attribute name is a lower-case letter, then up to 39 lower-case letters, digits or _',
      },
      {
        path: 'header',
        value: '"assistant"',
        rule: 'names the attribute attr.assistant, which has its own column too: keep one of them',
      },
    ]);
  });

  it('accepts a header without tags, in any order and case', async () => {
    const header = 'Consent_Source,consent_at,channels,assistant,timezone,locale,email,phone,name,id';
    const line = 'fair,2025-11-02T14:30:00Z,email,both,America/Montreal,fr-CA,a@example.org,,Ana,a1';
    expect(await readAll(source(`${header}\n${line}\n`))).toMatchObject([
      { line: 2, ok: true, value: { id: 'a1', locale: 'fr', tags: [] } },
    ]);
  });

  it('refuses an empty file', async () => {
    expect((await inputError(source(''))).message).toMatch(/is empty/);
    expect((await inputError(source('\uFEFF\r\n\r\n'))).message).toMatch(/is empty/);
  });

  it('stops on a quote that is never closed, naming the line the record starts on', async () => {
    const error = await inputError(
      source(`${HEADER}\n${row(1)}\n${row(2, { source: '"open' })}\n${row(3)}\n`),
    );
    expect(error.problems).toEqual([
      { path: 'line 3', rule: 'a quoted field starting in this record is never closed (a missing ")' },
    ]);
  });

  it('keeps quotes inside unquoted fields', async () => {
    const rows = await readAll(source(`${HEADER}\n${row(1, { name: 'Jean "JJ" Dupont' })}\n`));
    expect(rows[0]?.ok && rows[0].value.name).toBe('Jean "JJ" Dupont');
  });

  it('refuses a Latin-1 file with the line and place of its first non-UTF-8 byte', async () => {
    const latin1 = Buffer.from(
      `${HEADER}\r\n${row(1, { source: '"two\r\nlines"' })}\r\n${row(2, { name: 'Zoé Lefèvre' })}\r\n`,
      'latin1',
    );
    for (const chunkSize of [1, 3, 64 * 1024]) {
      const error = await inputError(source(latin1, chunkSize));
      expect(error.message).toMatch(/^Subscribers file input is not UTF-8/);
      expect(error.problems).toEqual([
        {
          path: 'line 4',
          rule: 'not UTF-8: byte 0xE9 after 5 characters cannot be read as UTF-8; save the file as UTF-8 (in Excel: "CSV UTF-8")',
        },
      ]);
    }
  });

  it('refuses a non-UTF-8 file given by path before it yields a single row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastcall-csv-'));
    const path = join(dir, 'late-latin1.csv');
    const rows = Array.from({ length: 600 }, (_, i) => row(i + 1).replace(/^s\d+/, `id${i}`));
    writeFileSync(
      path,
      Buffer.concat([Buffer.from(`${HEADER}\n${rows.join('\n')}\n`), Buffer.from('x,Andr\xe9\n', 'latin1')]),
    );
    const seen: CsvRow[] = [];
    const error = await (async () => {
      for await (const r of readSubscriberCsv(path)) seen.push(r);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    rmSync(dir, { recursive: true });
    expect(seen).toEqual([]);
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).problems[0]?.path).toBe('line 602');
  });

  it('says when a file looks like UTF-16, and when it ends inside a character', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER, 'utf16le')]);
    expect((await inputError(source(utf16))).problems[0]?.rule).toMatch(
      /^not UTF-8: byte 0xFF after 0 characters .* \(the file looks like UTF-16\)/,
    );
    const cut = Buffer.from(`${HEADER}\n${row(1, { name: 'Zoé' })}`).subarray(0, HEADER.length + 7);
    expect((await inputError(source(cut, 2))).problems).toEqual([
      {
        path: 'line 2',
        rule: 'not UTF-8: the file ends inside a multi-byte character; save the file as UTF-8 (in Excel: "CSV UTF-8")',
      },
    ]);
  });

  it('refuses a record over 128,000 characters, naming its line', async () => {
    const huge = row(2, { source: `"${'x'.repeat(130_000)}"` });
    const error = await inputError(source(`${HEADER}\n${row(1)}\n${huge}\n${row(3)}\n`, 4096));
    expect(error.problems).toEqual([
      { path: 'line 3', rule: 'the record is longer than 128,000 characters (a missing closing quote?)' },
    ]);
  });

  it('refuses a missing file', async () => {
    const error = await inputError(join(FIXTURES, 'no-such-file.csv'));
    expect(error.problems).toEqual([{ path: join(FIXTURES, 'no-such-file.csv'), rule: 'file not found' }]);
  });

  it('streams: rows come out before the input ends, and stopping early closes the input', async () => {
    let produced = 0;
    async function* endless() {
      yield `${HEADER}\n`;
      for (let n = 1; ; n++) {
        produced++;
        yield `${row(n)
          .replace(/^s\d+,/, `id${n},`)
          .replace(/\+336\d+/, `+3361${String(n).padStart(7, '0')}`)
          .replace(/p\d+@/, `q${n}@`)}\n`;
      }
    }
    const input = Readable.from(endless());
    let seen = 0;
    for await (const r of readSubscriberCsv(input)) {
      expect(r.ok).toBe(true);
      if (++seen === 1000) break;
    }
    expect(input.destroyed).toBe(true);
    expect(produced).toBeLessThan(5000);
  });
});
