// From the posted form to a SubscriberInput, with the same rules as the CSV import
// (validateSubscriber) plus what only the form has: the consent box. Every refusal becomes one
// message per field, in the page's language.
import type { CountryCode } from 'libphonenumber-js/max';
import type { Config } from '../config/config.ts';
import type { Problem } from '../shared/errors.ts';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import { type SubscriberInput, validateSubscriber } from '../subscribers/subscriber.schema.ts';
import { newSubscriberId, WEB_SOURCE } from '../subscribers/subscription.service.ts';
import type { Messages } from './i18n.ts';
import { EMPTY_FORM, type FieldErrors, type FieldName, type FormValues } from './views/subscribe.view.ts';

type Body = Readonly<Record<string, unknown>>;

function text(body: Body, name: string): string {
  const value = body[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

function list(body: Body, name: string): string[] {
  const value = body[name];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === 'string' && v !== '');
}

export function readForm(body: unknown): FormValues {
  if (typeof body !== 'object' || body === null) return EMPTY_FORM;
  const b = body as Body;
  return {
    name: text(b, 'name'),
    phone: text(b, 'phone'),
    email: text(b, 'email'),
    assistant: text(b, 'assistant'),
    channels: list(b, 'channels'),
    timezone: text(b, 'timezone'),
    consent: text(b, 'consent') !== '',
  };
}

/** The honeypot: a field people cannot see or reach, that form-filling bots fill in. */
export function isBot(body: unknown): boolean {
  return typeof body === 'object' && body !== null && text(body as Body, 'website').trim() !== '';
}

function fieldError(m: Messages, problem: Problem): [FieldName, string] {
  const e = m.errors;
  switch (problem.path) {
    case 'name':
      if (problem.rule.startsWith('is required')) return ['name', e.nameRequired];
      return ['name', problem.rule.includes('at most') ? e.nameTooLong : e.nameOneLine];
    case 'phone':
      return ['phone', e.phoneInvalid];
    case 'email':
      return ['email', e.emailInvalid];
    case 'phone, email':
      return ['phone', e.contactRequired];
    case 'timezone':
      return ['timezone', e.timezone];
    case 'assistant':
      return ['assistant', e.assistant];
    case 'channels':
      if (problem.rule.startsWith('whatsapp needs')) return ['phone', e.phoneForWhatsApp];
      if (problem.rule.startsWith('email needs')) return ['email', e.emailForEmail];
      return ['channels', e.channels];
    default:
      return ['name', e.other];
  }
}

export type CheckedForm =
  | { readonly ok: true; readonly input: SubscriberInput }
  | { readonly ok: false; readonly errors: FieldErrors };

/** The channels this server can send on: a channel without its settings is off. */
export function configuredChannels(config: Pick<Config, 'whatsapp' | 'email'>): Channel[] {
  return [...(config.whatsapp ? ['whatsapp' as const] : []), ...(config.email ? ['email' as const] : [])];
}

export function checkForm(
  values: FormValues,
  m: Messages,
  locale: Locale,
  phoneCountry: CountryCode | undefined,
  now: number,
  offered: readonly Channel[],
): CheckedForm {
  const result = validateSubscriber(
    {
      id: newSubscriberId(),
      name: values.name,
      phone: values.phone,
      email: values.email,
      locale,
      timezone: values.timezone,
      assistant: values.assistant,
      channels: values.channels.join(';'),
      consent_at: new Date(now).toISOString(),
      consent_source: WEB_SOURCE,
    },
    { now, ...(phoneCountry ? { defaultCountry: phoneCountry } : {}) },
  );
  const errors: FieldErrors = {};
  if (!result.ok) {
    for (const problem of result.problems) {
      const [field, message] = fieldError(m, problem);
      errors[field] ??= message; // the first problem of a field is the one to fix first
    }
  }
  // A field the page does not show cannot carry its error: the one it does show takes it.
  if (!offered.includes('whatsapp') && errors.phone !== undefined) {
    errors.email ??= errors.phone;
    delete errors.phone;
  }
  if (!offered.includes('email') && errors.email !== undefined) {
    errors.phone ??= errors.email;
    delete errors.email;
  }
  if (values.channels.some((c) => !(offered as readonly string[]).includes(c)))
    errors.channels = m.errors.channels;
  if (!values.consent) errors.consent = m.errors.consent;
  // The form asks which assistant (the attribute the shipped campaign's texts choose by); an
  // import may leave it out, the form may not.
  if (values.assistant.trim() === '') errors.assistant ??= m.errors.assistant;
  if (!result.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, input: result.value };
}
