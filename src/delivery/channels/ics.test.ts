import { describe, expect, it } from 'vitest';
import { readIcs, unescapeIcsText } from '../../../test/fakes/ics-reader.ts';
import { buildIcs, escapeText, foldLine, icsDate } from './ics.ts';

describe('buildIcs', () => {
  const event = {
    uid: 'ai-assistants-leave-whatsapp/d7/sub-1@lastcall',
    start: new Date('2026-01-14T23:00:00Z'),
    summary: 'Dernier jour : exportez vos discussions, ChatGPT; Copilot',
    description:
      'Après le 15 janvier, ChatGPT et Copilot ne répondent plus sur WhatsApp.\nOuvrez la discussion → ⋮ → Plus → Exporter la discussion. Ça prend 2 minutes 😀, promis.',
    url: 'https://example.org/help/copilot?lang=fr&x=1',
  };
  const ics = buildIcs(event, new Date('2026-01-07T09:00:00.123Z'));

  it('uses CRLF everywhere and folds lines at 75 octets without splitting characters', () => {
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    expect(Buffer.from(ics, 'utf8').toString('utf8')).toBe(ics);
  });

  it('round-trips every field through unfolding and unescaping', () => {
    const f = readIcs(ics);
    expect(f.get('BEGIN')).toBe('VCALENDAR');
    expect(f.get('METHOD')).toBe('PUBLISH');
    expect(f.get('DTSTART')).toBe('20260114T230000Z');
    expect(f.get('DTSTAMP')).toBe('20260107T090000Z');
    expect(unescapeIcsText(f.get('UID')!)).toBe(event.uid);
    expect(unescapeIcsText(f.get('SUMMARY')!)).toBe(event.summary);
    expect(unescapeIcsText(f.get('DESCRIPTION')!)).toBe(event.description);
    expect(f.get('URL')).toBe(event.url);
  });

  it('escapes TEXT per RFC 5545', () => {
    expect(escapeText('a\\b;c,d\r\ne\nf')).toBe('a\\\\b\\;c\\,d\\ne\\nf');
    expect(icsDate(new Date('2026-03-29T01:30:00Z'))).toBe('20260329T013000Z');
  });

  it('never splits a multi-byte character when folding', () => {
    const folded = foldLine(`DESCRIPTION:${'é'.repeat(80)}`);
    const lines = folded.split('\r\n ');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('')).toBe(`DESCRIPTION:${'é'.repeat(80)}`);
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(75);
  });
});
