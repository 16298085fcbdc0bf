import { lookupStsCode } from '../errors/lookup-sts-code.ts';
import type { StsCodeClass } from '../errors/sts-code-catalogue.ts';

/**
 * "Not ready, ask again later" for the receipt services (EsitoInvii, DettaglioErrori, RicevutaPdf),
 * told apart from a final answer, and the wait before asking again. Both live here and nowhere else.
 *
 * The STS gives no hint of when to ask again: no field, no `Retry-After`, no text in RIC15, ASYNC25 or
 * any capture (docs/protocol.md §1.8). The schedule below is OURS (docs/decisions.md, "Receipts not
 * ready yet").
 */

/** Our backoff for a receipt or an outcome that is not ready yet. */
export const RECEIPT_WAIT_SCHEDULE = {
  /** The wait after the 1st, 2nd, 3rd, 4th "not ready" answer. */
  firstWaitsMs: [5_000, 15_000, 60_000, 300_000],
  /** The wait after every later one: the longest wait there is. */
  steadyWaitMs: 15 * 60_000,
  /**
   * Still not ready this long after the upload (or after this much waiting, when the upload's time is
   * not given): `overdue`. Asking goes on at the steady pace, but a person should look; processing
   * under load may take hours (docs/protocol.md §4.2), a day is beyond anything reported.
   */
  overdueAfterMs: 24 * 60 * 60_000,
} as const;

/** When to ask again. */
export interface ReceiptWait {
  /** Wait this long before asking again (ours: RECEIPT_WAIT_SCHEDULE). */
  retryAfterMs: number;
  /** The attempt this wait follows (1 = the first ask), after the upload's age is taken into account. */
  attempt: number;
  /** Not ready for longer than RECEIPT_WAIT_SCHEDULE.overdueAfterMs: keep asking, and alert someone. */
  overdue: boolean;
}

/** What the caller knows of its asking, for the wait. Both optional; without either, a first ask. */
export interface ReceiptWaitInput {
  /** How many times this has been asked, this call included: 1 the first time (default). */
  attempt?: number;
  /** Time since the file was uploaded: an upload asked about for the first time when already old waits as if asked all along. */
  uploadAgeMs?: number;
}

const { firstWaitsMs, steadyWaitMs, overdueAfterMs } = RECEIPT_WAIT_SCHEDULE;
const firstWaitsTotalMs = firstWaitsMs.reduce((sum, wait) => sum + wait, 0);

/** The wait after attempt `n` (1-based). */
const waitAfter = (n: number): number => firstWaitsMs[n - 1] ?? steadyWaitMs;

/** Time waited before attempt `n`, following the schedule from the first ask. */
function waitedBefore(n: number): number {
  if (n <= firstWaitsMs.length + 1) return firstWaitsMs.slice(0, n - 1).reduce((sum, wait) => sum + wait, 0);
  return firstWaitsTotalMs + (n - 1 - firstWaitsMs.length) * steadyWaitMs;
}

/** The attempt someone asking by the schedule since the upload would be at, `ageMs` after it. */
function attemptAtAge(ageMs: number): number {
  if (ageMs >= firstWaitsTotalMs)
    return firstWaitsMs.length + 1 + Math.floor((ageMs - firstWaitsTotalMs) / steadyWaitMs);
  let n = 1;
  while (waitedBefore(n + 1) <= ageMs) n++;
  return n;
}

/**
 * The wait before asking again: by the number of asks so far, or by the upload's age when that puts
 * the caller further along the schedule (a job that lost its count does not start again at 5 s).
 */
export function receiptWait(input: ReceiptWaitInput = {}): ReceiptWait {
  const asked = input.attempt ?? 1;
  if (!Number.isInteger(asked) || asked < 1)
    throw new RangeError(`receiptWait: attempt must be an integer from 1, got ${asked}`);
  const age = input.uploadAgeMs;
  if (age !== undefined && !Number.isFinite(age))
    throw new RangeError(`receiptWait: uploadAgeMs must be a finite duration, got ${age}`);
  // A clock a little behind the one that stamped the upload makes it look in the future: age 0.
  const ageMs = Math.max(0, age ?? 0);
  const attempt = Math.max(asked, attemptAtAge(ageMs));
  return {
    retryAfterMs: waitAfter(attempt),
    attempt,
    overdue: Math.max(ageMs, waitedBefore(attempt)) >= overdueAfterMs,
  };
}

/** The catalogue classes that say an answer is over: a rejected file (WS37), a refused request. */
const FINAL_CLASSES: ReadonlySet<StsCodeClass> = new Set(['request', 'document', 'credential']);

/** EsitoInvii `stato` of a file still queued or being processed (0, 1: class `processing`). */
export const isStillProcessing = (state: number | undefined): boolean =>
  state !== undefined && lookupStsCode(String(state), 'processing-status').class === 'processing';

/**
 * Why a receipt call that gave nothing (`esitoChiamata` 1, `esitiNegativi`) means "not ready yet",
 * or `undefined` when it is final:
 * - `sts-code`: a negative code whose catalogue class is `processing` (WS15: the code is unconfirmed,
 *   see its catalogue entry);
 * - `still-processing` (inferred, issue 10 research §4): the file's last known `stato` is 0/1 and no
 *   negative code is a final one (a rejected file, WS37, is final whatever the `stato` said).
 * Everything else negative is final.
 */
export function notReadyBasis(
  notices: readonly { code: string; description: string }[],
  lastKnownState: number | undefined,
): 'sts-code' | 'still-processing' | undefined {
  const classes = notices.map(
    (notice) => lookupStsCode(notice.code, 'message', { text: notice.description }).class,
  );
  if (classes.some((cls) => FINAL_CLASSES.has(cls))) return undefined;
  if (classes.includes('processing')) return 'sts-code';
  if (isStillProcessing(lastKnownState)) return 'still-processing';
  return undefined;
}
