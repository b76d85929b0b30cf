// The report fixtures of test/fixtures/mail-reports (DSNs and ARF reports in the shapes Gmail,
// Outlook, Postfix and the RFCs' examples show), filled in for one reminder, with CRLF line ends
// as they travel over SMTP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAIL_REPORTS = join(import.meta.dirname, '..', 'fixtures', 'mail-reports');

export type MailReportFixture =
  | 'postfix-hard-bounce'
  | 'postfix-delayed'
  | 'gmail-hard-bounce'
  | 'outlook-ndr'
  | 'rfc3464-timeout'
  | 'arf-abuse'
  | 'arf-yahoo-redacted';

export function mailReport(
  fixture: MailReportFixture,
  reminder: { readonly returnPath: string; readonly address: string; readonly messageId: string },
): string {
  return readFileSync(join(MAIL_REPORTS, `${fixture}.eml`), 'utf8')
    .replaceAll('{{RETURN_PATH}}', reminder.returnPath)
    .replaceAll('{{ADDRESS}}', reminder.address)
    .replaceAll('{{MESSAGE_ID}}', reminder.messageId)
    .replace(/\r?\n/g, '\r\n');
}
