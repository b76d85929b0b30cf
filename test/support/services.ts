// The services of a test, built by the composition root every role uses (src/roles/services.ts),
// with silent logs and the system clock unless the test passes its own.
import pino from 'pino';
import type { Config } from '../../src/config/config.ts';
import { createServices, type ServiceDeps, type Services } from '../../src/roles/services.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Db } from '../../src/store/pool.ts';

export function testServices(
  config: Config,
  db: Db,
  options: Partial<Omit<ServiceDeps, 'config' | 'db'>> = {},
): Services {
  // No price table unless a test gives one: a developer's config/whatsapp-prices.yaml is not read.
  return createServices({
    config,
    db,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    prices: null,
    ...options,
  });
}
