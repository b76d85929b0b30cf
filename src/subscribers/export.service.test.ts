import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readSubscriberCsv } from './csv.ts';
import { csvLine, exportHeader, toCsv } from './export.service.ts';

const NAMES = ['assistant', 'plan'];
const row = {
  id: 's1',
  name: 'Doe, "JJ"',
  phone: '+33612345678',
  email: 'jj@example.org',
  locale: 'fr',
  timezone: 'Europe/Paris',
  attributes: { assistant: 'both' },
  tags: ['beta', 'vip'],
  done: false,
  consent: [
    { channel: 'email' as const, consentAt: '2025-11-03T10:00:00+00:00', source: 'confirm-link' },
    { channel: 'whatsapp' as const, consentAt: '2025-11-02T14:30:00.123456+00:00', source: 'web' },
  ],
};

describe('export CSV lines', () => {
  it('quotes only fields with a comma, a quote or a line break (RFC 4180), CRLF-terminated', () => {
    expect(csvLine(['a', 'b c', 'x;y'])).toBe('a,b c,x;y\r\n');
    expect(csvLine(['a,b', 'say "hi"', 'two\nlines', ''])).toBe('"a,b","say ""hi""","two\nlines",\r\n');
  });

  it('lists channels in force in channel order, with the later consent and both sources', () => {
    expect(exportHeader(NAMES).join(',')).toBe(
      'id,name,phone,email,locale,timezone,channels,consent_at,consent_source,tags,attr.assistant,attr.plan',
    );
    expect(toCsv(row, NAMES)).toBe(
      's1,"Doe, ""JJ""",+33612345678,jj@example.org,fr,Europe/Paris,whatsapp;email,2025-11-03T10:00:00.000Z,web + confirm-link,beta;vip,both,\r\n',
    );
    expect(toCsv({ ...row, consent: [] }, NAMES)).toBeUndefined();
  });

  it('is read back by the importer as the same subscriber', async () => {
    const text = csvLine(exportHeader(NAMES)) + toCsv(row, NAMES)!;
    const rows = [];
    for await (const r of readSubscriberCsv(Readable.from([text]))) rows.push(r);
    expect(rows).toEqual([
      {
        line: 2,
        ok: true,
        value: {
          id: 's1',
          name: 'Doe, "JJ"',
          phone: '+33612345678',
          phoneRegion: 'FR',
          email: 'jj@example.org',
          locale: 'fr',
          timezone: 'Europe/Paris',
          // No plan: its empty cell reads as "no such attribute".
          attributes: { assistant: 'both', plan: null },
          channels: ['whatsapp', 'email'],
          consentAt: Date.parse('2025-11-03T10:00:00Z'),
          consentSource: 'web + confirm-link',
          tags: ['beta', 'vip'],
        },
      },
    ]);
  });

  it('neutralises formula cells in name, consent_source and attributes, keeps phones, and reads them back unchanged', async () => {
    const formulas = {
      ...row,
      attributes: { plan: '@SUM(A1)' },
      name: "=cmd|' /C calc'!A0",
      consent: [{ channel: 'whatsapp' as const, consentAt: '2025-11-02T14:30:00Z', source: '+form' }],
    };
    const line = toCsv(formulas, NAMES)!;
    expect(line).toBe(
      "s1,'=cmd|' /C calc'!A0,+33612345678,jj@example.org,fr,Europe/Paris,whatsapp,2025-11-02T14:30:00.000Z,'+form,beta;vip,,'@SUM(A1)\r\n",
    );
    expect(toCsv({ ...formulas, name: "'-already quoted" }, NAMES)).toMatch(/^s1,''-already quoted,/);
    const rows = [];
    for await (const r of readSubscriberCsv(Readable.from([csvLine(exportHeader(NAMES)) + line])))
      rows.push(r);
    expect(rows).toMatchObject([
      {
        line: 2,
        ok: true,
        value: {
          name: "=cmd|' /C calc'!A0",
          phone: '+33612345678',
          consentSource: '+form',
          attributes: { assistant: null, plan: '@SUM(A1)' },
        },
      },
    ]);
  });
});
