// The sign-up form (GET/POST /subscribe: docs/subscribers.md, "Public pages and links").
// Accessibility: every control has a label or a legend; hints and errors are tied to their control
// with aria-describedby; a field in error has aria-invalid and its message; an error summary at the
// top links to each field. `novalidate` leaves validation to the server, so every error reads the
// same, in the page's language.
import type { CampaignPage } from '../../campaigns/signup-pages.service.ts';
import { describeCalendar, formatDeadline } from '../../planning/planner.ts';
import type { Channel } from '../../shared/vocabulary.ts';
import type { Messages } from '../i18n.ts';
import { attrs, type Html, html } from './html.ts';
import { page } from './layout.ts';
import { timeZoneOptions } from './time-zones.ts';

export const FIELDS = ['name', 'phone', 'email', 'assistant', 'channels', 'timezone', 'consent'] as const;
export type FieldName = (typeof FIELDS)[number];
export type FieldErrors = Partial<Record<FieldName, string>>;

export interface FormValues {
  readonly name: string;
  readonly phone: string;
  readonly email: string;
  readonly assistant: string;
  readonly channels: readonly string[];
  readonly timezone: string;
  readonly consent: boolean;
}

export const EMPTY_FORM: FormValues = {
  name: '',
  phone: '',
  email: '',
  assistant: '',
  channels: [],
  timezone: '',
  consent: false,
};

/** The id each error-summary link jumps to (the first control of a group). */
const TARGET: Record<FieldName, string> = {
  name: 'name',
  phone: 'phone',
  email: 'email',
  assistant: 'assistant-chatgpt',
  channels: 'channels-whatsapp',
  timezone: 'timezone',
  consent: 'consent',
};

export interface FormView {
  readonly m: Messages;
  readonly values: FormValues;
  readonly errors: FieldErrors;
  readonly consentText: string;
  /** The channels offered: configured on this server (and used by the campaign). */
  readonly channels: readonly Channel[];
  /** Signing up on a campaign's own page: its name, deadline and reminders head the form. */
  readonly campaign?: CampaignPage;
}

/** Where the form posts and the language switch points: the campaign's page or the general one. */
export const formPath = (campaign: Pick<CampaignPage, 'id'> | undefined): string =>
  campaign ? `/subscribe/${encodeURIComponent(campaign.id)}` : '/subscribe';

/** A deadline for the visitor: the server writes it in UTC, the page's script in the browser's zone. */
export function deadlineTime(deadline: number, m: Messages): Html {
  return html`<time class="local" datetime="${new Date(deadline).toISOString()}">${formatDeadline(deadline, 'UTC', m.lang === 'fr' ? 'fr' : 'en')}</time>`;
}

function campaignHeader(c: CampaignPage, m: Messages): Html {
  const names = m.campaign.channelNames;
  return html`<h1>${c.name}</h1>
<p class="deadline"><strong>${m.campaign.deadline}</strong> ${deadlineTime(c.deadline, m)}</p>
<section class="reminders" aria-labelledby="reminders-title">
<h2 id="reminders-title">${m.campaign.remindersTitle}</h2>
<p>${m.campaign.remindersIntro(describeCalendar(c.window, m.lang === 'fr' ? 'fr' : 'en'))}</p>
<ul>${c.steps.map((s) => html`<li><strong>${m.campaign.before(s.before)}</strong> · ${s.channels.map((ch) => names[ch]).join(', ')}${s.says && html`${m.colon}${m.quote(s.says)}`}</li>`)}</ul>
${c.sample && html`<details><summary>${m.campaign.sampleSummary}</summary><p class="sample">${c.sample}</p></details>`}
</section>`;
}

