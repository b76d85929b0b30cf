// The machine-readable part of real report shapes (test/fixtures/mail-reports), as the SMTP
// listener reads it: status, action, diagnostic without the address, reporting MTA.
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { type MailReportFixture, mailReport } from '../../test/support/mail-reports.ts';
import { MAIL_PARSE_OPTIONS, readMailReport } from './mail-reports.ts';

const ADDRESS = 'ana.nowhere@example.net';

async function report(name: MailReportFixture) {
  const raw = mailReport(name, {
    returnPath: 'bounce+42.0123456789abcdef0123@lastcall.example.org',
    address: ADDRESS,
    messageId: '<delivery-42.c@lastcall.example.org>',
  });
  return readMailReport(await simpleParser(Buffer.from(raw), MAIL_PARSE_OPTIONS));
}

describe('reading delivery status notifications (RFC 3464)', () => {
  it('reads a Postfix bounce', async () => {
    expect(await report('postfix-hard-bounce')).toEqual({
      kind: 'bounce',
      status: '5.1.1',
      action: 'failed',
      diagnosticCode:
        'smtp; 550 5.1.1 <<address>>: Recipient address rejected: User unknown in virtual mailbox table',
      reportingMta: 'mx1.example.net',
      remoteMta: 'mail.example.net',
    });
  });

  it('reads a Gmail bounce behind its multipart/related notice', async () => {
    expect(await report('gmail-hard-bounce')).toMatchObject({
      kind: 'bounce',
      status: '5.1.1',
      action: 'failed',
      reportingMta: 'googlemail.com',
      diagnosticCode: expect.stringMatching(
        /^smtp; The email account that you tried to reach does not exist/,
      ),
    });
  });

  it('reads an Exchange Online / Outlook NDR, with its three-digit detail', async () => {
    const read = await report('outlook-ndr');
    expect(read).toMatchObject({
      kind: 'bounce',
      status: '5.1.10',
      action: 'failed',
      reportingMta: 'AM0PR01MB1234.eurprd01.prod.exchangelabs.com',
    });
    expect(JSON.stringify(read)).not.toContain(ADDRESS);
  });

  it('reads delayed and timed-out reports as transient (4.x.x)', async () => {
    expect(await report('postfix-delayed')).toMatchObject({
      kind: 'bounce',
      status: '4.4.1',
      action: 'delayed',
    });
    // RFC 3464 §10.1: given up after 5 days on a transient error.
    expect(await report('rfc3464-timeout')).toMatchObject({
      kind: 'bounce',
      status: '4.0.0',
      action: 'failed',
      reportingMta: 'cs.utk.edu',
    });
  });
});

describe('reading feedback reports (RFC 5965 ARF)', () => {
  it('reads an abuse report, with or without the original recipient', async () => {
    expect(await report('arf-abuse')).toEqual({
      kind: 'complaint',
      feedbackType: 'abuse',
      reportingMta: 'mx3.feedback.example.com',
      userAgent: 'Hotmail FBL',
    });
    expect(await report('arf-yahoo-redacted')).toEqual({
      kind: 'complaint',
      feedbackType: 'abuse',
      userAgent: 'Yahoo!-Mail-Feedback/2.0',
    });
  });
});

describe('other mail to a return path', () => {
  it('is no report: an auto-reply, or a DSN without a recipient status', async () => {
    const autoReply = await simpleParser(
      'From: ana@example.net\r\nSubject: Absent\r\nAuto-Submitted: auto-replied\r\n\r\nBack on Monday.\r\n',
      MAIL_PARSE_OPTIONS,
    );
    expect(await readMailReport(autoReply)).toMatchObject({ kind: 'none' });
    const noStatus = await simpleParser(
      [
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        '',
        '--b',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example.net',
        '',
        'Final-Recipient: rfc822; x@example.net',
        'Action: failed',
        '',
        '--b--',
        '',
      ].join('\r\n'),
      MAIL_PARSE_OPTIONS,
    );
    expect(await readMailReport(noStatus)).toEqual({
      kind: 'none',
      reason: 'delivery status without a recipient status',
    });
  });
});
