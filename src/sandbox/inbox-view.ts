// The sandbox inbox's HTML, rendered on the server only: the page, and the two regions the
// same-origin script swaps in place when the JSON state changes (the list of conversations and
// mailboxes, and the open one). Every value is escaped by the `html` tag. The composer sits
// outside both regions, so polling never wipes what the reader is typing; its Send button comes
// first, so Enter in the text box sends the text (a form submits with its first button).
// Links stay in this tab: the whole tour (sign up, confirm, stop) happens in one browser tab.
import { documentHead } from '../http/views/document.ts';
import { type Html, html } from '../http/views/html.ts';
import { quickReplies } from './inbox-replies.ts';
import type { Conversation, IncomingView, Mailbox, OutgoingView, Ticks } from './inbox-store.ts';
import type { CaughtMail } from './mail-catcher.ts';

export interface InboxPageInfo {
  readonly phoneNumberId: string;
  readonly webhookUrl: string | undefined;
  readonly templates: number;
  /** smtp://… of the mail catcher, when it runs. */
  readonly smtpUrl: string | undefined;
  /** Approved UTILITY templates, which the page offers to re-categorise as Meta does. */
  readonly utilityTemplates?: readonly { readonly name: string; readonly language: string }[];
  /** A notice after a reply or an unsubscribe (the result of the last form post), or an error. */
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string };
}

/** What the page shows: both kinds of conversation, and the one open (by its key). */
export interface InboxSnapshot {
  readonly conversations: readonly Conversation[];
  readonly mailboxes: readonly Mailbox[];
  /** The key asked for (digits or address), or the most recent one when none was asked. */
  readonly selected: string | undefined;
  /** Usernames adopted, by phone digits: those people's webhooks carry only their BSUID. */
  readonly usernames?: Readonly<Record<string, string>>;
}

const TICKS: Record<Ticks, { mark: string; label: string }> = {
  accepted: { mark: '🕓', label: 'accepted by the sandbox' },
  sent: { mark: '✓', label: 'sent' },
  delivered: { mark: '✓✓', label: 'delivered' },
  read: { mark: '✓✓', label: 'read' },
  failed: { mark: '⚠', label: 'failed' },
};

export const phoneOf = (digits: string): string => `+${digits}`;

/** UTC on the server; the script rewrites it in the browser's own zone. */
function time(at: number): Html {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.slice(11, 16)} UTC</time>`;
}

/** Plain text with its http(s) links made clickable. */
export function linkified(text: string): Html {
  const parts = text.split(/(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g);
  return html`${parts.map((part, i) => (i % 2 === 1 ? html`<a href="${part}">${part}</a>` : part))}`;
}

function outgoing(m: OutgoingView): Html {
  const tick = TICKS[m.status];
  return html`<li class="msg from-lastcall" data-id="${m.id}">
${m.header && html`<p class="header">${m.header}</p>`}
<p class="body">${linkified(m.body)}</p>
${m.footer && html`<p class="footer">${m.footer}</p>`}
<p class="meta">${time(m.at)} <span class="ticks ${m.status}" title="${tick.label}" aria-label="${tick.label}">${tick.mark}</span></p>
${m.webhookProblem && html`<p class="problem">${m.webhookProblem}</p>`}
${m.buttons.length > 0 && html`<ul class="buttons">${m.buttons.map((b) => html`<li>${b.url ? html`<a class="button-link" href="${b.url}">↗ ${b.text}</a>` : html`<span class="button-link">${b.text}</span>`}</li>`)}</ul>`}
</li>`;
}

function incoming(m: IncomingView): Html {
  const { httpStatus, error } = m.delivery;
  const result =
    error !== undefined
      ? html`<span class="problem">not delivered to Lastcall: ${error}</span>`
      : httpStatus === undefined
        ? html`<span>sending to Lastcall…</span>`
        : httpStatus >= 200 && httpStatus <= 299
          ? html`<span>Lastcall answered ${httpStatus}</span>`
          : html`<span class="problem">Lastcall answered HTTP ${httpStatus}</span>`;
  return html`<li class="msg from-subscriber" data-id="${m.id}">
