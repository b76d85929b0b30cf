// The deadline as an iCalendar event (RFC 5545), attached to reminder emails. Written here rather
// than with a library: one VEVENT needs only the three rules that matter, and they are easy to get
// wrong: CRLF line ends, TEXT escaping (\\ \; \, \n), and folding at 75 octets (bytes, not
// characters, without splitting a UTF-8 sequence; continuation lines start with one space).
// METHOD:PUBLISH (nodemailer's default for icalEvent) makes it an event to add, not an invitation
// awaiting a reply (REQUEST would need ORGANIZER and ATTENDEE).

export interface IcsEvent {
  /** Stable across resends of the same reminder, so calendars update rather than duplicate. */
  uid: string;
  /** The deadline. The event has no end: a DATE-TIME start alone is an instant. */
  start: Date;
  summary: string;
  description: string;
  url: string;
}

export const ICS_METHOD = 'PUBLISH';

/** 20260115T000000Z */
export function icsDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** RFC 5545 §3.3.11 TEXT escaping. */
export function escapeText(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** RFC 5545 §3.1 folding: at most 75 octets a line, continuation lines led by one space. */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let bytes = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    const limit = out.length === 0 ? 75 : 74;
    if (bytes + size > limit) {
      out.push(current);
      current = '';
      bytes = 0;
    }
    current += ch;
    bytes += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

/** A one-event VCALENDAR; `now` is the DTSTAMP (when this copy was made). */
export function buildIcs(event: IcsEvent, now: Date): string {
  const uri = (s: string) => s.replace(/[\r\n]/g, '');
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Lastcall//Deadline reminders//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${ICS_METHOD}`,
    'BEGIN:VEVENT',
    `UID:${escapeText(event.uid)}`,
    `DTSTAMP:${icsDate(now)}`,
    `DTSTART:${icsDate(event.start)}`,
    `SUMMARY:${escapeText(event.summary)}`,
    `DESCRIPTION:${escapeText(event.description)}`,
    `URL:${uri(event.url)}`,
    'TRANSP:TRANSPARENT',
    'STATUS:CONFIRMED',
    'SEQUENCE:0',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
