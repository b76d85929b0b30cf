// The mailto half of every email's List-Unsubscribe header (RFC 2369; the https half and
// RFC 8058 one-click are the /unsubscribe/:token route). Both ends of it live here: the address
// and subject a mail client uses, and how the subject of what arrives is read back.
//
// - With UNSUBSCRIBE_SMTP_PORT set, the mailto is unsubscribe@<PUBLIC_URL host> with the signed
//   unsubscribe token in its subject; `serve` receives that mail (inbound/unsubscribe-smtp.ts) and
//   unsubscribes the person, exactly as the link would.
// - Without it, the mailto is the sender's own address with the subject "unsubscribe": a person
//   who uses it reaches the operator's mailbox, and nothing in Lastcall reads it
//   (docs/operations.md, "Email set-up").

const SUBJECT_WORD = 'unsubscribe';

/** The bare address of MAIL_FROM: "Lastcall <no-reply@example.org>" → "no-reply@example.org". */
export function senderAddress(mailFrom: string): string {
  return /<([^<>\s]+)>\s*$/.exec(mailFrom)?.[1] ?? mailFrom.trim();
}

export function unsubscribeMailto(options: {
  /** config.unsubscribeSmtp?.mailbox */
  readonly mailbox: string | undefined;
  readonly mailFrom: string;
  /** A signed unsubscribe token (subscribers/tokens.ts). */
  readonly token: string;
}): string {
  if (options.mailbox === undefined)
    return `mailto:${senderAddress(options.mailFrom)}?subject=${SUBJECT_WORD}`;
  return `mailto:${options.mailbox}?subject=${encodeURIComponent(`${SUBJECT_WORD} ${options.token}`)}`;
}

/** The token in a received subject ("unsubscribe <token>", maybe behind "Re:" or "Fwd:"). */
export function tokenInSubject(subject: string): string | undefined {
  return /(?:^|\s)([A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})(?=\s|$)/.exec(subject)?.[1];
}
