import {
  forbidden,
  INTERNAL_ROUTES,
  notFound,
  type ServiceTokenVerifier,
  SUBMISSION_PROOFS_SCOPE,
  SUBMISSION_PROTOCOL_PATTERN,
  type SubmissionStatus,
  serviceTokenAuth,
  serviceTokenOf,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';

/** The issuer allowed to ask: the gateway, on a tenant's behalf (as for the proof routes). */
const READER_ISSUER = 'gateway';

export interface SubmissionStatusRouteDeps {
  /** Checks service tokens: audience `submitter`, trusting `gateway` (`createProofTokenVerifier`). */
  verifier: ServiceTokenVerifier;
  /** The status of the tenant's send with this protocol, or null (src/files/submission-status.ts). */
  status(tenantId: string, protocol: string): Promise<SubmissionStatus | null>;
}

/**
 * `GET /internal/v1/submissions/:protocol` (contract: packages/shared/src/contracts/
 * submission-status.ts): how the send with that protocol is doing, for the gateway's
 * `GET /v1/submissions/:protocol`. Service token of issuer `gateway`, scope `submissions:read`; the
 * tenant is the token's, and another tenant's protocol is as unknown as one that does not exist.
 * Registered in a scope of its own, guarded by `serviceTokenAuth`.
 */
export function registerSubmissionStatusRoutes(app: FastifyInstance, deps: SubmissionStatusRouteDeps): void {
  void app.register(async (scope) => {
    await scope.register(serviceTokenAuth, { verifier: deps.verifier });
    scope.get<{ Params: { protocol: string } }>(
      `${INTERNAL_ROUTES.submissions}/:protocol`,
      { config: { acceptedScopes: [SUBMISSION_PROOFS_SCOPE] } },
      async (request) => {
        const token = serviceTokenOf(request);
        if (token.issuer !== READER_ISSUER)
          throw forbidden(`Only the ${READER_ISSUER} may read the status of submissions.`);
        const { protocol } = request.params;
        // Not the STS's form: no send has it.
        if (!SUBMISSION_PROTOCOL_PATTERN.test(protocol)) throw notFound('The submission');
        const status = await deps.status(token.tenantId, protocol);
        if (!status) throw notFound('The submission');
        return status;
      },
    );
  });
}
