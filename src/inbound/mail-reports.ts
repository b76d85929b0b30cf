// Reading what comes back to a reminder's return path (docs/operations.md, "Bounces and
// complaints"), with mailparser: a delivery status notification (RFC 3464: multipart/report;
// report-type=delivery-status, or its SMTPUTF8 form message/global-delivery-status, RFC 6533) or a
// feedback report (RFC 5965 ARF: report-type=feedback-report). Only the machine-readable part is
// read; the human text around it differs with every MTA (Postfix, Gmail, Exchange) and is ignored.
// What the fields mean for the subscriber is the bounce service's business
// (subscribers/bounce.service.ts).
//
// The evidence kept holds no address: diagnostic texts quote the recipient ("550 5.1.1
// <ana@example.org>: unknown user"), and they are scrubbed here, before anything is stored.
import type { ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { scrubAddresses } from '../delivery/channels/email-errors.ts';
import type { EmailReport } from '../subscribers/bounce.service.ts';

/** The parse options for anything the listener receives: DSN parts stay parts. */
export const MAIL_PARSE_OPTIONS = {
  keepDeliveryStatus: true,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
} as const;

const DSN_PARTS = new Set(['message/delivery-status', 'message/global-delivery-status']);
const ARF_PART = 'message/feedback-report';
const MAX_TEXT = 300;
/** RFC 3463: class.subject.detail; Exchange writes three-digit details (5.1.10). */
const STATUS = /^([245]\.\d{1,3}\.\d{1,3})\b/;

type Fields = ReadonlyMap<string, unknown>;

/** The report in a received mail, or why there is none (an auto-reply, a "delivered" DSN…). */
export async function readMailReport(
  mail: ParsedMail,
): Promise<EmailReport | { readonly kind: 'none'; readonly reason: string }> {
  const arf = mail.attachments.find((a) => a.contentType === ARF_PART);
  if (arf) return complaintFrom((await fieldBlocks(arf.content))[0] ?? new Map());
  const dsn = mail.attachments.find((a) => DSN_PARTS.has(a.contentType));
  if (!dsn) return { kind: 'none', reason: 'not a delivery status notification nor a feedback report' };
  const [perMessage = new Map(), ...perRecipient] = await fieldBlocks(dsn.content);
  // One recipient per reminder; should a report list several, the gravest one speaks.
  const recipients = perRecipient
    .map((fields) => ({ fields, status: STATUS.exec(text(fields, 'status') ?? '')?.[1] }))
    .filter((r) => r.status !== undefined)
    .sort((a, b) => (b.status as string).localeCompare(a.status as string));
  const worst = recipients[0];
  if (!worst) return { kind: 'none', reason: 'delivery status without a recipient status' };
  return {
    kind: 'bounce',
    status: worst.status as string,
    action: (text(worst.fields, 'action') ?? '').toLowerCase(),
    ...optional('diagnosticCode', scrubbed(text(worst.fields, 'diagnostic-code'))),
    ...optional('reportingMta', host(text(perMessage, 'reporting-mta'))),
    ...optional('remoteMta', host(text(worst.fields, 'remote-mta'))),
  };
}

function complaintFrom(fields: Fields): EmailReport {
  return {
    kind: 'complaint',
    feedbackType: (text(fields, 'feedback-type') ?? '').toLowerCase(),
    ...optional('reportingMta', host(text(fields, 'reporting-mta'))),
    ...optional('userAgent', scrubbed(text(fields, 'user-agent'))),
  };
}

/**
 * A DSN or ARF body is groups of header fields separated by blank lines (RFC 3464 §2.1,
 * RFC 5965 §3.1); each group is read by mailparser's own header parser (folding, case).
 */
async function fieldBlocks(content: Buffer): Promise<Fields[]> {
  const groups = content
    .toString('utf8')
    .split(/\r?\n(?:[ \t]*\r?\n)+/)
    .filter((group) => group.trim() !== '');
  return Promise.all(groups.map(async (group) => (await simpleParser(`${group.trim()}\r\n\r\n`)).headers));
}

function text(fields: Fields, name: string): string | undefined {
  const value = fields.get(name);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** "dns; mx1.example.net" → "mx1.example.net" (RFC 3464 §2.1.2: the type goes). */
function host(value: string | undefined): string | undefined {
  return value?.replace(/^[A-Za-z0-9-]+\s*;\s*/, '').slice(0, MAX_TEXT);
}

function scrubbed(value: string | undefined): string | undefined {
  return value === undefined ? undefined : scrubAddresses(value).slice(0, MAX_TEXT);
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