<p class="body">${m.text}</p>
<p class="meta">${time(m.at)} · ${result}</p>
</li>`;
}

function mailCard(mail: CaughtMail): Html {
  const oneClick =
    mail.oneClickResult !== undefined
      ? html`<p class="one-click-result" role="status">${mail.oneClickResult}</p>`
      : mail.unsubscribeUrl !== undefined &&
        mail.oneClick &&
        html`<form class="one-click" method="post" action="/inbox/mail/unsubscribe">
<input type="hidden" name="id" value="${mail.id}">
<button type="submit" class="secondary">Unsubscribe (one click, as Gmail offers it)</button>
</form>`;
  return html`<li class="mail" data-id="${mail.id}">
<h3 class="mail-subject">${mail.subject || '(no subject)'}</h3>
<p class="mail-meta">From ${mail.from} · ${time(mail.at)}</p>
${
  mail.html === undefined
    ? html`<div class="mail-body">${linkified(mail.text)}</div>`
    : html`<iframe class="mail-html" src="/inbox/mail/${mail.id}/html" sandbox="allow-popups allow-popups-to-escape-sandbox" title="${mail.subject || 'mail'} (HTML part)"></iframe>
<details class="mail-text"><summary>Plain-text part</summary><div class="mail-body">${linkified(mail.text)}</div></details>`
}
${oneClick}
</li>`;
}

type Entry =
  | { kind: 'whatsapp'; key: string; label: string; lastAt: number; unread: number; preview: string }
  | { kind: 'email'; key: string; label: string; lastAt: number; unread: number; preview: string };

function entries(s: InboxSnapshot): Entry[] {
  const chats = s.conversations.map((c): Entry => {
    const last = c.messages.at(-1);
    const preview = last === undefined ? '' : last.direction === 'out' ? last.body : `↩ ${last.text}`;
    return {
      kind: 'whatsapp',
      key: c.digits,
      label: phoneOf(c.digits),
      lastAt: c.lastAt,
      unread: c.unread,
      preview,
    };
  });
  const boxes = s.mailboxes.map(
    (b): Entry => ({
      kind: 'email',
      key: b.address,
      label: b.address,
      lastAt: b.lastAt,
      unread: b.unread,
      preview: b.mails.at(-1)?.subject ?? '',
    }),
  );
  return [...chats, ...boxes].sort((a, b) => b.lastAt - a.lastAt || a.key.localeCompare(b.key));
}

/** The most recent conversation or mailbox, opened when the page names none. */
export function mostRecentKey(s: Omit<InboxSnapshot, 'selected'>): string | undefined {
  return entries({ ...s, selected: undefined })[0]?.key;
}

/** The list: one entry per phone and per mailbox, the most recent first. */
export function listRegion(s: InboxSnapshot): Html {
  const list = entries(s);
  if (list.length === 0) return html`<p class="empty">No messages yet.</p>`;
  return html`<ul class="conversations">${list.map(
    (e) =>
      html`<li${e.key === s.selected ? html` class="selected" aria-current="true"` : ''}><a href="/?to=${encodeURIComponent(e.key)}"><span class="channel ${e.kind}">${e.kind === 'whatsapp' ? 'WhatsApp' : 'Email'}</span> <span class="who">${e.label}</span>${e.unread > 0 && html` <span class="count" title="unread">${String(e.unread)}</span><span class="visually-hidden"> unread</span>`}<span class="preview">${e.preview.slice(0, 80)}</span></a></li>`,
  )}</ul>`;
}

/** The open conversation or mailbox, oldest first; a key with no messages says so. */
export function threadRegion(s: InboxSnapshot): Html {
  const chat = s.conversations.find((c) => c.digits === s.selected);
  if (chat) {
    const username = s.usernames?.[chat.digits];
    return html`<h2>WhatsApp · ${phoneOf(chat.digits)}${username !== undefined && html` <span class="username">@${username}</span>`}</h2>
<ol class="thread">${chat.messages.map((m) => (m.direction === 'out' ? outgoing(m) : incoming(m)))}</ol>`;
  }
  const box = s.mailboxes.find((b) => b.address === s.selected);
  if (box) {
    return html`<h2>Email · ${box.address}</h2>
