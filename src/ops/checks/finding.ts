// What one doctor check reports: one finding per thing looked at.
export const CHECK_IDS = [
  'config',
  'postgres',
  'redis',
  'smtp',
  'whatsapp',
  'templates',
  'events',
  'timezones',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  readonly check: CheckId;
  /** What was looked at, e.g. "PostgreSQL", "Redis persistence". */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found; may span lines (config problems). */
  readonly detail: string;
  /** What to do about it (fail and warn). */
  readonly fix?: string;
}

/** A check that threw instead of reporting: still one line, never a crash of the whole doctor. */
export function crashed(check: CheckId, title: string, error: unknown, fix?: string): Finding {
  const detail = error instanceof Error ? error.message : String(error);
  return { check, title, status: 'fail', detail, ...(fix ? { fix } : {}) };
}
