/**
 * The internal HTTP APIs between services: where each lives and which service-token scope each
 * route accepts. The serving service registers its routes under these prefixes; the calling service
 * builds its URLs and mints its tokens from the same constants.
 */
export const INTERNAL_ROUTES = {
  /** The credentials service's API for the gateway (manage) and the submitter (lease, report). */
  credentials: '/internal/v1/credentials',
  /** The submitter's API for the gateway: proofs of what was sent (zip, raw answers, PDF, CSV), a send's status. */
  submissions: '/internal/v1/submissions',
} as const;

/** Routes for operators authenticated by their CNS card (mutual TLS), not by a service token. */
export const OPERATOR_ROUTES = {
  credentials: '/operator/v1/credentials',
} as const;

/** Service-token scopes; each key configured for an issuer lists the scopes it may claim. */
export const SERVICE_SCOPES = {
  /** The gateway, on a tenant's behalf: create, read, change, test and delete credentials. */
  credentialsManage: 'credentials:manage',
  /** The submitter: lease a credential's secrets for one use. */
  credentialsLease: 'credentials:lease',
  /** The submitter: report the outcome of an authenticated call made with a lease. */
  credentialsReport: 'credentials:report',
  /** The gateway: download the proofs the submitter keeps. */
  submissionsRead: 'submissions:read',
} as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[keyof typeof SERVICE_SCOPES];
