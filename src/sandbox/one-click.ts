// The inbox's "Unsubscribe (one click)": what Gmail or Yahoo do with a message carrying
// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058). The mail provider, not the reader's
// browser, POSTs "List-Unsubscribe=One-Click" to the https link, with no cookies and no
// redirects followed. The answer is kept on the mail for the inbox to show.
import type { InboxStore } from './inbox-store.ts';
import type { CaughtMail } from './mail-catcher.ts';

const TIMEOUT_MS = 10_000;

export async function oneClickUnsubscribe(store: InboxStore, mail: CaughtMail): Promise<void> {
  if (mail.unsubscribeUrl === undefined || !mail.oneClick) {
    mail.oneClickResult = 'This mail offers no one-click unsubscribe.';
  } else {
    try {
      const res = await fetch(mail.unsubscribeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      mail.oneClickResult =
        res.status >= 200 && res.status <= 299
          ? `Unsubscribed with one click: Lastcall answered ${res.status}.`
          : `One-click unsubscribe refused: Lastcall answered HTTP ${res.status}.`;
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      mail.oneClickResult = `One-click unsubscribe did not reach Lastcall: ${e.cause?.code ?? e.message}.`;
    }
  }
  store.touch();
}
