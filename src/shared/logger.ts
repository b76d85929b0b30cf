// One pino logger. Personal data (phones, emails, names) must never reach a log line: log
// ids instead. The redact list is a safety net for fields that slip through.
import { type Logger, pino } from 'pino';
import type { Config } from '../config/config.ts';

export type { Logger };

const REDACT = [
  'phone',
  'email',
  'name',
  'to',
  '*.phone',
  '*.email',
  '*.name',
  '*.to',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.body',
];

export function createLogger(
  config: Pick<Config, 'logLevel'>,
  bindings: Record<string, unknown> = {},
  /** Default stdout; the CLI logs to stderr (its stdout is the command's output). */
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    { level: config.logLevel, base: bindings, redact: { paths: REDACT, censor: '[redacted]' } },
    destination,
  );
}
