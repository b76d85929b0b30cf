// `lastcall sandbox`: the WhatsApp sandbox as a service. A fake Graph API holding every Lastcall
// template as APPROVED, with an inbox at "/" that shows each message as a phone would and answers
// STOP / DONE / START through a signed webhook; with --smtp-port, emails land in the same inbox. Secrets default to the configured WhatsApp
// settings, else to the compose defaults, so both sides agree without setup.
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { onShutdownSignal } from '../../queue/shutdown.ts';
import { SANDBOX_DEFAULTS, startSandbox } from '../../sandbox/sandbox.service.ts';
import { port } from '../option-parsers.ts';

interface SandboxFlags {
  port: number;
  host: string;
  webhookUrl?: string;
  appSecret?: string;
  token?: string;
  phoneNumberId?: string;
  wabaId?: string;
  smtpPort?: number;
  messagingTier?: string;
  throughput?: string;
}

const httpUrl = (value: string): string => {
  try {
    if (['http:', 'https:'].includes(new URL(value).protocol)) return value;
  } catch {}
  throw new InvalidArgumentError(
    `must be an http(s) URL like http://127.0.0.1:8080/webhooks/whatsapp (got ${value})`,
  );
};

/** What a person types in a browser for a server listening on `host`. */
export function browserUrl(host: string, portNumber: number): string {
  const name = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${portNumber}`;
}

export function register(program: Command): void {
  program
    .command('sandbox')
    .description(
      'run the WhatsApp sandbox: a fake Graph API with every template approved, and a phone-like inbox',
    )
    .option('--port <port>', 'port to listen on', port, 8090)
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option(
      '--webhook-url <url>',
      "Lastcall's webhook: statuses and replies are posted there, signed",
      httpUrl,
    )
    .option(
      '--app-secret <secret>',
      'signs the webhooks (default: WHATSAPP_APP_SECRET, else the compose default)',
    )
    .option(
      '--token <token>',
      'bearer token the API accepts (default: WHATSAPP_TOKEN, else the compose default)',
    )
    .option('--phone-number-id <id>', 'sending phone number id (default: WHATSAPP_PHONE_NUMBER_ID)')
    .option('--waba-id <id>', 'business account id (default: WHATSAPP_BUSINESS_ACCOUNT_ID)')
    .option(
      '--smtp-port <port>',
      'also catch emails: an SMTP server on 127.0.0.1, its mails in the inbox',
      port,
    )
    .option(
      '--messaging-tier <tier>',
      "the portfolio's messaging limit the fake reports and enforces (TIER_250, TIER_2K, …, TIER_UNLIMITED)",
      'TIER_UNLIMITED',
    )
    .option(
      '--throughput <level>',
      "the number's throughput level the fake reports (STANDARD or HIGH)",
      'STANDARD',
    )
    .action(async (flags: SandboxFlags) => {
      const config = loadConfig('cli');
      const wa = config.whatsapp;
      const sandbox = await startSandbox({
        host: flags.host,
        port: flags.port,
        token: flags.token ?? wa?.token ?? SANDBOX_DEFAULTS.token,
        appSecret: flags.appSecret ?? wa?.appSecret ?? SANDBOX_DEFAULTS.appSecret,
        phoneNumberId: flags.phoneNumberId ?? wa?.phoneNumberId ?? SANDBOX_DEFAULTS.phoneNumberId,
        wabaId: flags.wabaId ?? wa?.businessAccountId ?? SANDBOX_DEFAULTS.wabaId,
        publicUrl: config.publicUrl,
        ...(flags.smtpPort === undefined ? {} : { smtpPort: flags.smtpPort }),
        ...(flags.webhookUrl ? { webhookUrl: flags.webhookUrl } : {}),
        ...(flags.messagingTier ? { messagingTier: flags.messagingTier } : {}),
        ...(flags.throughput ? { throughputLevel: flags.throughput } : {}),
      });
      const url = browserUrl(flags.host, sandbox.port);
      console.log(`WhatsApp sandbox: inbox at ${url}/ (${sandbox.templates} templates approved)`);
      console.log(`  Graph API for Lastcall: WHATSAPP_API_URL=${url}`);
      if (sandbox.smtpUrl) console.log(`  mail catcher for Lastcall: SMTP_URL=${sandbox.smtpUrl}`);
      console.log(
        flags.webhookUrl
          ? `  statuses and replies are posted, signed, to ${flags.webhookUrl}`
          : '  no --webhook-url: no delivery statuses, and the inbox cannot reply',
      );
      await new Promise<void>((resolve) => {
        onShutdownSignal(async () => {
          await sandbox.close();
          resolve();
        });
      });
    });
}
