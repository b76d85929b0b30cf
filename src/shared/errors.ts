// Errors that carry what a person needs to act. The CLI wrapper maps them to exit codes:
// InputError → 2 (bad usage or invalid input), anything else → 1 (failure at run time).

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

/** Bad input: a refused file, argument or request. Lists every problem at once. */
export class InputError extends Error {
  readonly problems: readonly Problem[];
  constructor(summary: string, problems: readonly Problem[] = []) {
    super(
      problems.length > 0
        ? `${summary}\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`
        : summary,
    );
    this.name = 'InputError';
    this.problems = problems;
  }
}
