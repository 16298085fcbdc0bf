import type { TestOutcome } from '../credentials/credential-test.ts';
import type { StsResult } from '../sts/sts-client-factory.ts';

/** Test outcomes that mean the login itself failed (a wrong pincode or a missing right does not). */
export const FAILED_LOGIN_OUTCOMES: readonly TestOutcome[] = ['wrong-or-expired-password', 'account-locked'];
export const isFailedLogin = (outcome: TestOutcome) => FAILED_LOGIN_OUTCOMES.includes(outcome);

/** What an STS call says about the login it sent. */
export type LoginJudgement = 'authenticated' | 'failed-login' | 'unknown';

/**
 * An answer (even an application error such as a wrong pincode) means the STS accepted the login;
 * an authentication failure means it refused it; anything else (no answer, a transient failure, a
 * refusal of our request's form) says nothing about it.
 */
export function judgeLogin(result: StsResult<unknown>): LoginJudgement {
  if (result.ok) return 'authenticated';
  if (result.failure.kind === 'authentication') return 'failed-login';
  if (result.failure.kind === 'credential') return 'authenticated';
  return 'unknown';
}
