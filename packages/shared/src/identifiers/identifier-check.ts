/**
 * What a check of an Italian identifier tells: the normalised value, or one problem with a stable
 * `code` and a `message` saying how to fix it. Messages never repeat the value: a codice fiscale is
 * personal data and must not reach logs or error bodies.
 */
export interface IdentifierProblem {
  code: string;
  message: string;
}

export type IdentifierCheck = { ok: true; value: string } | { ok: false; problem: IdentifierProblem };

export interface IdentifierCheckOptions {
  /**
   * Accept the identifiers of the official STS test kit (e.g. `PROVAX00X00X000Y`, P.IVA `00265910661`),
   * which have the right shape but wrong check characters: the format is still checked, the check
   * character/digit and the birth-date plausibility are not. Never on in production.
   */
  allowKitTestIdentifiers?: boolean;
}

export const problem = (code: string, message: string): IdentifierCheck => ({
  ok: false,
  problem: { code, message },
});

/** Trimmed and upper-cased; `undefined` when the input is not a string. */
export const normaliseIdentifier = (input: unknown): string | undefined =>
  typeof input === 'string' ? input.trim().toUpperCase() : undefined;
