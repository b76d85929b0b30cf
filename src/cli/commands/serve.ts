// `lastcall serve`: the HTTP server (docs/architecture.md, "The pieces"): sign-up pages and links,
// the WhatsApp webhook, /healthz, /metrics and the queue board. It listens on 0.0.0.0:HTTP_PORT and
// stops on SIGTERM or SIGINT: no new connections, requests in flight finish (bounded), then queues
// and pool close.
import { type Command, Option } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { onShutdownSignal } from '../../queue/shutdown.ts';
import { startHttpService } from '../../roles/serve.ts';
import { createLogger } from '../../shared/logger.ts';
import { redactUrl } from '../../store/connection-error.ts';
import { positiveInt } from '../option-parsers.ts';

interface ServeOptions {
  shutdownMs: number;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'run the HTTP server: opt-in pages, links, WhatsApp webhook, /healthz, /metrics, /admin/queues',
    )
    .addOption(
      new Option('--shutdown-ms <ms>', 'on SIGTERM, how long requests in flight may take')
        .argParser(positiveInt)
        .default(10_000),
    )
    .action(async (options: ServeOptions) => {
      const config = loadConfig('serve');
      const logger = createLogger(config, { role: 'serve', pid: process.pid });
      const http = await startHttpService(config, { logger });
      const port = http.port;
      const base = config.publicUrl;
      logger.info(
        {
          listen: `http://0.0.0.0:${port}`,
          database: redactUrl(config.databaseUrl),
          redis: redactUrl(config.redisUrl),
          prefix: config.queuePrefix,
          whatsappWebhook: config.whatsapp ? `${base}/webhooks/whatsapp` : 'off (WhatsApp not configured)',
          subscribe: `${base}/subscribe`,
          healthz: `${base}/healthz`,
          metrics: `${base}/metrics`,
          admin: `${base}/admin/queues`,
          unsubscribeMail: config.unsubscribeSmtp
            ? `${config.unsubscribeSmtp.mailbox} (SMTP on port ${http.smtpPort})`
            : 'off (List-Unsubscribe mailto goes to MAIL_FROM; set UNSUBSCRIBE_SMTP_PORT)',
        },
        `listening on 0.0.0.0:${port}: sign-up at ${base}/subscribe, health at ${base}/healthz, ` +
          `metrics at ${base}/metrics, queue board at ${base}/admin/queues`,
      );
      await new Promise<void>((resolve) => {
        onShutdownSignal(async (signal) => {
          logger.info({ signal }, 'stopping: no new connections, finishing requests in flight');
          const how = await http.close(options.shutdownMs);
          logger.info({ how }, 'stopped');
          resolve();
        });
      });
    });
}
