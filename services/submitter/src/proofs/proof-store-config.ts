import { S3Client } from '@aws-sdk/client-s3';
import type { Pool } from '@sts/shared';
import { z } from 'zod';
import { createPostgresProofStore, type ProofStore } from './proof-store.ts';
import { createS3ProofStore, DEFAULT_PROOF_PREFIX } from './s3-proof-store.ts';

const booleanFlag = z
  .enum(['true', 'false'], { message: 'must be "true" or "false"' })
  .transform((value) => value === 'true');

/**
 * Config fragment of the proof store: Postgres (the default) or an S3-compatible bucket. With `s3`,
 * credentials are the two variables below when both are set, else the AWS SDK's default chain
 * (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, web identity, the instance role).
 * Checked across fields by `proofStoreConfigCheck`.
 */
export const proofStoreConfigFragment = {
  SUBMITTER_PROOF_STORE: z
    .enum(['postgres', 's3'], { message: 'must be "postgres" or "s3"' })
    .default('postgres'),
  SUBMITTER_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, {
      message: 'must be a bucket name: 3-63 lower-case letters, digits, dots and hyphens',
    })
    .optional(),
  /** For S3-compatible services (MinIO, Ceph, …); AWS S3 needs none. */
  SUBMITTER_S3_ENDPOINT: z
    .url({ message: 'must be a URL, e.g. https://minio.internal:9000', abort: true })
    .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
      message: 'must start with http:// or https://',
    })
    .optional(),
  SUBMITTER_S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, { message: 'must be a region, e.g. eu-south-1' })
    .optional(),
  /** Put before every object key; a `/` is added at the end when missing. */
  SUBMITTER_S3_PREFIX: z
    .string()
    .refine((value) => !value.startsWith('/') && !value.includes('//') && /^[\x21-\x7e]*$/.test(value), {
      message: 'must be printable ASCII without spaces, not start with "/" nor contain "//"',
    })
    .transform((value) => (value === '' || value.endsWith('/') ? value : `${value}/`))
    .default(DEFAULT_PROOF_PREFIX),
  /** `true` for services that want `https://host/bucket/key` rather than `https://bucket.host/key` (MinIO). */
  SUBMITTER_S3_FORCE_PATH_STYLE: booleanFlag.default(false),
  SUBMITTER_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  SUBMITTER_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /**
   * How long one request to the bucket may take, from sending it to the end of the answer (and how
   * long its socket may stay silent); the proofs are written inside the transactions that record the
   * STS's answers, so a stalled bucket must fail them, not hold them.
   */
  SUBMITTER_S3_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .default(5000),
  /** How long opening a connection to the bucket may take. */
  SUBMITTER_S3_CONNECT_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .default(2000),
  /** Tries of one request, the first included (the SDK retries throttling, 5xx and timeouts). */
  SUBMITTER_S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(2),
} as const;

export interface ProofStoreConfig {
  SUBMITTER_PROOF_STORE: 'postgres' | 's3';
  SUBMITTER_S3_BUCKET?: string | undefined;
  SUBMITTER_S3_ENDPOINT?: string | undefined;
  SUBMITTER_S3_REGION?: string | undefined;
  SUBMITTER_S3_PREFIX: string;
  SUBMITTER_S3_FORCE_PATH_STYLE: boolean;
  SUBMITTER_S3_ACCESS_KEY_ID?: string | undefined;
  SUBMITTER_S3_SECRET_ACCESS_KEY?: string | undefined;
  SUBMITTER_S3_TIMEOUT_MS: number;
  SUBMITTER_S3_CONNECT_TIMEOUT_MS: number;
  SUBMITTER_S3_MAX_ATTEMPTS: number;
}

const PROOF_STORE_VARIABLES: readonly PropertyKey[] = Object.keys(proofStoreConfigFragment);

/**
 * The checks across the fields, for the submitter's schema (`.check(proofStoreConfigCheck)`): with
 * `s3`, a bucket and a region; explicit credentials come as a pair. They run whenever the fragment's
 * own variables parse, even when other variables do not (unless one stops parsing, as a malformed URL
 * does), so one boot names every problem.
 */
export const proofStoreConfigCheck = z.superRefine<ProofStoreConfig>(
  (config, context) => {
    if (config.SUBMITTER_PROOF_STORE !== 's3') return;
    for (const variable of ['SUBMITTER_S3_BUCKET', 'SUBMITTER_S3_REGION'] as const) {
      if (config[variable] === undefined) {
        context.addIssue({
          code: 'custom',
          path: [variable],
          message: 'is required when SUBMITTER_PROOF_STORE is s3',
        });
      }
    }
    const id = config.SUBMITTER_S3_ACCESS_KEY_ID !== undefined;
    const secret = config.SUBMITTER_S3_SECRET_ACCESS_KEY !== undefined;
    if (id !== secret) {
      context.addIssue({
        code: 'custom',
        path: [id ? 'SUBMITTER_S3_SECRET_ACCESS_KEY' : 'SUBMITTER_S3_ACCESS_KEY_ID'],
        message:
          'is required with the other of SUBMITTER_S3_ACCESS_KEY_ID and SUBMITTER_S3_SECRET_ACCESS_KEY (or set neither: the AWS default chain)',
      });
    }
  },
  {
    when: (payload) => !payload.issues.some((issue) => PROOF_STORE_VARIABLES.includes(issue.path?.[0] ?? '')),
  },
);

/** The configured proof store, and how to release what it holds (the S3 client's connections). */
export function proofStoreFromConfig(
  config: ProofStoreConfig,
  { pool }: { pool: Pool },
): { proofs: ProofStore; close(): void } {
  if (config.SUBMITTER_PROOF_STORE === 'postgres') {
    return { proofs: createPostgresProofStore({ pool }), close: () => {} };
  }
  if (!config.SUBMITTER_S3_BUCKET || !config.SUBMITTER_S3_REGION) {
    throw new Error('the S3 proof store needs SUBMITTER_S3_BUCKET and SUBMITTER_S3_REGION');
  }
  const client = new S3Client({
    region: config.SUBMITTER_S3_REGION,
    // Bounded: a stalled bucket fails the put (and its transaction) instead of holding it. The
    // SDK's default is no timeout at all and 3 attempts.
    maxAttempts: config.SUBMITTER_S3_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: config.SUBMITTER_S3_CONNECT_TIMEOUT_MS,
      requestTimeout: config.SUBMITTER_S3_TIMEOUT_MS,
      // Without it a request over `requestTimeout` is only logged as a warning.
      throwOnRequestTimeout: true,
      socketTimeout: config.SUBMITTER_S3_TIMEOUT_MS,
    },
    forcePathStyle: config.SUBMITTER_S3_FORCE_PATH_STYLE,
    ...(config.SUBMITTER_S3_ENDPOINT ? { endpoint: config.SUBMITTER_S3_ENDPOINT } : {}),
    ...(config.SUBMITTER_S3_ACCESS_KEY_ID && config.SUBMITTER_S3_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: config.SUBMITTER_S3_ACCESS_KEY_ID,
            secretAccessKey: config.SUBMITTER_S3_SECRET_ACCESS_KEY,
          },
        }
      : {}),
  });
  const proofs = createS3ProofStore({
    pool,
    client,
    bucket: config.SUBMITTER_S3_BUCKET,
    prefix: config.SUBMITTER_S3_PREFIX,
  });
  return { proofs, close: () => client.destroy() };
}
