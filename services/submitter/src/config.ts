import { configFragments } from '@sts/shared';
import { z } from 'zod';
import { credentialsConfigFragment } from './credentials/credentials-config.ts';
import { pacingConfigFragment } from './pacing/pacing-config.ts';
import { proofStoreConfigCheck, proofStoreConfigFragment } from './proofs/proof-store-config.ts';

/** Paths separated by commas or line ends, blanks dropped. */
const fileList = z.string().transform((text) =>
  text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean),
);
const ms = (fallback: number, min = 0) =>
  z.coerce.number({ message: 'must be a number of milliseconds' }).int().min(min).default(fallback);
const ROLES = ['workers', 'sweeper', 'relay', 'api'] as const;

const submitterConfigFields = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8082),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,

  // What this process does (the submitter scales by adding replicas of any mix): `workers` take
  // jobs, `sweeper` runs recovery, `relay` moves status events to the gateway, `api` serves the
  // proofs. Default: everything.
  SUBMITTER_ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((text) =>
      text
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES, { message: `each role must be one of ${ROLES.join(', ')}` }))),
  SUBMITTER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),

  // The credentials service (leases, failure reports) and the service-token keys.
  ...credentialsConfigFragment,
  // Pacing of calls to the STS, shared by every replica.
  ...pacingConfigFragment,

  // Where the STS lives, per environment (the simulator's address in development).
  STS_TEST_BASE_URL: z.url().default('https://invioSS730pTest.sanita.finanze.it'),
  STS_PRODUCTION_BASE_URL: z.url().default('https://invioSS730p.sanita.finanze.it'),
  /** Extra CA for the test host (default: the kit's "CA Agenzia delle Entrate Test"). */
  STS_TEST_CA_FILE: z.string().min(1).optional(),
  STS_RESPONSE_TIMEOUT_MS: ms(120_000, 1000),

  // The SanitelCF certificates the owner's codice fiscale (inside 730 files and single sends) is
  // encrypted with, per environment, as the gateway and the credentials service read them.
  SANITEL_CERTIFICATE_FILES: fileList.optional(),
  SANITEL_TEST_CERTIFICATE_FILES: fileList.optional(),
  // The kit's test environment does not refuse closed tax years (docs/protocol.md §4.3).
  SUBMITTER_TEST_CALENDAR: z.enum(['relaxed', 'enforce']).default('relaxed'),

  // Batching (src/dispatch/): a batch credential's documents leave as a file once the oldest has
  // waited this long, or once this many wait; `auto` credentials send one by one below a count.
  SUBMITTER_FLUSH_INTERVAL_MS: ms(60_000),
  SUBMITTER_FILE_TARGET_DOCUMENTS: z.coerce.number().int().min(1).default(30_000),
  SUBMITTER_AUTO_REALTIME_BELOW: z.coerce.number().int().min(0).default(50),
  SUBMITTER_MAX_DOCUMENTS_PER_ROUND: z.coerce.number().int().min(1).default(60_000),
  // Single sends of one credential assigned at once: the shared send queue stays fair to others.
  SUBMITTER_REALTIME_WINDOW: z.coerce.number().int().min(1).max(1000).default(20),
  SUBMITTER_MAX_ZIP_BYTES: z.coerce.number().int().min(10_000).max(5_000_000).default(5_000_000),
  // Outcome tracking: the first EsitoInvii poll after an upload (then the receipt schedule).
  SUBMITTER_FIRST_POLL_DELAY_MS: ms(30_000),
  // Recovery (src/recovery/sweeper.ts): how often, when a send is stuck, when work is idle.
  SUBMITTER_SWEEP_INTERVAL_MS: ms(5_000, 100),
  SUBMITTER_STUCK_AFTER_MS: ms(180_000, 1000),
  SUBMITTER_IDLE_AFTER_MS: ms(60_000, 100),
  SUBMITTER_RELAY_INTERVAL_MS: ms(100, 10),

  // Where proofs are kept (src/proofs/): Postgres, or an S3-compatible bucket.
  ...proofStoreConfigFragment,
});

/** With the checks across fields: the S3 proof store has its bucket and region. */
export const submitterConfigSchema = submitterConfigFields.check(proofStoreConfigCheck);

export type SubmitterConfig = z.infer<typeof submitterConfigSchema>;
export type SubmitterRole = (typeof ROLES)[number];
