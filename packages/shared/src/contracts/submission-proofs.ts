import { INTERNAL_ROUTES, SERVICE_SCOPES } from './internal-routes.ts';

/**
 * The submitter's internal API for the proofs of what was sent, which the gateway serves to clinics
 * (`GET /v1/submissions/:protocol/receipt|errors`). The submitter implements it; the gateway calls it.
 *
 * - `GET {INTERNAL_ROUTES.submissions}/:protocol/receipt`: the STS receipt of the send with that
 *   protocol (`RicevutaPdf`), `200 application/pdf`, the PDF bytes as the STS gave them.
 * - `GET {INTERNAL_ROUTES.submissions}/:protocol/errors`: the per-document errors of that send
 *   (`DettaglioErrori`, unzipped), `200 text/csv` with a `charset` parameter naming the encoding of
 *   the bytes (the STS's own file is Latin-1: `text/csv; charset=iso-8859-1`).
 *
 * `:protocol` is the STS protocol, percent-encoded as a path segment. Every call carries a service
 * token: issuer `gateway`, audience `submitter`, scope `submissions:read`, the tenant as `tid`
 * (only that tenant's sends are looked at), subject `api-key:<id>` of whoever asked.
 *
 * Refusals are application/problem+json:
 * - `404 not-found`: no send of the token's tenant has that protocol, or it has no such proof (a
 *   single-document send has no errors file);
 * - `409 proof-not-ready`: the send is known but the STS has not produced the proof yet (still
 *   processing, or the receipt is not ready: WS15), optionally with `Retry-After` in seconds;
 * - `401`/`403`: the token was refused.
 */
export const SUBMISSION_PROOFS = {
  receipt: { path: 'receipt', contentType: 'application/pdf' },
  errors: { path: 'errors', contentType: 'text/csv' },
} as const;
export type SubmissionProofKind = keyof typeof SUBMISSION_PROOFS;

/** The service-token audience and scope of the submission-proof routes. */
export const SUBMISSION_PROOFS_AUDIENCE = 'submitter';
export const SUBMISSION_PROOFS_SCOPE = SERVICE_SCOPES.submissionsRead;

/** The longest STS protocol the contracts carry (`documentStatusEventSchema.protocol`). */
export const MAX_SUBMISSION_PROTOCOL_LENGTH = 40;

/** The path of one proof of the send with `protocol`, below the submitter's base URL. */
export const submissionProofPath = (protocol: string, kind: SubmissionProofKind): string =>
  `${INTERNAL_ROUTES.submissions}/${encodeURIComponent(protocol)}/${SUBMISSION_PROOFS[kind].path}`;
