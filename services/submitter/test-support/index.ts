import {
  type Clock,
  createHttpApp,
  type Logger,
  type Pool,
  type Redis,
  type ServiceTokenKey,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
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
 * An HTTP app with the submitter's proof routes alone, on the Postgres proof store: what the
 * submitter's `buildApp` serves on `/internal/v1/submissions`, without its workers.
 */
export function buildProofApp(options: ProofAppOptions): { app: FastifyInstance; proofs: ProofStore } {
  const proofs = createPostgresProofStore({
    pool: options.pool,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = createHttpApp({ logger: options.logger });
  registerProofRoutes(app, {
    proofs,
    verifier: createProofTokenVerifier({
      keys: options.keys,
      redis: options.redis,
      ...(options.clock ? { clock: options.clock } : {}),
    }),
    isKnownProtocol: options.isKnownProtocol,
    ...(options.missingProof ? { missingProof: options.missingProof } : {}),
  });
  return { app, proofs };
}

// The credentials service's client, profiles and event reader (tests/submitter-credentials).
export * from './credentials.ts';
