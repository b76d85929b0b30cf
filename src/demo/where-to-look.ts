// The lines `lastcall start`, `lastcall demo` and `lastcall demo seed` print so that a person
// knows where to look next. Text only: the commands print it. Never a secret other than the
// development admin token the operator needs for the board (in its sign-in link).
import type { Config } from '../config/config.ts';
import { redactUrl } from '../store/connection-error.ts';
import type { DemoEnd } from './demo.repository.ts';
import type { NativeDemo } from './native-demo.ts';
import type { SeedResult } from './seed.service.ts';

const hhmm = (at: number) => `${new Date(at).toISOString().slice(11, 16)} UTC`;

/** The board's address for a browser: with the token in development, which signs in once. */
export function boardUrl(config: Pick<Config, 'publicUrl' | 'env' | 'adminToken'>): string {
  const base = `${config.publicUrl}/admin/queues`;
  return config.env === 'development' && config.adminToken
    ? `${base}?token=${encodeURIComponent(config.adminToken)}`
    : `${base}   (sign in with ADMIN_TOKEN)`;
}

export function stackLines(config: Config, httpPort: number): string[] {
  const base = config.publicUrl;
  return [
    `  sign-up page    ${base}/subscribe   (serve listens on port ${httpPort})`,
    `  console         ${base}/console   (sign in with ${config.env === 'development' ? config.adminToken : 'ADMIN_TOKEN or a key from "lastcall api-keys create"'})`,
    `  health          ${base}/healthz   metrics ${base}/metrics`,
    `  queue board     ${boardUrl(config)}`,
    `  WhatsApp        ${config.whatsapp ? `on, Graph API at ${config.graphApi.url}` : 'off (set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN)'}`,
    `  email           ${config.email ? `on, through ${redactUrl(config.email.smtpUrl)}` : 'off (set SMTP_URL and MAIL_FROM)'}`,
    `  database        ${redactUrl(config.databaseUrl)}   redis ${redactUrl(config.redisUrl)} (prefix ${config.queuePrefix})`,
  ];
}

/** What `lastcall demo` prints first: where to click, in the order of the tour. */
export function demoLines(demo: NativeDemo): string[] {
  const { config, sandbox, services, seed } = demo;
  const base = config.publicUrl;
  const inbox = sandbox ? `http://localhost:${sandbox.port}/` : undefined;
  const started = (what: 'PostgreSQL' | 'Redis') =>
    services.started.find((s) => s.description.includes(what))?.description;
  const pg = started('PostgreSQL');
  const redis = started('Redis');
  const emailTo = sandbox?.smtpUrl && config.email?.smtpUrl === sandbox.smtpUrl;
  const waToSandbox = sandbox && config.whatsapp !== undefined && config.graphApi.url === sandbox.url;
  return [
    'Lastcall demo is running (Ctrl+C to stop). Open in a browser:',
    `  1. sign up      ${base}/subscribe/${seed.campaignId}   (the demo campaign's own page)`,
    inbox
      ? `  2. inbox        ${inbox}   (every WhatsApp message${emailTo ? ' and email' : ''}; reply STOP / DONE / START)`
      : `  2. WhatsApp     the Graph API at ${config.graphApi.url} (WHATSAPP_API_URL)`,
    `  queue board     ${boardUrl(config)}`,
    `  console         ${base}/console   (sign in with ${config.env === 'development' ? config.adminToken : 'ADMIN_TOKEN'})`,
    `  help page       ${base}/help?campaign=${seed.campaignId}`,
    `  WhatsApp        ${waToSandbox ? 'to the sandbox inbox' : `Graph API at ${config.whatsapp ? config.graphApi.url : 'off'}`}`,
    `  email           ${emailTo ? 'to the sandbox inbox (its mail catcher)' : config.email ? `through ${redactUrl(config.email.smtpUrl)}` : 'off'}`,
    `  PostgreSQL      ${pg ?? redactUrl(config.databaseUrl)}`,
    `  Redis           ${redis ?? redactUrl(config.redisUrl)}`,
    ...(pg || redis
      ? [
          `  data folder     ${services.dataDir} (re-used by the next run; delete it to start afresh)`,
          ...(services.moved ? [`                  (${services.moved})`] : []),
        ]
      : []),
    ...seedLines(seed, Date.now()),
    `  CLI beside it   set -a; . '${demo.envFile}'; set +a   (the demo's variables; then any command, e.g.:)`,
    `  stats           npx lastcall campaign stats ${seed.campaignId}`,
  ];
}

/** What `lastcall demo` prints when the deadline has finished its campaign. */
export function demoEndLines(end: DemoEnd, campaignId: string): string[] {
  const counts = Object.entries(end.byStatus).map(([status, n]) => `${n} ${status}`);
  return [
    `The demo campaign "${campaignId}" ended at ${hhmm(end.finishedAt.getTime())}: its deadline passed, no more reminders.`,
    `  deliveries      ${counts.length > 0 ? counts.join(', ') : 'none'}   (npx lastcall campaign stats ${campaignId})`,
    '  next            the demo keeps running for the console, the inbox and the CLI; Ctrl+C to stop,',
    '                  then npm run demo again for a new campaign minutes away (--minutes N).',
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
