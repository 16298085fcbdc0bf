import { ConfigError, loadServiceTokenKeys, SERVICE_SCOPES, type ServiceTokenKey } from '@sts/shared';
import type { CredentialsClientOptions } from './credentials-client.ts';

/** What of the gateway's configuration the credentials client reads. */
export interface CredentialsClientConfig {
  CREDENTIALS_URL: string;
  CREDENTIALS_TIMEOUT_MS: number;
  CREDENTIALS_TEST_TIMEOUT_MS: number;
  SERVICE_TOKEN_KEYS?: string | undefined;
  SERVICE_TOKEN_KEYS_FILE?: string | undefined;
  SERVICE_TOKEN_SIGNING_KEY_ID?: string | undefined;
}

const KEYS = 'SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE';

/**
 * The key the gateway signs its service tokens with: `SERVICE_TOKEN_SIGNING_KEY_ID`, or the only
 * configured key. It must name issuer `gateway` and grant `credentials:manage` (the credentials
 * service refuses anything else). Every problem is a `ConfigError` naming the variable; a message
 * never repeats a secret.
 */
export function gatewaySigningKey(config: CredentialsClientConfig): ServiceTokenKey {
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
  const issues: { variable: string; problem: string }[] = [];
  if (key.issuer !== 'gateway') {
    issues.push({
      variable: KEYS,
      problem: `the signing key ${key.id} has issuer "${key.issuer}": the gateway signs as "gateway" (<key id>:gateway:<scopes>:<secret>)`,
    });
  }
  if (!key.scopes.includes(SERVICE_SCOPES.credentialsManage)) {
    issues.push({
      variable: KEYS,
      problem: `the signing key ${key.id} does not grant ${SERVICE_SCOPES.credentialsManage}, which /v1/credentials needs`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return key;
}

/** The credentials client's options from the configuration (a `ConfigError` when the key is wrong). */
export function credentialsClientOptions(config: CredentialsClientConfig): CredentialsClientOptions {
  return {
    baseUrl: config.CREDENTIALS_URL,
    signingKey: gatewaySigningKey(config),
    timeoutMs: config.CREDENTIALS_TIMEOUT_MS,
    testTimeoutMs: config.CREDENTIALS_TEST_TIMEOUT_MS,
  };
}
