// The lines `lastcall start`, `lastcall demo` and `lastcall demo seed` print so that a person
// knows where to look next. Text only: the commands print it. Never a secret other than the
// development admin token the operator needs for the board.
import type { Config } from '../config/config.ts';
import { redactUrl } from '../store/connection-error.ts';
import type { SeedResult } from './seed.service.ts';

const hhmm = (at: number) => `${new Date(at).toISOString().slice(11, 16)} UTC`;

export function stackLines(config: Config, httpPort: number): string[] {
  const base = config.publicUrl;
  return [
    `  sign-up page    ${base}/subscribe   (serve listens on port ${httpPort})`,
    `  health          ${base}/healthz   metrics ${base}/metrics`,
    `  queue board     ${base}/admin/queues   (Authorization: Bearer ${config.env === 'development' ? config.adminToken : 'ADMIN_TOKEN'})`,
    `  WhatsApp        ${config.whatsapp ? `on, Graph API at ${config.whatsapp.apiUrl}` : 'off (set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN)'}`,
    `  email           ${config.email ? `on, through ${redactUrl(config.email.smtpUrl)}` : 'off (set SMTP_URL and MAIL_FROM)'}`,
    `  database        ${redactUrl(config.databaseUrl)}   redis ${redactUrl(config.redisUrl)} (prefix ${config.queuePrefix})`,
  ];
}

export function seedLines(result: SeedResult, now: number): string[] {
  const minutes = Math.round((result.deadline - now) / 60_000);
  const steps = result.steps
    .map(
      (s) =>
        `${s.id} ${s.id === 'start' ? 'at the next tick' : hhmm(result.deadline - s.minutesBefore * 60_000)}`,
    )
    .join(', ');
  const lines = [
    `${result.replaced ? 'replaced' : 'created'} and started campaign "${result.campaignId}": deadline ${hhmm(result.deadline)} (in about ${minutes} min)`,
    `  steps           ${steps}`,
    `  reach           ${result.subscribers.imported} demo subscribers, ${result.start.reach} subscriber channels in ${result.start.zones} zones, ${result.start.slotsCreated} slots`,
  ];
  if (result.subscribers.bad > 0)
    lines.push(
      `  warning         ${result.subscribers.bad} demo subscribers were refused by the import (erased earlier?)`,
    );
  return lines;
}

/** How to get a mail catcher when email is off for the native demo. */
export const MAILPIT_HINT = [
  '  email is off: set SMTP_URL to see the emails, e.g. with Mailpit (a local mail catcher):',
  '    docker run --rm -p 8025:8025 -p 1025:1025 axllent/mailpit',
  '    SMTP_URL=smtp://127.0.0.1:1025 MAIL_FROM="Lastcall <demo@lastcall.localhost>" npm run demo',
  '    then open http://localhost:8025',
];
