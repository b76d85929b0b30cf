// `<NAME>_FILE`: a secret read from a file rather than from the environment, as Docker and
// Kubernetes secrets hand them over (/run/secrets/<name>), so the value never shows in
// `docker inspect` or the process's environment (docs/docker.md, "Secrets").
import { readFileSync } from 'node:fs';

/** Variables whose value is a secret: a problem with one never prints it. */
export const SECRETS: ReadonlySet<string> = new Set([
  'SECRET_KEY',
  'ADMIN_TOKEN',
  'WHATSAPP_TOKEN',
  'WHATSAPP_APP_SECRET',
  'WHATSAPP_VERIFY_TOKEN',
  'EVENTS_SECRET',
]);

/** The variables that may come from a file: the secrets, and the URLs that carry passwords. */
export const FILE_VARIABLES = [...SECRETS, 'DATABASE_URL', 'REDIS_URL', 'SMTP_URL'];

const isSet = (value: string | undefined) => value !== undefined && value.trim() !== '';

/**
 * The environment with each `<NAME>_FILE` replaced by `<NAME>` = the file's content (its final
 * line break dropped), and the problems: both forms set, a file that cannot be read, an empty one.
 */
export function readSecretFiles(env: Record<string, string | undefined>): {
  env: Record<string, string | undefined>;
  problems: string[];
} {
  const resolved = { ...env };
  const problems: string[] = [];
  for (const name of FILE_VARIABLES) {
    const path = env[`${name}_FILE`];
    if (!isSet(path)) continue;
    const fileVar = `${name}_FILE=${JSON.stringify(path)}`;
    if (isSet(env[name])) {
      problems.push(`${name}, ${name}_FILE: set one or the other, not both`);
      continue;
    }
    let content: string;
    try {
      content = readFileSync(path!.trim(), 'utf8').replace(/(\r?\n)+$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      problems.push(`${fileVar}: cannot be read (${code}); it must be a file this process can read`);
      continue;
    }
    if (content.trim() === '') problems.push(`${fileVar}: the file is empty`);
    else resolved[name] = content;
  }
  return { env: resolved, problems };
}
