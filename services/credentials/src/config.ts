import { configFragments, serviceTokenConfigFragment } from '@sts/shared';
import { z } from 'zod';
import { DEFAULT_SANITEL_WARNING_DAYS } from './credentials/sanitel-certificate-monitor.ts';

const commaList = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);
/** Paths separated by commas or line ends, blanks dropped. */
const fileList = z.string().transform((text) =>
  text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean),
);
const dayList = z
  .string()
  .regex(/^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$/, 'must be a comma list of days, e.g. 14,7,3,1')
  .transform((text) => text.split(',').map((item) => Number(item.trim())));

export const credentialsConfigSchema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8081),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,

  // Master keys wrapping the per-credential data keys: `v1:<base64 32 bytes>,v2:…` inline or in a
  // file, and the version new data keys are wrapped with (src/vault/keyring.ts).
  CREDENTIALS_MASTER_KEYS: z.string().min(1).optional(),
  CREDENTIALS_MASTER_KEYS_FILE: z.string().min(1).optional(),
  CREDENTIALS_ACTIVE_MASTER_KEY: z.string().min(1).optional(),

  // Public development stand-ins for missing keys (src/development-fallbacks.ts): only when this is
  // exactly "true", never in production.
  CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .default('false')
    .transform((value) => value === 'true'),

  // Service tokens from the gateway and the submitter (packages/shared/src/service-token).
  ...serviceTokenConfigFragment,
  SERVICE_TOKEN_TRUSTED_ISSUERS: commaList.default(['gateway', 'submitter']),

  // The SanitelCF certificates pincodes are encrypted with: the one in use and, during a renewal,
  // its successor (docs/sanitel-certificate-renewal.md). `…_FILES` lists several (commas or line
  // ends); `…_FILE`, one, is kept for compatibility, and both may be set: every file listed counts.
  // Each encryption uses the newest certificate valid at that moment. The test environment may use
  // others (the simulator's stand-ins); it defaults to the production ones. Default: the kit's
  // certificate, with CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true only.
  SANITEL_CERTIFICATE_FILE: z.string().min(1).optional(),
  SANITEL_CERTIFICATE_FILES: fileList.optional(),
  SANITEL_TEST_CERTIFICATE_FILE: z.string().min(1).optional(),
  SANITEL_TEST_CERTIFICATE_FILES: fileList.optional(),
  // Days before the expiry of the SanitelCF certificate in use at which to warn (and on the day),
  // unless a successor is configured; past renewals were published 2.5 to 5 weeks ahead.
  SANITEL_CERTIFICATE_WARNING_DAYS: dayList.default([...DEFAULT_SANITEL_WARNING_DAYS]),

  // Where the STS lives, per environment (the simulator's address in development).
  STS_TEST_BASE_URL: z.url().default('https://invioSS730pTest.sanita.finanze.it'),
  STS_PRODUCTION_BASE_URL: z.url().default('https://invioSS730p.sanita.finanze.it'),
  /** Extra CA for the test host (default: the kit's "CA Agenzia delle Entrate Test"). */
  STS_TEST_CA_FILE: z.string().min(1).optional(),
  STS_RESPONSE_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),

  // Credential lifecycle.
  CREDENTIALS_PASSWORD_VALIDITY_DAYS: z.coerce.number().int().min(1).max(365).default(90),
  CREDENTIALS_EXPIRY_WARNING_DAYS: dayList.default([14, 7, 3, 1]),
  CREDENTIALS_EXPIRY_CHECK_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
  CREDENTIALS_TEST_PAUSE_AFTER_FAILURE_MINUTES: z.coerce.number().int().min(0).default(360),
  CREDENTIALS_TEST_CALL: z.enum(['point-query', 'outcome-query']).default('point-query'),
  // Consecutive failed logins allowed per STS login (environment, user) across every credential of
  // every tenant, before nothing more is sent with it until a successful login or an administrator's
  // reset (src/logins/login-budget.ts).
  CREDENTIALS_LOGIN_FAILURE_BUDGET: z.coerce
    .number()
    .int()
    .min(1, 'must be 1 to 5: failed logins allowed per STS user before sending stops')
    .max(5, 'must be 1 to 5: the STS locks a user after about 8 wrong passwords, so stay well below')
    .default(3),
  CREDENTIALS_LEASE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),

  // Operators with CNS cards: mutual TLS on this service's port. All three, or none.
  CREDENTIALS_TLS_CERT_FILE: z.string().min(1).optional(),
  CREDENTIALS_TLS_KEY_FILE: z.string().min(1).optional(),
  CREDENTIALS_OPERATOR_CA_FILE: z.string().min(1).optional(),
});

export type CredentialsConfig = z.infer<typeof credentialsConfigSchema>;
