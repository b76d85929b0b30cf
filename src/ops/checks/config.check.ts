// The configuration, as each role would read it: every problem listed, for every role that
// would refuse to start (serve and work need more than the CLI outside development).
import { type Config, ConfigError, type Role } from '../../config/config.ts';
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
