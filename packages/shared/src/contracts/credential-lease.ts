import { z } from 'zod';

/**
 * The answer to `POST {INTERNAL_ROUTES.credentials}/:id/lease`: what the submitter needs for one use
 * of a credential, and nothing more. The pincode arrives already encrypted with SanitelCF (as every
 * STS call carries it); the plaintext pincode never leaves the credentials service. The lease's
 * `secretsVersion` is echoed in failure reports, so a report about old secrets cannot block new ones.
 */
export const CREDENTIAL_KINDS = ['basic', 'entratel', 'client-certificate'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
export const SENDING_MODES = ['batch', 'realtime', 'auto'] as const;
export type SendingMode = (typeof SENDING_MODES)[number];
export const CREDENTIAL_STATUSES = ['untested', 'valid', 'invalid', 'password_expiring', 'expired'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];
export const STS_ENVIRONMENT_NAMES = ['test', 'production'] as const;
export type StsEnvironmentName = (typeof STS_ENVIRONMENT_NAMES)[number];
/** `standard`: Basic auth or CNS; `entrate`: Entratel intermediaries; `enti`: Sogei client certificates. */
export const ENDPOINT_VARIANTS = ['standard', 'entrate', 'enti'] as const;
export type EndpointVariant = (typeof ENDPOINT_VARIANTS)[number];

const owner = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('professional'), taxCode: z.string() }),
  z.strictObject({
    kind: z.literal('structure'),
    regionCode: z.string().nullable(),
    aslCode: z.string().nullable(),
    ssaCode: z.string().nullable(),
    taxCode: z.string().nullable(),
  }),
]);

export const credentialLeaseSchema = z.strictObject({
  leaseId: z.uuid(),
  credentialId: z.uuid(),
  secretsVersion: z.number().int().positive(),
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  environment: z.enum(STS_ENVIRONMENT_NAMES),
  kind: z.enum(CREDENTIAL_KINDS),
  endpointVariant: z.enum(ENDPOINT_VARIANTS),
  /** HTTP Basic login; null for credentials that authenticate by certificate only. */
  login: z.strictObject({ user: z.string(), password: z.string() }).nullable(),
  /** The pincode, SanitelCF-encrypted (base64), ready for `pincode`/`pinCode` fields. */
  encryptedPincode: z.string().optional(),
  entratel: z.strictObject({ pin: z.string().nullable(), siteCode: z.string().nullable() }).optional(),
  clientCertificate: z
    .strictObject({ certificatePem: z.string(), privateKeyPem: z.string(), chainPem: z.array(z.string()) })
    .optional(),
  owner,
  vatNumbers: z.array(z.string().regex(/^\d{11}$/)),
  sendingMode: z.enum(SENDING_MODES),
  pacing: z.strictObject({
    maxInFlight: z.number().int().positive(),
    requestsPerMinute: z.number().int().positive(),
  }),
  status: z.enum(CREDENTIAL_STATUSES),
});
export type CredentialLease = z.infer<typeof credentialLeaseSchema>;
