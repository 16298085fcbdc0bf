import { createHash } from 'node:crypto';
import {
  ConfigError,
  loadServiceTokenKeys,
  SERVICE_SCOPES,
  type ServiceTokenKey,
  serviceTokenConfigFragment,
} from '@sts/shared';
import { z } from 'zod';
import type { CredentialsClientOptions } from './credentials-client.ts';

const booleanFlag = z
  .enum(['true', 'false'], { message: 'must be "true" or "false"' })
  .transform((value) => value === 'true');

/**
 * Config fragment of the submitter's client of the credentials service; spread it into the
 * submitter's schema. The service-token variables are the shared fragment's (the submitter's key
 * has issuer `submitter` and grants `credentials:lease` and `credentials:report`).
 */
export const credentialsConfigFragment = {
  // Public development stand-in for a missing service-token key: only when this is exactly "true",
  // never in production (below, `submitterSigningKey`).
  SUBMITTER_ALLOW_DEVELOPMENT_KEYS: booleanFlag.default(false),
  ...serviceTokenConfigFragment,
  CREDENTIALS_URL: z
    .url({ message: "must be the credentials service's base URL, e.g. http://127.0.0.1:8081", abort: true })
    .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
      message: 'must start with http:// or https://',
    })
    .default('http://127.0.0.1:8081'),
  CREDENTIALS_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    .min(100, { message: 'must be at least 100 (milliseconds)' })
    .default(10_000),
  // How long routing keeps what it learnt of a credential (src/credentials/credential-profiles.ts).
  CREDENTIAL_PROFILE_TTL_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    .min(0)
    .default(60_000),
} as const;

/** What of the submitter's configuration the credentials client reads. */
export interface CredentialsClientConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  SUBMITTER_ALLOW_DEVELOPMENT_KEYS: boolean;
  CREDENTIALS_URL: string;
  CREDENTIALS_TIMEOUT_MS: number;
  SERVICE_TOKEN_KEYS?: string | undefined;
  SERVICE_TOKEN_KEYS_FILE?: string | undefined;
  SERVICE_TOKEN_SIGNING_KEY_ID?: string | undefined;
}

const KEYS = 'SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE';
/** The id of the development key: the one the credentials service derives for the submitter. */
export const DEVELOPMENT_SIGNING_KEY_ID = 'dev-submitter';

/**
 * The public development key of the submitter, derived as the credentials service derives it
 * (services/credentials/src/development-fallbacks.ts) so the two agree without configuration.
 */
export function developmentSigningKey(): ServiceTokenKey {
  return {
    id: DEVELOPMENT_SIGNING_KEY_ID,
    issuer: 'submitter',
    scopes: [SERVICE_SCOPES.credentialsLease, SERVICE_SCOPES.credentialsReport],
    secret: createHash('sha256').update('sts-credentials development service token key submitter').digest(),
  };
}

/**
 * The key the submitter signs its service tokens with: `SERVICE_TOKEN_SIGNING_KEY_ID`, or the only
 * configured key; with none configured and `SUBMITTER_ALLOW_DEVELOPMENT_KEYS=true` (refused in
 * production), the public development key, with a warning to log at boot. It must name issuer
 * `submitter` and grant `credentials:lease` and `credentials:report`. Every problem is a
 * `ConfigError` naming the variable; no message repeats a secret.
 */
export function submitterSigningKey(config: CredentialsClientConfig): {
  key: ServiceTokenKey;
  warnings: string[];
} {
  const issues: { variable: string; problem: string }[] = [];
  const allowed = config.SUBMITTER_ALLOW_DEVELOPMENT_KEYS;
  if (allowed && config.NODE_ENV === 'production') {
    issues.push({
      variable: 'SUBMITTER_ALLOW_DEVELOPMENT_KEYS',
      problem: 'must not be true in production: the development keys are public',
    });
  }
  if (!config.SERVICE_TOKEN_KEYS && !config.SERVICE_TOKEN_KEYS_FILE) {
    if (!allowed) {
      issues.push({
        variable: KEYS,
        problem: 'required (on a development machine only: SUBMITTER_ALLOW_DEVELOPMENT_KEYS=true)',
      });
    }
    if (issues.length > 0) throw new ConfigError(issues);
    return {
      key: developmentSigningKey(),
      warnings: [
        'SUBMITTER_ALLOW_DEVELOPMENT_KEYS=true: DEVELOPMENT service token key in use (public, derived from a fixed phrase); never send real documents',
      ],
    };
  }
  if (issues.length > 0) throw new ConfigError(issues);

  let keys: ServiceTokenKey[];
  try {
    keys = loadServiceTokenKeys(config);
  } catch (error) {
    // parseServiceTokenKeys never repeats a secret; a missing file says which path.
    throw new ConfigError([{ variable: KEYS, problem: (error as Error).message }]);
  }
  const id = config.SERVICE_TOKEN_SIGNING_KEY_ID;
  if (!id && keys.length > 1) {
    throw new ConfigError([
      {
        variable: 'SERVICE_TOKEN_SIGNING_KEY_ID',
        problem: `required when several keys are configured (${keys.map((key) => key.id).join(', ')}): the id of the one to sign with`,
      },
    ]);
  }
  const key = id ? keys.find((candidate) => candidate.id === id) : keys[0];
  if (!key) {
    throw new ConfigError([
      {
        variable: 'SERVICE_TOKEN_SIGNING_KEY_ID',
        problem: `names no configured key (configured: ${keys.map((candidate) => candidate.id).join(', ')})`,
      },
    ]);
  }
  if (key.issuer !== 'submitter') {
    issues.push({
      variable: KEYS,
      problem: `the signing key ${key.id} has issuer "${key.issuer}": the submitter signs as "submitter" (<key id>:submitter:<scopes>:<secret>)`,
    });
  }
  for (const scope of [SERVICE_SCOPES.credentialsLease, SERVICE_SCOPES.credentialsReport]) {
    if (!key.scopes.includes(scope)) {
      issues.push({
        variable: KEYS,
        problem: `the signing key ${key.id} does not grant ${scope}, which the submitter needs`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { key, warnings: [] };
}

/** The credentials client's options from the configuration (a `ConfigError` when the key is wrong). */
export function credentialsClientOptions(config: CredentialsClientConfig): CredentialsClientOptions & {
  developmentWarnings: string[];
} {
  const { key, warnings } = submitterSigningKey(config);
  return {
    baseUrl: config.CREDENTIALS_URL,
    signingKey: key,
    timeoutMs: config.CREDENTIALS_TIMEOUT_MS,
    developmentWarnings: warnings,
  };
}
