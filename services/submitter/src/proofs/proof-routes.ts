import {
  type Clock,
  createServiceTokenVerifier,
  INTERNAL_ROUTES,
  MAX_SUBMISSION_PROTOCOL_LENGTH,
  notFound,
  ProblemError,
  type Redis,
  type ServiceTokenKey,
  type ServiceTokenVerifier,
  SUBMISSION_PROOFS,
  SUBMISSION_PROOFS_AUDIENCE,
  SUBMISSION_PROOFS_SCOPE,
  serviceTokenAuth,
  serviceTokenOf,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import type { ProofKind, ProofStore } from './proof-store.ts';

/**
 * The submitter's internal API for the proofs of what was sent (contract:
 * packages/shared/src/contracts/submission-proofs.ts), called by the gateway:
 *
 * - `GET /internal/v1/submissions/:protocol/receipt`: the `RicevutaPdf` receipt, `application/pdf`;
 * - `GET /internal/v1/submissions/:protocol/errors`: the `DettaglioErrori` CSV, `text/csv; charset=…`;
 * - `GET /internal/v1/submissions/:protocol/sent-zip`: the exact 730 zip sent, `application/zip`
 *   (the submitter's own addition, beyond the contract: the proof of what was sent).
 *
 * Each call carries a service token of issuer `gateway`, audience `submitter`, scope
 * `submissions:read`; the tenant is the token's, and only its proofs are looked at.
 */

/** Which send's proofs a tenant may ask about: the backbone's knowledge of its sends. */
export interface ProofRouteDeps {
  proofs: Pick<ProofStore, 'findByProtocol'>;
  /** Checks service tokens: audience `submitter`, trusting `gateway` (see `createProofTokenVerifier`). */
  verifier: ServiceTokenVerifier;
  /** Whether a send (a 730 file or a single-document send) of this tenant has this protocol. */
  isKnownProtocol(tenantId: string, protocol: string): Promise<boolean>;
  /**
   * For a known send without the proof: whether it is still to come (`pending`: 409 with
   * `Retry-After`) or will never exist (`none`: 404; a single-document send has no receipt nor
   * errors file, a file the STS processed without errors has no errors file). Default: `pending`.
   */
  missingProof?(
    tenantId: string,
    protocol: string,
    kind: ProofRouteKind,
  ): Promise<{ state: 'pending'; retryAfterSeconds?: number } | { state: 'none' }>;
  /** `Retry-After` of a 409 when `missingProof` names none (default 60 s). */
  retryAfterSeconds?: number;
}

export type ProofRouteKind = 'receipt' | 'errors' | 'sent-zip';

/** Each route: the proof kind it serves, the media type its answer must have, its file name. */
export const PROOF_ROUTES: Record<
  ProofRouteKind,
  { path: string; kind: ProofKind; contentType: string; fileName: string; extension: string; what: string }
> = {
  receipt: {
    path: SUBMISSION_PROOFS.receipt.path,
    kind: 'receipt-pdf',
    contentType: SUBMISSION_PROOFS.receipt.contentType,
    fileName: 'receipt',
    extension: 'pdf',
    what: 'receipt (PDF)',
  },
  errors: {
    path: SUBMISSION_PROOFS.errors.path,
    kind: 'error-detail-csv',
    contentType: SUBMISSION_PROOFS.errors.contentType,
    fileName: 'errors',
    extension: 'csv',
    what: 'error detail (CSV)',
  },
  'sent-zip': {
    path: 'sent-zip',
    kind: 'sent-zip',
    contentType: 'application/zip',
    fileName: 'sent',
    extension: 'zip',
    what: 'file sent (zip)',
  },
};

/** The issuer allowed to read proofs: the gateway, on a tenant's behalf. */
export const PROOF_READER_ISSUER = 'gateway';
const DEFAULT_RETRY_AFTER_SECONDS = 60;
/** What a protocol can be: printable ASCII (anything else is no protocol, and Postgres refuses NUL). */
const PRINTABLE = /^[\x21-\x7e]+$/;

const notReady = (what: string, retryAfterSeconds: number) =>
  new ProblemError({
    status: 409,
    type: 'proof-not-ready',
    title: 'Not ready yet',
    detail: `The Sistema TS has not produced the ${what} of this submission yet: try again in ${retryAfterSeconds} seconds.`,
  });

const wrongIssuer = () =>
  new ProblemError({
    status: 403,
    type: 'forbidden',
    title: 'Not allowed',
    detail: `Only the ${PROOF_READER_ISSUER} may read the proofs of submissions.`,
  });

/**
 * The verifier of the submitter's internal API: audience `submitter`, trusting only tokens the
 * gateway signed, each accepted once (used ids in Redis, shared by every replica).
 */
export function createProofTokenVerifier(options: {
  keys: readonly ServiceTokenKey[];
  /** Where used token ids are recorded, shared by every replica. */
  redis: Pick<Redis, 'set'>;
  clock?: Clock;
}): ServiceTokenVerifier {
  return createServiceTokenVerifier({
    keys: options.keys,
    audience: SUBMISSION_PROOFS_AUDIENCE,
    trustedIssuers: [PROOF_READER_ISSUER],
    redis: options.redis,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

const retryAfterOf = (seconds: number | undefined, fallback: number) =>
  seconds !== undefined && Number.isFinite(seconds) && seconds >= 1
    ? Math.min(Math.ceil(seconds), 86_400)
    : fallback;

/**
 * Registers the proof routes in an encapsulated scope of `app` guarded by `serviceTokenAuth`, so
 * other routes (health, metrics) stay apart.
 */
export function registerProofRoutes(app: FastifyInstance, deps: ProofRouteDeps): void {
  const defaultRetryAfter = retryAfterOf(deps.retryAfterSeconds, DEFAULT_RETRY_AFTER_SECONDS);
  void app.register(async (scope) => {
    await scope.register(serviceTokenAuth, { verifier: deps.verifier });
    for (const [name, route] of Object.entries(PROOF_ROUTES) as [
      ProofRouteKind,
      (typeof PROOF_ROUTES)[ProofRouteKind],
    ][]) {
      scope.get<{ Params: { protocol: string } }>(
        `${INTERNAL_ROUTES.submissions}/:protocol/${route.path}`,
        { config: { acceptedScopes: [SUBMISSION_PROOFS_SCOPE] } },
        async (request, reply) => {
          const token = serviceTokenOf(request);
          if (token.issuer !== PROOF_READER_ISSUER) throw wrongIssuer();
          const tenantId = token.tenantId;
          const { protocol } = request.params;
          if (protocol.length > MAX_SUBMISSION_PROTOCOL_LENGTH || !PRINTABLE.test(protocol)) {
            throw notFound('The submission');
          }
          const proof = await deps.proofs.findByProtocol(tenantId, protocol, route.kind);
          if (!proof) {
            // Another tenant's protocol is as unknown as one that does not exist.
            if (!(await deps.isKnownProtocol(tenantId, protocol))) throw notFound('The submission');
            const missing = (await deps.missingProof?.(tenantId, protocol, name)) ?? { state: 'pending' };
            if (missing.state === 'none') throw notFound(`The ${route.what} of this submission`);
            const seconds = retryAfterOf(missing.retryAfterSeconds, defaultRetryAfter);
            reply.header('retry-after', String(seconds));
            throw notReady(route.what, seconds);
          }
          request.log.info(
            { proofId: proof.id, kind: proof.kind, size: proof.size, subject: token.subject },
            'submission proof served',
          );
          const safeName = protocol.replace(/[^A-Za-z0-9_.-]/g, '_');
          return reply
            .header('content-type', proof.contentType)
            .header('content-length', proof.size)
            .header(
              'content-disposition',
              `attachment; filename="${route.fileName}-${safeName}.${route.extension}"`,
            )
            .header('cache-control', 'private, no-store')
            .header('x-content-sha256', proof.sha256)
            .send(proof.bytes);
        },
      );
    }
  });
}
