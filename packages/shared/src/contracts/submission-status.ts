import { z } from 'zod';
import { INTERNAL_ROUTES } from './internal-routes.ts';

/**
 * The submitter's internal route for how one send to the STS is doing, found by its protocol, which
 * the gateway serves to clinics as `GET /v1/submissions/:protocol`. The submitter implements it; the
 * gateway calls it.
 *
 * `GET {INTERNAL_ROUTES.submissions}/:protocol`: `200 application/json`, a `SubmissionStatus`. The
 * same service token as the proof routes (submission-proofs.ts): issuer `gateway`, audience
 * `submitter`, scope `submissions:read`, the tenant as `tid` (only its sends are looked at).
 * `404 not-found` (problem+json) when no send of the token's tenant has that protocol, or the
 * protocol does not have the STS's form.
 *
 * A protocol names a 730 file (batch) or a single-document send (one operation, `total` 1).
 */

/** The STS protocol of a send: 17 digits (docs/protocol.md: `protocollo`, in EsitoInvii, RicevutaPdf and the single-document answers). */
export const SUBMISSION_PROTOCOL_PATTERN = /^\d{17}$/;

/**
 * Where a send stands:
 * - `received`: the STS took it and gave it a protocol; its outcome is not known yet (a file being
 *   processed);
 * - `completed`: the outcome is known, each document's in `documents` (a single-document send is
 *   `completed` once answered, whether its document was accepted or rejected);
 * - `rejected`: the STS refused the 730 file as a whole (at reception or in processing): every
 *   document of it is rejected.
 */
export const SUBMISSION_STATES = ['received', 'completed', 'rejected'] as const;
export type SubmissionState = (typeof SUBMISSION_STATES)[number];

const count = z.number().int().nonnegative();
const instant = z.iso.datetime({ offset: true });

export const submissionStatusSchema = z.object({
  protocol: z.string().regex(SUBMISSION_PROTOCOL_PATTERN),
  /** The sender credential of the send. */
  credentialId: z.uuid(),
  state: z.enum(SUBMISSION_STATES),
  /**
   * When the submitter sent it (a 730 file: the upload that got the protocol); for a single-document
   * send, when its answer was recorded; null when not known (a send found again by reconciliation).
   */
  sentAt: instant.nullable(),
  /** When the outcome became known (state `completed` or `rejected`); null before. */
  completedAt: instant.nullable(),
  /** The documents (operations) the send carried, by outcome; `pending` have none yet. */
  documents: z.object({
    total: count,
    accepted: count,
    acceptedWithWarnings: count,
    rejected: count,
    pending: count,
  }),
});
export type SubmissionStatus = z.infer<typeof submissionStatusSchema>;

/** The path of the status of the send with `protocol`, below the submitter's base URL. */
export const submissionStatusPath = (protocol: string): string =>
  `${INTERNAL_ROUTES.submissions}/${encodeURIComponent(protocol)}`;
