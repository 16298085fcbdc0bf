/** Exit codes scripts can use. */
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3 } as const;

/** A mistake in how the command was called (a missing key, a bad file name): exit 2. */
export class UsageError extends Error {}

/** One bad field of a problem+json answer. */
export interface ProblemField {
  field?: string;
  rule?: string;
  message?: string;
  hint?: string;
}

/** The gateway answered with an error (problem+json when it could). */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly errors: ProblemField[];
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    const problem = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const errors = Array.isArray(problem.errors) ? (problem.errors as ProblemField[]) : [];
    const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
    const detail = typeof problem.detail === 'string' ? `: ${problem.detail}` : '';
    const fields = errors.length
      ? ` (${errors.map((error) => `${error.field ?? '?'}: ${error.message ?? error.rule ?? ''}`).join('; ')})`
      : '';
    super(`${title}${detail}${fields}`);
    this.status = status;
    this.type = typeof problem.type === 'string' ? problem.type : 'http-error';
    this.errors = errors;
    this.body = body;
  }
}
