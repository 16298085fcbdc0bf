import {
  type Clock,
  createHttpApp,
  type Logger,
  type Pool,
  type Redis,
  type ServiceTokenKey,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { submissionStatus } from '../src/files/submission-status.ts';
import { registerSubmissionStatusRoutes } from '../src/files/submission-status-routes.ts';
import {
  createPostgresProofStore,
  createProofTokenVerifier,
  type ProofRouteDeps,
  type ProofStore,
  registerProofRoutes,
} from '../src/proofs/index.ts';

/**
 * The submitter's proof store and its internal routes, for tests outside the submitter
 * (tests/gateway-receipts) that put proofs and serve them over HTTP as the submitter does.
 */
export {
  createPostgresProofStore,
  createProofTokenVerifier,
  type ProofStore,
  registerProofRoutes,
} from '../src/proofs/index.ts';

export interface ProofAppOptions {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  /** The service-token keys the submitter trusts (the gateway's, granting `submissions:read`). */
  keys: readonly ServiceTokenKey[];
  isKnownProtocol: ProofRouteDeps['isKnownProtocol'];
  missingProof?: ProofRouteDeps['missingProof'];
  clock?: Clock;
}

/**
 * An HTTP app with the submitter's proof routes and its submission-status route (on the `files` and
 * `documents` tables), on the Postgres proof store: what the submitter's `buildApp` serves on
 * `/internal/v1/submissions`, without its workers.
 */
export function buildProofApp(options: ProofAppOptions): { app: FastifyInstance; proofs: ProofStore } {
  const proofs = createPostgresProofStore({
    pool: options.pool,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = createHttpApp({ logger: options.logger });
  const verifier = createProofTokenVerifier({
    keys: options.keys,
    redis: options.redis,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  registerProofRoutes(app, {
    proofs,
    verifier,
    isKnownProtocol: options.isKnownProtocol,
    ...(options.missingProof ? { missingProof: options.missingProof } : {}),
  });
  registerSubmissionStatusRoutes(app, {
    verifier,
    status: (tenantId, protocol) => submissionStatus(options.pool, tenantId, protocol),
  });
  return { app, proofs };
}

// The credentials service's client, profiles and event reader (tests/submitter-credentials).
export * from './credentials.ts';
