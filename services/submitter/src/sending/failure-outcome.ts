import type { StsMessage } from '@sts/shared';
import type { StsFailure } from '@sts/sts';

/**
 * What a failed STS call means for the queue, decided in one place for every handler:
 *
 * - `retry`: transient (network, 5xx, 429, the STS's own "try later"): nothing reached the STS or it
 *   refused to process; the job is retried with backoff and jitter (or after the STS's Retry-After).
 * - `reconcile`: the answer was lost (timeout, reset, 502/504): the call may have been processed.
 *   Nothing is sent again until the STS has been asked.
 * - `block`: the credential cannot be used (login refused, wrong pincode, not authorised): reported
 *   to the credentials service at once, its documents `blocked`, no attempt burnt.
 * - `reject`: the STS refused this request for good: final, never retried.
 */
export type QueueOutcome =
  | { kind: 'retry'; retryAfterMs?: number; reason: string }
  | { kind: 'reconcile'; reason: string }
  | {
      kind: 'block';
      report:
        | { kind: 'authentication'; reason: string; faultString: string }
        | { kind: 'credential'; code: string; description: string };
    }
  | { kind: 'reject'; messages: StsMessage[] };

export function queueOutcomeOf(failure: StsFailure): QueueOutcome {
  switch (failure.kind) {
    case 'transient':
      return {
        kind: 'retry',
        reason: `${failure.reason}${failure.code ? ` ${failure.code}` : ''}${failure.status ? ` HTTP ${failure.status}` : ''}`,
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      };
    case 'no-answer':
      return { kind: 'reconcile', reason: failure.code ?? 'no-answer' };
    case 'authentication':
      return {
        kind: 'block',
        report: { kind: 'authentication', reason: failure.reason, faultString: failure.faultString },
      };
    case 'credential':
      return {
        kind: 'block',
        report: { kind: 'credential', code: failure.code, description: failure.description },
      };
    case 'request-rejected':
      return { kind: 'reject', messages: [{ code: failure.code, kind: 'error', text: failure.description }] };
  }
}

/** The cause code written on documents for each outcome. */
export const CAUSES = {
  credential: 'credential-unusable',
  answerLost: 'answer-lost',
  rejected: 'sts-rejected',
  accepted: 'sts-accepted',
} as const;
