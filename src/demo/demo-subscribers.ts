// The demo's subscribers: French and English, ChatGPT, Copilot and both, WhatsApp only, email
// only and both, in zones around the world. Phone numbers are ones printed in examples and
// fiction ranges (555-01xx, Australia's 0491 570 xxx); emails are at example.org. They only ever
// reach the sandbox and a mail catcher: `demo seed` refuses to run against the real Graph API.
import { DEMO_TAG } from './demo-campaign.ts';

interface DemoSubscriber {
  id: string;
  name: string;
  phone: string;
  email: string;
  locale: 'fr' | 'en' | 'fr-CA';
  timezone: string;
  assistant: 'chatgpt' | 'copilot' | 'both';
  channels: string;
}

export const DEMO_SUBSCRIBERS: readonly DemoSubscriber[] = [
  {
    id: 'demo-camille',
    name: 'Camille (démo)',
    phone: '+33612345678',
    email: 'camille.demo@example.org',
    locale: 'fr',
    timezone: 'Europe/Paris',
    assistant: 'chatgpt',
    channels: 'whatsapp;email',
  },
  {
    id: 'demo-jean-luc',
    name: 'Jean-Luc (démo)',
    phone: '+33698765432',
    email: '',
    locale: 'fr',
    timezone: 'Europe/Paris',
    assistant: 'copilot',
    channels: 'whatsapp',
  },
  {
    id: 'demo-amelie',
    name: 'Amélie (démo)',
    phone: '+15145550199',
    email: 'amelie.demo@example.org',
    locale: 'fr-CA',
    timezone: 'America/Toronto',
    assistant: 'both',
    channels: 'whatsapp;email',
  },
  {
    id: 'demo-liam',
    name: 'Liam (demo)',
    phone: '',
    email: 'liam.demo@example.org',
    locale: 'en',
    timezone: 'America/St_Johns',
    assistant: 'chatgpt',
    channels: 'email',
  },
  {
    id: 'demo-sam',
    name: 'Sam (demo)',
    phone: '+61491570156',
    email: 'sam.demo@example.org',
    locale: 'en',
    timezone: 'Australia/Sydney',
    assistant: 'both',
    channels: 'whatsapp;email',
  },
  {
    id: 'demo-priya',
    name: 'Priya (demo)',
    phone: '+12025550143',
    email: 'priya.demo@example.org',
    locale: 'en',
    timezone: 'Asia/Kolkata',
    assistant: 'copilot',
    channels: 'whatsapp;email',
  },
];

export const DEMO_CONSENT_SOURCE = 'demo seed';

const csvField = (value: string) => (/[",;\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** The subscribers CSV (docs/subscribers.md) with consent evidence "demo seed" at `consentAt`. */
export function demoSubscribersCsv(consentAt: number): string {
  const at = new Date(consentAt).toISOString();
  const header = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';
  const rows = DEMO_SUBSCRIBERS.map((s) =>
    [
      s.id,
      s.name,
      s.phone,
      s.email,
      s.locale,
      s.timezone,
      s.assistant,
      s.channels,
      at,
      DEMO_CONSENT_SOURCE,
      DEMO_TAG,
    ]
      .map(csvField)
      .join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}
