// `lastcall doctor`: is this installation able to run? One line per finding, each with what to
// do when it is not fine. Checks (selectable with --only): config, postgres, redis, smtp,
// whatsapp, templates, events, timezones. `fail` means Lastcall cannot work as configured (exit
// 1); `warn` that it works but something deserves attention; `skip` that the part is not in use.
import { type Config, ConfigError, type Role } from '../config/config.ts';
import { InvalidInput } from '../shared/errors.ts';
import { configCheck, priceTableFinding } from './checks/config.check.ts';
import { eventsCheck } from './checks/events.check.ts';
import { CHECK_IDS, type CheckId, type Finding } from './checks/finding.ts';
import { postgresCheck } from './checks/postgres.check.ts';
import { redisCheck } from './checks/redis.check.ts';
import { smtpCheck } from './checks/smtp.check.ts';
import { timezonesCheck } from './checks/timezones.check.ts';
import { templatesCheck, whatsappCheck } from './checks/whatsapp.check.ts';

export { CHECK_IDS, type CheckId, type CheckStatus, type Finding } from './checks/finding.ts';

export interface DoctorReport {
  /** True when no finding failed. */
  readonly ok: boolean;
  readonly findings: readonly Finding[];
}

export interface DoctorOptions {
  readonly only?: readonly CheckId[];
  /** config.ts's loadConfig (the environment and .env). */
  readonly loadConfig: (role: Role) => Config;
  readonly now: number;
}

/** "redis,postgres" → ids; unknown names are bad usage. */
export function parseOnly(text: string): CheckId[] {
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  const known: readonly string[] = CHECK_IDS;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new InvalidInput('Invalid --only', [
      {
        path: '--only',
        value: text,
        rule: `must list checks separated by commas, from: ${CHECK_IDS.join(', ')}`,
      },
    ]);
  }
  return CHECK_IDS.filter((id) => names.includes(id));
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const selected = options.only ?? CHECK_IDS;
  let config: Config | undefined;
  let configError: unknown;
  try {
    config = options.loadConfig('cli');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    configError = error;
  }
  const run = async (id: CheckId): Promise<Finding[]> => {
    if (id === 'config') return [...configCheck(options.loadConfig), priceTableFinding()];
    if (config === undefined) {
      return [
        {
          check: id,
          title: id,
          status: 'fail',
          detail: `not checked: the configuration is invalid (${(configError as ConfigError).problems.length} problem(s))`,
          fix: 'run "lastcall doctor --only config" and fix what it lists',
        },
      ];
    }
    switch (id) {
      case 'postgres':
        return postgresCheck(config);
      case 'redis':
        return redisCheck(config);
      case 'smtp':
        return smtpCheck(config);
      case 'whatsapp':
        return whatsappCheck(config);
      case 'templates':
        return templatesCheck(config, options.now);
      case 'events':
        return eventsCheck(config, options.now);
      case 'timezones':
        return timezonesCheck(config, options.now);
    }
  };
  const findings = (await Promise.all(selected.map(run))).flat();
  return { ok: findings.every((f) => f.status !== 'fail'), findings };
}
