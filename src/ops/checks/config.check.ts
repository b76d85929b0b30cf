// The configuration, as each role would read it: every problem listed, for every role that
// would refuse to start (serve and work need more than the CLI outside development).

import { loadPriceTable, PRICE_FILE } from '../../campaigns/whatsapp-prices.ts';
import { type Config, ConfigError, type Role } from '../../config/config.ts';
import { InvalidInput } from '../../shared/errors.ts';
import type { Finding } from './finding.ts';

const ROLES: readonly Role[] = ['cli', 'serve', 'work'];

export function configCheck(load: (role: Role) => Config): Finding[] {
  const problems: string[] = [];
  const refusing: Role[] = [];
  let env: string | undefined;
  for (const role of ROLES) {
    try {
      env = load(role).env;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      refusing.push(role);
      for (const p of error.problems) if (!problems.includes(p)) problems.push(p);
    }
  }
  if (problems.length === 0) {
    return [
      {
        check: 'config',
        title: 'configuration',
        status: 'ok',
        detail: `valid for cli, serve and work (${env})`,
      },
    ];
  }
  return [
    {
      check: 'config',
      title: 'configuration',
      status: 'fail',
      detail: [`invalid for ${refusing.join(', ')}:`, ...problems.map((p) => `  - ${p}`)].join('\n'),
      fix: 'set the variables named above in the environment or .env (see .env.example)',
    },
  ];
}

/** The optional WhatsApp price table (docs/whatsapp.md, "Pricing"): read and validated as `serve`
 *  and the `campaign` commands will read it, from the working directory. */
export function priceTableFinding(cwd = process.cwd()): Finding {
  const title = 'price table';
  try {
    const table = loadPriceTable(cwd);
    if (!table)
      return {
        check: 'config',
        title,
        status: 'skip',
        detail: `none (${PRICE_FILE}): no cost estimates`,
      };
    const codes = [...table.micros.keys()];
    return {
      check: 'config',
      title,
      status: 'ok',
      detail: `${PRICE_FILE}: ${table.currency}, ${codes.length} calling code${codes.length === 1 ? '' : 's'} (${codes.join(', ')})`,
    };
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return {
      check: 'config',
      title,
      status: 'fail',
      detail: error.message,
      fix: `correct ${PRICE_FILE} as listed (serve and the campaign commands refuse it as it is)`,
    };
  }
}
