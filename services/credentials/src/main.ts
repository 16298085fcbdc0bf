import { readFileSync } from 'node:fs';
import { createServiceTokenVerifier, loadServiceTokenKeys, startService } from '@sts/shared';
import { loadSanitelCertificates } from '@sts/sts';
import { buildApp } from './app.ts';
import { type CredentialsConfig, credentialsConfigSchema } from './config.ts';
import { credentialsMigrations } from './db/migrations.ts';
import { developmentFallbacks } from './development-fallbacks.ts';
import { createStsClientFactory, defaultTestEnvironmentCa } from './sts/sts-client-factory.ts';
import { loadKeyring } from './vault/keyring.ts';

// The shared start-up (packages/shared/src/service-runtime.ts) reads the configuration, starts
// telemetry, the logger, migrations, Postgres, Redis and HTTP, and stops them on SIGTERM/SIGINT.
// With CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true (set by `./run start` and docker compose), missing
// secrets get loudly announced development stand-ins. What is the credentials service's own follows.
await startService({
  name: 'credentials',
  configSchema: credentialsConfigSchema,
  completeConfig: developmentFallbacks,
  migrations: credentialsMigrations,
  buildApp: ({ config, logger, pool, redis }) => {
    return buildApp({
      logger,
      pool,
      redis,
      // Secrets and keys: master keys, service token keys, the SanitelCF certificates.
      keyring: loadKeyring(config),
      serviceTokens: createServiceTokenVerifier({
        keys: loadServiceTokenKeys(config),
        audience: 'credentials',
        trustedIssuers: config.SERVICE_TOKEN_TRUSTED_ISSUERS,
        // Used token ids, shared by every replica: a token is accepted once.
        redis,
      }),
      sanitelCertificates: {
        // Every configured SanitelCF certificate; each encryption uses the newest valid one of its
        // environment's set (buildApp makes the encryptors from them).
        sets: {
          production: loadSanitelCertificates(config.sanitelCertificateFiles.production),
          test: loadSanitelCertificates(config.sanitelCertificateFiles.test),
        },
        warningDays: config.SANITEL_CERTIFICATE_WARNING_DAYS,
        configuration: {
          production: 'SANITEL_CERTIFICATE_FILES',
          test:
            config.SANITEL_TEST_CERTIFICATE_FILE || config.SANITEL_TEST_CERTIFICATE_FILES?.length
              ? 'SANITEL_TEST_CERTIFICATE_FILES'
              : 'SANITEL_CERTIFICATE_FILES',
        },
      },
      policy: {
        passwordValidityDays: config.CREDENTIALS_PASSWORD_VALIDITY_DAYS,
        expiryWarningDays: config.CREDENTIALS_EXPIRY_WARNING_DAYS,
        testPauseAfterFailureMs: config.CREDENTIALS_TEST_PAUSE_AFTER_FAILURE_MINUTES * 60_000,
        testCall: config.CREDENTIALS_TEST_CALL,
        loginFailureBudget: config.CREDENTIALS_LOGIN_FAILURE_BUDGET,
      },
      leaseTtlMs: config.CREDENTIALS_LEASE_TTL_SECONDS * 1000,
      expiryCheckIntervalMs: config.CREDENTIALS_EXPIRY_CHECK_INTERVAL_MS,
      stsClientFactory: createStsClientFactory({
        baseUrls: { test: config.STS_TEST_BASE_URL, production: config.STS_PRODUCTION_BASE_URL },
        ca: {
          test: config.STS_TEST_CA_FILE
            ? readFileSync(config.STS_TEST_CA_FILE, 'utf8')
            : defaultTestEnvironmentCa(),
        },
        responseTimeoutMs: config.STS_RESPONSE_TIMEOUT_MS,
      }),
      ...operatorTls(config),
    });
  },
});

/** Mutual TLS for operators' CNS cards, when all three files are configured. */
function operatorTls(config: CredentialsConfig) {
  const { CREDENTIALS_TLS_CERT_FILE: cert, CREDENTIALS_TLS_KEY_FILE: key } = config;
  const clientCa = config.CREDENTIALS_OPERATOR_CA_FILE;
  if (!cert || !key || !clientCa) return {};
  return {
    operatorTls: {
      cert: readFileSync(cert, 'utf8'),
      key: readFileSync(key, 'utf8'),
      clientCa: readFileSync(clientCa, 'utf8'),
    },
  };
}
