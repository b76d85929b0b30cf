// Turns "connect ECONNREFUSED" into a message a person can act on: which variable points
// where, and how to start PostgreSQL. Passwords in the URL are never printed.

/** Network-level failures: the server is down, the host is wrong, or it is still starting. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P03', // cannot_connect_now: the server is starting up or shutting down
  '57P01', // admin_shutdown: a fast or smart stop (pg_ctl stop, a restart) ended the session
  '57P02', // crash_shutdown: another backend crashed and the server is resetting
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
]);

export class DatabaseUnreachableError extends Error {
  constructor(databaseUrl: string, cause: unknown) {
    super(
      [
        `PostgreSQL is unreachable at ${redactUrl(databaseUrl)} (${describe(cause)}).`,
        'Set DATABASE_URL to a running server, or start one:',
        '  docker compose up -d postgres                  (the bundled stack)',
        '  sudo pg_ctlcluster <version> main start        (Debian/Ubuntu packages; see pg_lsclusters)',
      ].join('\n'),
      { cause },
    );
    this.name = 'DatabaseUnreachableError';
  }
}

export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  // pg's own words for a connection that broke under a client (no SQLSTATE: the socket closed).
  if (/timeout|terminated unexpectedly|Connection terminated|not queryable/i.test(error.message)) return true;
  // Node reports a failed connection to every address of a host as an AggregateError.
  return error instanceof AggregateError && error.errors.some(isUnreachable);
}

/** Re-throws network failures as DatabaseUnreachableError; anything else unchanged. */
export function explainConnectionError(databaseUrl: string, error: unknown): unknown {
  return isUnreachable(error) ? new DatabaseUnreachableError(databaseUrl, error) : error;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
