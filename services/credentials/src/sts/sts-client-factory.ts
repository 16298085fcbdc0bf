import { readFileSync } from 'node:fs';
import {
  createStsClient,
  type EndpointVariant,
  STS_ENVIRONMENTS,
  type StsClient,
  type StsFailure,
  type StsResult,
  TEST_ENVIRONMENT_CA,
} from '@sts/sts';
import type { Environment } from '../credentials/credential-validation.ts';

export type { EndpointVariant, StsClient, StsFailure, StsResult };
export { STS_ENVIRONMENTS };

/** How to reach the STS for one credential: environment, path variant, login and TLS identity. */
export interface StsConnection {
  environment: Environment;
  variant: EndpointVariant;
  /** Basic auth; absent only for client-certificate credentials without a login. */
  auth?: { user: string; password: string };
  clientCertificate?: { cert: string; key: string };
  /** Entratel credentials: the codice fiscale-sede, sent as `opzionale1` on every call. */
  optional1?: string;
}

export type StsClientFactory = (connection: StsConnection) => StsClient;

export interface StsClientFactoryOptions {
  /** Per environment: `STS_ENVIRONMENTS.*`, or the simulator's address in tests and development. */
  baseUrls: Record<Environment, string>;
  /** Extra CAs per environment (the test host's certificate chains to a private Sogei test CA). */
  ca?: Partial<Record<Environment, string>>;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  legacyCiphers?: boolean;
}

/** Reads the kit's test CA; used when the test environment is the real STS test host. */
export const defaultTestEnvironmentCa = (): string => readFileSync(TEST_ENVIRONMENT_CA, 'utf8');

export function createStsClientFactory(options: StsClientFactoryOptions): StsClientFactory {
  return (connection) => {
    const ca = options.ca?.[connection.environment];
    const tls = {
      ...(ca ? { ca } : {}),
      ...(connection.clientCertificate ? { clientCertificate: connection.clientCertificate } : {}),
      ...(options.legacyCiphers ? { legacyCiphers: true } : {}),
    };
    return createStsClient({
      baseUrl: options.baseUrls[connection.environment],
      variant: connection.variant,
      // Certificate-only credentials have no login: no Authorization header is sent then.
      ...(connection.auth ? { auth: connection.auth } : {}),
      ...(connection.optional1 ? { optional1: connection.optional1 } : {}),
      tls,
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.responseTimeoutMs ? { responseTimeoutMs: options.responseTimeoutMs } : {}),
    });
  };
}
