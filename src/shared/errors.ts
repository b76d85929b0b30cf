// The services' error vocabulary. Every edge maps the same three kinds its own way:
//   InvalidInput   → CLI exit 2, HTTP 422 (with `errors[]`), a page's field errors
//   NotFound       → CLI exit 2, HTTP 404
//   StateConflict  → CLI exit 2, HTTP 409
// Anything else is a failure at run time (CLI exit 1, HTTP 500). Messages say what is wrong in
// the service's own words and never name a CLI command or a route: each edge adds its own hints
// (src/cli/error-hints.ts for the CLI).

export interface Problem {
  /** Where: a field name, a YAML path ("steps[1].before") or "line 12: phone". */
  readonly path: string;
  /** What was found, as text (omitted for personal data). */
  readonly value?: string;
  /** The rule that was broken, in words. */
  readonly rule: string;
}

export function formatProblem(p: Problem): string {
  return p.value === undefined ? `${p.path}: ${p.rule}` : `${p.path}: ${p.rule} (got ${p.value})`;
}

export type AppErrorCode = 'invalid-input' | 'not-found' | 'state-conflict';

/** An error a service raises on purpose, with a code each edge maps (CLI exit code, HTTP status). */
export abstract class AppError extends Error {
  abstract readonly code: AppErrorCode;
  /** The sentence without the problem list (the HTTP `title`/`detail` use it). */
  readonly summary: string;
  constructor(summary: string, message = summary) {
    super(message);
    this.summary = summary;
  }
}

/** Bad input: a refused file, argument or request. Lists every problem at once. */
export class InvalidInput extends AppError {
  readonly code = 'invalid-input';
  readonly problems: readonly Problem[];
  constructor(summary: string, problems: readonly Problem[] = []) {
    super(
      summary,
      problems.length > 0
        ? `${summary}\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`
        : summary,
    );
    this.name = 'InvalidInput';
    this.problems = problems;
  }
}

/** Nothing has that id or key. `resource` names the kind ("campaign", "subscriber"). */
export class NotFound extends AppError {
  readonly code = 'not-found';
  readonly resource: string;
  readonly key: string;
  constructor(resource: string, key: string, message = `unknown ${resource} "${key}"`) {
    super(message);
    this.name = 'NotFound';
    this.resource = resource;
    this.key = key;
  }
}

/** The thing exists but its state refuses the action: what the state is, and which states or
 *  actions would be allowed. */
export class StateConflict extends AppError {
  readonly code = 'state-conflict';
  readonly resource: string;
  readonly id: string;
  readonly action: string;
  readonly state: string;
  /** The states from which `action` is allowed, or the actions this state allows. */
  readonly allowed: readonly string[];
  constructor(
    details: { resource: string; id: string; action: string; state: string; allowed: readonly string[] },
    message: string,
  ) {
    super(message);
    this.name = 'StateConflict';
    this.resource = details.resource;
    this.id = details.id;
    this.action = details.action;
    this.state = details.state;
    this.allowed = details.allowed;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