function describedBy(field: string, hint: boolean, error: string | undefined): string | undefined {
  const ids = [hint ? `${field}-hint` : '', error ? `${field}-error` : ''].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

function errorLine(m: Messages, field: string, error: string | undefined): Html | false {
  return (
    error !== undefined &&
    html`<p class="field-error" id="${field}-error"><span class="visually-hidden">${m.errors.prefix} </span>${error}</p>`
  );
}

function textField(
  v: FormView,
  field: 'name' | 'phone' | 'email',
  input: Record<string, string | boolean>,
): Html {
  const { m, errors, values } = v;
  const error = errors[field];
  const labels = m.form[field];
  // With both channels offered, phone and email are each needed for one of them only.
  const needed = field !== 'name' && v.channels.length > 1 && m.form.neededFor[field];
  return html`<div class="field${error ? ' has-error' : ''}">
<label for="${field}">${labels.label}${needed && html` <span class="optional">${needed}</span>`}</label>
<p class="hint" id="${field}-hint">${labels.hint}</p>
${errorLine(m, field, error)}
<input${attrs({ id: field, name: field, value: values[field], 'aria-describedby': describedBy(field, true, error), 'aria-invalid': error ? 'true' : undefined, ...input })}>
</div>`;
}

function choiceGroup(
  v: FormView,
  field: 'assistant' | 'channels',
  type: 'radio' | 'checkbox',
  legend: string,
  hint: string | undefined,
  choices: readonly (readonly [string, string])[],
): Html {
  const { m, errors, values } = v;
  const error = errors[field];
  const chosen = (value: string) =>
    field === 'channels' ? values.channels.includes(value) : values.assistant === value;
  return html`<fieldset class="field${error ? ' has-error' : ''}"${attrs({ 'aria-describedby': describedBy(field, hint !== undefined, error) })}>
<legend>${legend}</legend>
${hint !== undefined && html`<p class="hint" id="${field}-hint">${hint}</p>`}
${errorLine(m, field, error)}
${choices.map(
  ([value, label]) => html`<div class="choice">
<input${attrs({ type, id: `${field}-${value}`, name: field, value, checked: chosen(value), 'aria-invalid': error ? 'true' : undefined })}>
<label for="${field}-${value}">${label}</label>
</div>`,
)}
</fieldset>`;
}

export function renderSubscribeForm(v: FormView): string {
  const { m, errors, values } = v;
  const failing = FIELDS.filter((f) => errors[f] !== undefined);
  const summary =
    failing.length > 0 &&
    html`<div class="error-summary" id="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">${m.errors.summaryTitle}</h2>
<ul>${failing.map((f) => html`<li><a href="#${f === 'channels' ? `channels-${v.channels[0] ?? 'whatsapp'}` : TARGET[f]}">${errors[f]}</a></li>`)}</ul>
</div>`;
  const tzError = errors.timezone;
  const offers = (c: Channel) => v.channels.includes(c);
  const channelChoices = v.channels.map((c) => [c, m.form.channels[c]] as const);
  const heading = v.campaign
    ? html`${campaignHeader(v.campaign, m)}
<h2>${m.form.title}</h2>`
    : html`<h1>${m.form.title}</h1>`;
  const body = html`${summary}
${heading}
<p class="intro">${m.form.intro}</p>
<p class="hint">${m.form.requiredNote}</p>
<form method="post" action="${formPath(v.campaign)}" novalidate>
<input type="hidden" name="lang" value="${m.lang}">
${textField(v, 'name', { type: 'text', autocomplete: 'name', maxlength: '200', required: true, spellcheck: 'false' })}
${offers('whatsapp') && textField(v, 'phone', { type: 'tel', autocomplete: 'tel', inputmode: 'tel' })}
${offers('email') && textField(v, 'email', { type: 'email', autocomplete: 'email', spellcheck: 'false' })}
${choiceGroup(v, 'assistant', 'radio', m.form.assistant.legend, undefined, [
  ['chatgpt', 'ChatGPT'],
  ['copilot', 'Copilot'],
  ['both', m.form.assistant.both],
])}
${choiceGroup(v, 'channels', 'checkbox', m.form.channels.legend, v.channels.length > 1 ? m.form.channels.hint : undefined, channelChoices)}
<div class="field${tzError ? ' has-error' : ''}">
<label for="timezone">${m.form.timezone.label}</label>
<p class="hint" id="timezone-hint">${m.form.timezone.hint}</p>
${errorLine(m, 'timezone', tzError)}
<select${attrs({ id: 'timezone', name: 'timezone', required: true, 'aria-describedby': describedBy('timezone', true, tzError), 'aria-invalid': tzError ? 'true' : undefined })}>
<option value="">${m.form.timezone.placeholder}</option>
${timeZoneOptions(values.timezone)}
</select>
</div>
<fieldset class="field consent${errors.consent ? ' has-error' : ''}"${attrs({ 'aria-describedby': describedBy('consent', false, errors.consent) })}>
<legend>${m.form.consent.legend}</legend>
${errorLine(m, 'consent', errors.consent)}
<div class="choice">
<input${attrs({ type: 'checkbox', id: 'consent', name: 'consent', value: 'yes', checked: values.consent, required: true, 'aria-invalid': errors.consent ? 'true' : undefined })}>
<label for="consent">${v.consentText}</label>
</div>
</fieldset>
<div class="hp" aria-hidden="true">
<label for="website">${m.form.honeypot}</label>
<input type="text" id="website" name="website" tabindex="-1" autocomplete="off">
</div>
<button type="submit">${m.form.submit}</button>
</form>`;
  return page(m, {
    title: v.campaign ? v.campaign.name : m.form.title,
    body,
    switchHref: `${formPath(v.campaign)}?lang=${m.switchTo.lang}`,
    hasErrors: failing.length > 0,
  });
}