<ol class="thread mails">${box.mails.map(mailCard)}</ol>`;
  }
  if (s.selected !== undefined) {
    const who = /^\d+$/.test(s.selected) ? phoneOf(s.selected) : s.selected;
    return html`<p class="empty">Nothing for ${who} yet. Messages Lastcall sends there will appear here.</p>`;
  }
  return html`<p class="empty">When Lastcall sends a WhatsApp message or an email, its recipient appears on the left.</p>`;
}

/** The language of a conversation: the one of Lastcall's latest template message. */
function languageOf(chat: Conversation): string | undefined {
  const last = [...chat.messages].reverse().find((m) => m.direction === 'out' && m.template);
  return last?.direction === 'out' ? last.template?.language : undefined;
}

function composer(
  chat: Conversation | undefined,
  webhookUrl: string | undefined,
  username: string | undefined,
): Html {
  if (chat === undefined) return html``;
  if (webhookUrl === undefined) {
    return html`<p class="notice error">Replies are off: start the sandbox with --webhook-url (Lastcall's /webhooks/whatsapp).</p>`;
  }
  const selected = chat.digits;
  return html`<form class="composer" method="post" action="/inbox/reply">
<input type="hidden" name="to" value="${selected}">
<label for="reply-text">Reply as ${phoneOf(selected)}</label>
<div class="free"><input id="reply-text" name="text" maxlength="4096" autocomplete="off" placeholder="Type a message"><button type="submit">Send</button></div>
<div class="quick">${quickReplies(languageOf(chat)).map((q) => html`<button type="submit" name="quick" value="${q}">${q}</button>`)}</div>
</form>
${
  username === undefined
    ? html`<form class="username-form" method="post" action="/inbox/username">
<input type="hidden" name="to" value="${selected}">
<label for="username">Adopt a WhatsApp username (this person's webhooks then carry only their business-scoped user id)</label>
<div class="free"><input id="username" name="username" maxlength="35" pattern="[A-Za-z0-9._]{3,35}" autocomplete="off" placeholder="e.g. amelie.b"><button type="submit">Adopt</button></div>
</form>`
    : html`<p class="notice">Uses the username @${username}: replies carry no phone number, only the business-scoped user id.</p>`
}`;
}

/** Whether the page has a reply box: a WhatsApp conversation is open (the script reloads the
 *  page when that changes, since the composer sits outside the regions it swaps). */
export const hasComposer = (s: InboxSnapshot): boolean =>
  s.conversations.some((c) => c.digits === s.selected);

export function inboxPage(s: InboxSnapshot, version: number, info: InboxPageInfo): string {
  const chat = s.conversations.find((c) => c.digits === s.selected);
  const head = documentHead({
    lang: 'en',
    title: 'Sandbox inbox · Lastcall',
    referrer: 'same-origin',
    noIcon: true,
    styles: ['/inbox/inbox.css'],
    scripts: ['/inbox/inbox.js'],
  });
  return html`${head}
<body data-version="${String(version)}" data-selected="${s.selected ?? ''}" data-composer="${hasComposer(s) ? 'yes' : 'no'}">
<header class="top"><strong>Sandbox inbox</strong> <span>Every WhatsApp message and email Lastcall sends here, as a phone or a mailbox shows it. Nothing leaves this machine.</span></header>
${info.notice && html`<p class="notice ${info.notice.kind}" role="status">${info.notice.text}</p>`}
<div class="layout">
<nav id="list" aria-label="Conversations and mailboxes">${listRegion(s)}</nav>
<main><section id="thread" aria-live="polite">${threadRegion(s)}</section>
${composer(chat, info.webhookUrl, chat && s.usernames?.[chat.digits])}</main>
</div>
<footer class="details"><details><summary>Sandbox details</summary>
<p>Fake Graph API: phone number id ${info.phoneNumberId}, ${String(info.templates)} approved templates; status webhooks to ${info.webhookUrl ?? 'nowhere (no --webhook-url)'}.</p>
<p>Mail catcher: ${info.smtpUrl ?? 'off'}.</p>
${
  info.utilityTemplates &&
  info.utilityTemplates.length > 0 &&
  html`<form class="recategorise" method="post" action="/inbox/recategorise"><label for="recat">Meta re-categorises a template as MARKETING (a template_category_update webhook goes to Lastcall)</label>
<div class="free"><select id="recat" name="template">${info.utilityTemplates.map((t) => html`<option value="${t.name}|${t.language}">${t.name} (${t.language})</option>`)}</select><button type="submit">Re-categorise</button></div></form>`
}
</details></footer>
</body>
</html>
`.text;
}
