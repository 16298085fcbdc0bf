// The proofs of what was sent (issue 12 item 4): the store and the internal API the gateway calls.
export {
  createProofTokenVerifier,
  PROOF_READER_ISSUER,
  PROOF_ROUTES,
  type ProofRouteDeps,
  type ProofRouteKind,
  registerProofRoutes,
} from './proof-routes.ts';
export {
  createPostgresProofStore,
  MAX_PROOF_BYTES,
  type NewProof,
  type PostgresProofStoreOptions,
  PROOF_KINDS,
  type ProofFilter,
  ProofIntegrityError,
  type ProofKind,
  type ProofRecord,
  type ProofStore,
  type StoredProof,
} from './proof-store.ts';
export {
  createS3ProofStore,
  DEFAULT_PROOF_PREFIX,
  ProofObjectConflictError,
  proofObjectKey,
  type S3ProofStoreOptions,
} from './s3-proof-store.ts';
