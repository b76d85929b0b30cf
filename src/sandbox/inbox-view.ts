// The sandbox inbox's HTML, rendered on the server only: the page, and the two regions the
// same-origin script swaps in place when the JSON state changes (the conversation list and the
// open thread). Every value is escaped by the `html` tag. The composer sits outside both
// regions, so polling never wipes what the operator is typing; its Send button comes first, so
// Enter in the text box sends the text (a form submits with its first button), never STOP.
import { type Html, html } from '../http/views/html.ts';
import { QUICK_REPLIES } from './inbox-replies.ts';
import type { Conversation, IncomingView, OutgoingView, Ticks } from './inbox-store.ts';

export interface InboxPageInfo {
  readonly phoneNumberId: string;
  readonly webhookUrl: string | undefined;
  readonly templates: number;
  /** A notice after a reply (the result of the last form post), or an error. */
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string };
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

function outgoing(m: OutgoingView): Html {
  const tick = TICKS[m.status];
  return html`<li class="msg from-lastcall" data-id="${m.id}">
${m.header && html`<p class="header">${m.header}</p>`}
<p class="body">${m.body}</p>
${m.footer && html`<p class="footer">${m.footer}</p>`}
<p class="meta">${m.template && html`<span class="tpl">${m.template.name} · ${m.template.language}</span> `}${time(m.at)} <span class="ticks ${m.status}" title="${tick.label}" aria-label="${tick.label}">${tick.mark}</span></p>
${m.webhookProblem && html`<p class="problem">${m.webhookProblem}</p>`}
${m.buttons.length > 0 && html`<ul class="buttons">${m.buttons.map((b) => html`<li>${b.url ? html`<a class="button-link" href="${b.url}" target="_blank" rel="noopener noreferrer">↗ ${b.text}</a>` : html`<span class="button-link">${b.text}</span>`}</li>`)}</ul>`}
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

/** The conversation list: one entry per recipient, the most recent first. */
export function listRegion(conversations: readonly Conversation[], selected: string | undefined): Html {
  if (conversations.length === 0) return html`<p class="empty">No messages yet.</p>`;
  return html`<ul class="conversations">${conversations.map((c) => {
    const last = c.messages.at(-1);
    const preview = last === undefined ? '' : last.direction === 'out' ? last.body : `↩ ${last.text}`;
    return html`<li${c.digits === selected ? html` class="selected" aria-current="true"` : ''}><a href="/?to=${c.digits}"><span class="phone">${phoneOf(c.digits)}</span> <span class="count">${c.messages.length}</span><span class="preview">${preview.slice(0, 80)}</span></a></li>`;
  })}</ul>`;
}

/** The open conversation, oldest message first. */
export function threadRegion(conversation: Conversation | undefined): Html {
  if (conversation === undefined) {
    return html`<p class="empty">When Lastcall sends a WhatsApp message, its recipient appears on the left.</p>`;
  }
  return html`<h2>${phoneOf(conversation.digits)}</h2>
<ol class="thread">${conversation.messages.map((m) => (m.direction === 'out' ? outgoing(m) : incoming(m)))}</ol>`;
}

function composer(selected: string | undefined, webhookUrl: string | undefined): Html {
  if (selected === undefined) return html``;
  if (webhookUrl === undefined) {
    return html`<p class="notice error">Replies are off: start the sandbox with --webhook-url (Lastcall's /webhooks/whatsapp).</p>`;
  }
  return html`<form class="composer" method="post" action="/inbox/reply">
<input type="hidden" name="to" value="${selected}">
<label for="reply-text">Reply as ${phoneOf(selected)}</label>
<div class="free"><input id="reply-text" name="text" maxlength="4096" autocomplete="off" placeholder="Type a message"><button type="submit">Send</button></div>
<div class="quick">${QUICK_REPLIES.map((q) => html`<button type="submit" name="quick" value="${q}">${q}</button>`)}</div>
</form>`;
}

export function inboxPage(
  conversations: readonly Conversation[],
  selected: string | undefined,
  version: number,
  info: InboxPageInfo,
): string {
  const open = conversations.find((c) => c.digits === selected);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>WhatsApp sandbox · Lastcall</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/inbox/inbox.css">
<script src="/inbox/inbox.js" defer></script>
</head>
<body data-version="${String(version)}" data-selected="${selected ?? ''}">
<header class="top"><strong>WhatsApp sandbox</strong> <span>phone number id ${info.phoneNumberId} · ${String(info.templates)} approved templates · webhook ${info.webhookUrl ?? 'off'}</span></header>
${info.notice && html`<p class="notice ${info.notice.kind}" role="status">${info.notice.text}</p>`}
<div class="layout">
<nav id="list" aria-label="Conversations">${listRegion(conversations, selected)}</nav>
<main><section id="thread" aria-live="polite">${threadRegion(open)}</section>
${composer(open?.digits, info.webhookUrl)}</main>
</div>
</body>
</html>
`.text;
}
