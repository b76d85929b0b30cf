// The one place that reads the environment (docs/operations.md, "Configuration"). Everything is
// parsed once, every problem is listed at once, and the result is frozen. Other modules receive a
// Config; they never read process.env.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { queuePrefixProblem } from '../queue/keys.ts';
import { parseMessagingLimit } from '../shared/messaging-limit.ts';
import { redactUrl } from '../store/connection-error.ts';
import { readSecretFiles, SECRETS } from './secret-files.ts';
import { parseTrustProxy, TRUST_PROXY_RULE, type TrustProxy } from './trust-proxy.ts';

export type Role = 'cli' | 'serve' | 'work';

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/** SMTP connections per worker process when EMAIL_POOL_SIZE is not set. nodemailer's own
 *  default is 5; against a relay answering in 20–50 ms, 10 sent 1.5–2× as much (bench/email.ts),
 *  and nodemailer opens them only while messages wait, so a low EMAIL_RATE uses one or two. */
export const EMAIL_POOL_SIZE_DEFAULT = 10;

const positiveNumber = z.coerce.number({ message: 'must be a number' }).positive('must be greater than 0');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/lastcall'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** Unset: http://localhost:<HTTP_PORT> (8080 when HTTP_PORT is 0, a port chosen at start). */
  PUBLIC_URL: url(['http:', 'https:'])
    .optional()
    .transform((v) => v?.replace(/\/+$/, '')),
  HTTP_PORT: z.coerce.number({ message: 'must be a number' }).int().min(0).max(65535).default(8080),
  SECRET_KEY: optionalString.refine((v) => v === undefined || Buffer.byteLength(v) >= 32, {
    message: 'must be at least 32 bytes long',
  }),
  ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters long',
  }),
  SMTP_URL: optionalString.pipe(url(['smtp:', 'smtps:']).optional()),
  MAIL_FROM: optionalString,
  EMAIL_RATE: positiveNumber.default(10),
  /** SMTP connections each worker process may open to SMTP_URL (nodemailer's pool); blank: the default. */
  EMAIL_POOL_SIZE: optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a number' })
      .int('must be a whole number from 1 to 100')
      .min(1, 'must be a whole number from 1 to 100')
      .max(100, 'must be a whole number from 1 to 100')
      .default(EMAIL_POOL_SIZE_DEFAULT),
  ),
  WHATSAPP_TOKEN: optionalString,
  WHATSAPP_PHONE_NUMBER_ID: optionalString,
  WHATSAPP_APP_SECRET: optionalString,
  WHATSAPP_VERIFY_TOKEN: optionalString,
  WHATSAPP_BUSINESS_ACCOUNT_ID: optionalString,
  WHATSAPP_API_URL: url(['http:', 'https:'])
    .default('https://graph.facebook.com')
    .transform((v) => v.replace(/\/+$/, '')),
  WHATSAPP_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v23.0')
    .default('v23.0'),
  /** Blank or unset: 80 until the workers read the number's throughput level (docs/whatsapp.md). */
  WHATSAPP_RATE: optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a number' })
      .positive('must be greater than 0')
      .default(80),
  ),
  /** Unique people per rolling 24 h (docs/whatsapp.md); unset: read from the Graph API. */
  WHATSAPP_MESSAGING_LIMIT: optionalString.pipe(
    z
      .string()
      .transform((v) => v.trim())
      .refine((v) => parseMessagingLimit(v) !== undefined, {
        message: 'must be a whole number of people (e.g. 250), unlimited, or a tier such as TIER_2K',
      })
      .optional(),
  ),
  /** Who sends, as named in the consent text and in mails. */
  SENDER_NAME: optionalString.pipe(
    z
      .string()
      .max(100, 'must be at most 100 characters')
      .regex(/^[^\r\n<>"]*$/, 'must be one line without < > or "')
      .optional(),
  ),
  /** Where `lastcall demo` looks for initdb, pg_ctl and redis-server. */
  PATH: z.string().default(''),
  /** The operator's endpoint for outbound events and their signing key (docs/api.md). */
  EVENTS_URL: optionalString.pipe(url(['http:', 'https:']).optional()),
  EVENTS_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters long',
  }),
  LASTCALL_ENV: z
    .enum(['production', 'development'], { message: 'must be production or development' })
    .default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Prefix of every Redis key (BullMQ's and Lastcall's own); tests give each file its own.
   *  Each queue adds its own Redis Cluster hash tag (src/queue/keys.ts, docs/redis-cluster.md). */
  QUEUE_PREFIX: z
    .string()
    .min(1)
    .default('lastcall')
    .superRefine((prefix, ctx) => {
      const problem = queuePrefixProblem(prefix);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** REDIS_URL is one node of a Redis Cluster (or a managed cluster's configuration endpoint). */
  REDIS_CLUSTER: z
    .enum(['true', 'false', '1', '0', ''], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** `serve` receives the List-Unsubscribe mailto on this SMTP port (unset: no listener). */
  UNSUBSCRIBE_SMTP_PORT: optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be a port number from 0 to 65535')
      .max(65535, 'must be a port number from 0 to 65535')
      .optional(),
  ),
  /** PEM files: the unsubscribe SMTP listener then offers STARTTLS. */
  UNSUBSCRIBE_SMTP_TLS_CERT: optionalString,
  UNSUBSCRIBE_SMTP_TLS_KEY: optionalString,
  /** The reverse proxies whose X-Forwarded-For is believed (src/config/trust-proxy.ts). */
  TRUST_PROXY: optionalString.refine((v) => parseTrustProxy(v) !== undefined, { message: TRUST_PROXY_RULE }),
  /** Record the sign-up's IP and user agent in the consent event (GDPR: off unless asked). */
  CONSENT_RECORD_IP: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
});

type Raw = z.infer<typeof schema>;

export interface Config {
  readonly env: 'production' | 'development';
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** REDIS_CLUSTER: connect with ioredis' Cluster client, REDIS_URL being the seed node. */
  readonly redisCluster: boolean;
  readonly publicUrl: string;
  readonly httpPort: number;
  readonly secretKey: string | undefined;
  readonly adminToken: string | undefined;
  readonly logLevel: Raw['LOG_LEVEL'];
  /** QUEUE_PREFIX as written: each queue's keys get their hash tag from it (src/queue/keys.ts). */
  readonly queuePrefix: string;
  readonly consentRecordIp: boolean;
  /** TRUST_PROXY: false (the connection's address is the visitor's), or the proxies' addresses. */
  readonly trustProxy: TrustProxy;
  /** SENDER_NAME, else the PUBLIC_URL host: named in the consent text and in mails. */
  readonly senderName: string;
  /** Whether DATABASE_URL and REDIS_URL were set (rather than defaulted): the demo starts
   *  private servers in place of unset ones. */
  readonly named: { readonly databaseUrl: boolean; readonly redisUrl: boolean };
  /** The PATH directories, where `lastcall demo` looks for local server binaries. */
  readonly binPath: readonly string[];
  /**
   * UNSUBSCRIBE_SMTP_PORT set: emails' List-Unsubscribe mailto goes to `mailbox`
   * (unsubscribe@<PUBLIC_URL host>), which `serve` receives on `port` and acts on.
   */
  readonly unsubscribeSmtp:
    | {
        readonly port: number;
        readonly mailbox: string;
        /** Reminders' envelope sender is bounce+<token>@ this host: the PUBLIC_URL host. */
        readonly returnPathDomain: string;
        /** PEM file paths: STARTTLS is offered. */
        readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
      }
    | undefined;
  /** SMTP_URL and MAIL_FROM: the email channel is on; `poolSize` is EMAIL_POOL_SIZE, the SMTP
   *  connections each worker process sends through. */
  readonly email: { readonly smtpUrl: string; readonly from: string; readonly poolSize: number } | undefined;
  /** The WhatsApp credentials: the WhatsApp channel is on. */
  readonly whatsapp:
    | {
        readonly token: string;
        readonly phoneNumberId: string;
        readonly appSecret: string;
        readonly verifyToken: string;
        readonly businessAccountId: string | undefined;
      }
    | undefined;
  /** Where the Graph API answers (WHATSAPP_API_URL, WHATSAPP_API_VERSION), whether or not the
   *  channel is on: the demo and `doctor` name it too. */
  readonly graphApi: { readonly url: string; readonly version: string };
  /** Sends per second per channel, all workers together (WHATSAPP_RATE, EMAIL_RATE). */
  readonly rates: { readonly whatsapp: number; readonly email: number };
  /** True when WHATSAPP_RATE is set: else the workers take the rate from the number's
   *  throughput level (docs/whatsapp.md), `rates.whatsapp` being the fallback. */
  readonly whatsappRateSet: boolean;
  /** WHATSAPP_MESSAGING_LIMIT: the unique people per rolling 24 h the operator imposes (a number,
   *  or `unlimited`); undefined: Lastcall reads Meta's limit from the Graph API. */
  readonly whatsappMessagingLimit: number | 'unlimited' | undefined;
  /** EVENTS_URL and EVENTS_SECRET: outbound events are POSTed there, signed (docs/api.md). */
  readonly events: { readonly url: string; readonly secret: string } | undefined;
}

/**
 * The configuration of `lastcall serve` (and `start`, which runs both roles): the link and
 * session key and the admin token are always there (parseConfig refuses a production serve
 * without them; development fills them in), so nothing downstream checks them again.
 */
export interface ServeConfig extends Config {
  readonly secretKey: string;
  readonly adminToken: string;
}

/** The configuration of `lastcall work`: the key that signs the links in every reminder. */
export interface WorkConfig extends Config {
  readonly secretKey: string;
}

/** The CLI's configuration: SECRET_KEY and ADMIN_TOKEN may be unset; the commands that need the
 *  key ask for it with `requireSecretKey`. */
export type CliConfig = Config;

/** The configuration each role gets from parseConfig and loadConfig. */
export type ConfigFor<R extends Role> = R extends 'serve'
  ? ServeConfig
  : R extends 'work'
    ? WorkConfig
    : CliConfig;

/** A CLI command that signs or hashes with SECRET_KEY: the config with the key, or a ConfigError
 *  naming it and why it is needed. */
export function requireSecretKey<C extends Config>(
  config: C,
  why: string,
): C & { readonly secretKey: string } {
  if (config.secretKey === undefined)
    throw new ConfigError([
      `SECRET_KEY: required here (${why}); set the same SECRET_KEY as serve and work (at least 32 bytes)`,
    ]);
  return config as C & { readonly secretKey: string };
}

/** Where the admin token is needed (console sign-in) by a config that is not serve's. */
export function requireAdminToken<C extends Config>(config: C): C & { readonly adminToken: string } {
  if (config.adminToken === undefined)
    throw new ConfigError(['ADMIN_TOKEN: required here (the console and the admin API sign in with it)']);
  return config as C & { readonly adminToken: string };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A development secret, so `LASTCALL_ENV=development` works without setup. Never used in production. */
const DEV_SECRET = 'lastcall-development-secret-key-not-for-production';

/** The rules that tie variables together (one needs another), on the raw environment: a value
 *  counts as set when it is not blank. */
function crossFieldProblems(env: Record<string, string | undefined>, role: Role): string[] {
  const v: Record<string, string | undefined> = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value?.trim()),
  );
  const problems: string[] = [];
  const dev = v.LASTCALL_ENV === 'development';
  if (v.SMTP_URL && !v.MAIL_FROM)
    problems.push('MAIL_FROM: required when SMTP_URL is set (the sender address)');
  if (v.MAIL_FROM && !/^[^@\s<>]+@[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>$/.test(v.MAIL_FROM))
    problems.push(
      `MAIL_FROM=${JSON.stringify(v.MAIL_FROM)}: must be an email address, e.g. "Lastcall <no-reply@example.org>"`,
    );
  const wa = [v.WHATSAPP_TOKEN, v.WHATSAPP_PHONE_NUMBER_ID];
  if (wa.some(Boolean)) {
    if (!v.WHATSAPP_TOKEN) problems.push('WHATSAPP_TOKEN: required when WHATSAPP_PHONE_NUMBER_ID is set');
    if (!v.WHATSAPP_PHONE_NUMBER_ID)
      problems.push('WHATSAPP_PHONE_NUMBER_ID: required when WHATSAPP_TOKEN is set');
    if (!v.WHATSAPP_APP_SECRET)
      problems.push('WHATSAPP_APP_SECRET: required with WhatsApp (verifies webhook signatures)');
    if (!v.WHATSAPP_VERIFY_TOKEN)
      problems.push('WHATSAPP_VERIFY_TOKEN: required with WhatsApp (webhook handshake)');
  }
  const tlsFiles = [v.UNSUBSCRIBE_SMTP_TLS_CERT, v.UNSUBSCRIBE_SMTP_TLS_KEY];
  if (tlsFiles.some(Boolean)) {
    if (v.UNSUBSCRIBE_SMTP_PORT === undefined)
      problems.push(
        'UNSUBSCRIBE_SMTP_TLS_CERT, UNSUBSCRIBE_SMTP_TLS_KEY: need UNSUBSCRIBE_SMTP_PORT (the listener they secure)',
      );
    if (!tlsFiles.every(Boolean))
      problems.push(
        'UNSUBSCRIBE_SMTP_TLS_CERT, UNSUBSCRIBE_SMTP_TLS_KEY: set both (PEM certificate and its private key) or neither',
      );
  }
  if (!dev && (role === 'serve' || role === 'work') && !v.SECRET_KEY)
    problems.push(
      `SECRET_KEY: required by "${role}" outside development (at least 32 bytes; e.g. openssl rand -hex 32)`,
    );
  if (!dev && role === 'serve' && !v.ADMIN_TOKEN)
    problems.push('ADMIN_TOKEN: required by "serve" outside development (bearer token for /admin/*)');
  if (Boolean(v.EVENTS_URL) !== Boolean(v.EVENTS_SECRET))
    problems.push(
      v.EVENTS_URL
        ? 'EVENTS_SECRET: required with EVENTS_URL (signs every event; at least 16 characters, e.g. openssl rand -hex 32)'
        : 'EVENTS_URL: required with EVENTS_SECRET (the endpoint events are POSTed to)',
    );
  if ((v.REDIS_CLUSTER === 'true' || v.REDIS_CLUSTER === '1') && v.REDIS_URL && URL.canParse(v.REDIS_URL)) {
    const database = new URL(v.REDIS_URL).pathname.slice(1);
    if (database !== '' && database !== '0')
      problems.push(
        `REDIS_URL=${JSON.stringify(redactUrl(v.REDIS_URL))}: a Redis Cluster has only database 0 (remove the /${database} path, or unset REDIS_CLUSTER)`,
      );
  }
  return problems;
}

/** How a problem shows the value: secrets by their length only, URLs without their password. */
function shown(name: string, value: string): string {
  if (SECRETS.has(name)) return ` (value hidden, ${value.length} characters)`;
  if (name.endsWith('_URL') && URL.canParse(value)) return `=${JSON.stringify(redactUrl(value))}`;
  return `=${JSON.stringify(value)}`;
}

export function parseConfig(env: Record<string, string | undefined>): CliConfig;
export function parseConfig<R extends Role>(env: Record<string, string | undefined>, role: R): ConfigFor<R>;
export function parseConfig(given: Record<string, string | undefined>, role: Role = 'cli'): Config {
  // SECRET_KEY_FILE and the like (src/config/secret-files.ts) become SECRET_KEY first.
  const { env, problems } = readSecretFiles(given);
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      problems.push(`${name}${shown(name, env[name] ?? '')}: ${issue.message}`);
    }
  }
  // The rules between variables read the raw text, so that they are listed even when a variable
  // failed its own rule above: every problem at once.
  problems.push(...crossFieldProblems(env, role));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const r = parsed.data;
  const dev = r.LASTCALL_ENV === 'development';
  const publicUrl = r.PUBLIC_URL ?? `http://localhost:${r.HTTP_PORT || 8080}`;

  const config: Config = {
    env: r.LASTCALL_ENV,
    databaseUrl: r.DATABASE_URL,
    redisUrl: r.REDIS_URL,
    redisCluster: r.REDIS_CLUSTER,
    publicUrl,
    httpPort: r.HTTP_PORT,
    secretKey: r.SECRET_KEY ?? (dev ? DEV_SECRET : undefined),
    adminToken: r.ADMIN_TOKEN ?? (dev ? 'development-admin-token' : undefined),
    logLevel: r.LOG_LEVEL,
    queuePrefix: r.QUEUE_PREFIX,
    consentRecordIp: r.CONSENT_RECORD_IP,
    trustProxy: parseTrustProxy(r.TRUST_PROXY) ?? false,
    senderName: r.SENDER_NAME ?? new URL(publicUrl).host,
    named: { databaseUrl: isSet(env.DATABASE_URL), redisUrl: isSet(env.REDIS_URL) },
    binPath: r.PATH.split(delimiter).filter(Boolean),
    unsubscribeSmtp:
      r.UNSUBSCRIBE_SMTP_PORT === undefined
        ? undefined
        : {
            port: r.UNSUBSCRIBE_SMTP_PORT,
            mailbox: `unsubscribe@${new URL(publicUrl).hostname}`,
            returnPathDomain: new URL(publicUrl).hostname,
            tls:
              r.UNSUBSCRIBE_SMTP_TLS_CERT && r.UNSUBSCRIBE_SMTP_TLS_KEY
                ? { certFile: r.UNSUBSCRIBE_SMTP_TLS_CERT, keyFile: r.UNSUBSCRIBE_SMTP_TLS_KEY }
                : undefined,
          },
    email:
      r.SMTP_URL && r.MAIL_FROM
        ? { smtpUrl: r.SMTP_URL, from: mailFrom(r.MAIL_FROM, r.SENDER_NAME), poolSize: r.EMAIL_POOL_SIZE }
        : undefined,
    whatsapp:
      r.WHATSAPP_TOKEN && r.WHATSAPP_PHONE_NUMBER_ID && r.WHATSAPP_APP_SECRET && r.WHATSAPP_VERIFY_TOKEN
        ? {
            token: r.WHATSAPP_TOKEN,
            phoneNumberId: r.WHATSAPP_PHONE_NUMBER_ID,
            appSecret: r.WHATSAPP_APP_SECRET,
            verifyToken: r.WHATSAPP_VERIFY_TOKEN,
            businessAccountId: r.WHATSAPP_BUSINESS_ACCOUNT_ID,
          }
        : undefined,
    graphApi: { url: r.WHATSAPP_API_URL, version: r.WHATSAPP_API_VERSION },
    rates: { whatsapp: r.WHATSAPP_RATE, email: r.EMAIL_RATE },
    whatsappRateSet: isSet(env.WHATSAPP_RATE),
    whatsappMessagingLimit:
      r.WHATSAPP_MESSAGING_LIMIT === undefined ? undefined : parseMessagingLimit(r.WHATSAPP_MESSAGING_LIMIT),
    events: r.EVENTS_URL && r.EVENTS_SECRET ? { url: r.EVENTS_URL, secret: r.EVENTS_SECRET } : undefined,
  };
  return deepFreeze(config);
}

/** Reads process.env, with `.env` from the working directory filling in what is unset. */
export function loadConfig(): CliConfig;
export function loadConfig<R extends Role>(role: R, cwd?: string): ConfigFor<R>;
export function loadConfig(role: Role = 'cli', cwd = process.cwd()): Config {
  const file = `${cwd}/.env`;
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return parseConfig({ ...fromFile, ...process.env }, role);
}

/** A bare MAIL_FROM address takes SENDER_NAME as its display name, so mails say who sends. */
function mailFrom(from: string, senderName: string | undefined): string {
  if (senderName === undefined || from.includes('<')) return from;
  return `"${senderName}" <${from.trim()}>`;
}

const isSet = (value: string | undefined) => value !== undefined && value.trim() !== '';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
