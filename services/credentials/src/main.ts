import { readFileSync } from 'node:fs';
import {
  ConfigError,
  createLogger,
  createPool,
  createRedis,
  createServiceTokenVerifier,
  createShutdown,
  loadConfigOrExit,
  loadServiceTokenKeys,
  runMigrations,
  startTelemetry,
} from '@sts/shared';
import { createSanitelEncryptor, loadSanitelCertificate } from '@sts/sts';
import { buildApp } from './app.ts';
import { credentialsConfigSchema } from './config.ts';
import { createExpiryMonitor } from './credentials/expiry-monitor.ts';
import { createDatabase } from './db/database.ts';
import { credentialsMigrations } from './db/migrations.ts';
import { developmentFallbacks } from './development-fallbacks.ts';
import { createCredentialEvents } from './events/credential-events.ts';
import { createCredentialMetrics } from './health/credential-metrics.ts';
import { createStsClientFactory, defaultTestEnvironmentCa } from './sts/sts-client-factory.ts';
import { loadKeyring } from './vault/keyring.ts';

// 1. Configuration: one schema, checked at boot; with CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true (set by
//    `./run start` and docker compose), missing secrets get loudly announced development stand-ins.
const config = (() => {
  try {
    return developmentFallbacks(loadConfigOrExit(credentialsConfigSchema));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
})();
const telemetry = startTelemetry({
  serviceName: 'credentials',
  endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const logger = createLogger({ name: 'credentials', level: config.LOG_LEVEL });
for (const warning of config.developmentWarnings) logger.warn(warning);
const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
shutdown.register('telemetry', () => telemetry.shutdown());

// 2. Secrets and keys: master keys, service token keys, the SanitelCF certificates.
const keyring = loadKeyring(config);
const serviceTokens = createServiceTokenVerifier({
  keys: loadServiceTokenKeys(config),
  audience: 'credentials',
  trustedIssuers: config.SERVICE_TOKEN_TRUSTED_ISSUERS,
});
const sanitel = {
  production: createSanitelEncryptor(loadSanitelCertificate(config.SANITEL_CERTIFICATE_FILE)),
  test: createSanitelEncryptor(
    loadSanitelCertificate(config.SANITEL_TEST_CERTIFICATE_FILE ?? config.SANITEL_CERTIFICATE_FILE),
  ),
};

// 3. Infrastructure: migrations, Postgres, Redis.
await runMigrations(config.DATABASE_URL, credentialsMigrations);
const pool = createPool({
  url: config.DATABASE_URL,
  max: config.DATABASE_POOL_MAX,
  applicationName: 'credentials',
});
shutdown.register('postgres', () => pool.end());
const redis = createRedis(config.REDIS_URL, 'credentials');
shutdown.register('redis', () => redis.quit());

// 4. The application, and the expiry monitor beside it.
const metrics = createCredentialMetrics();
const policy = {
  passwordValidityDays: config.CREDENTIALS_PASSWORD_VALIDITY_DAYS,
  expiryWarningDays: config.CREDENTIALS_EXPIRY_WARNING_DAYS,
  testPauseAfterFailureMs: config.CREDENTIALS_TEST_PAUSE_AFTER_FAILURE_MINUTES * 60_000,
  testCall: config.CREDENTIALS_TEST_CALL,
};
const app = buildApp({
  logger,
  pool,
  redis,
  keyring,
  sanitel,
  serviceTokens,
  metrics,
  policy,
  leaseTtlMs: config.CREDENTIALS_LEASE_TTL_SECONDS * 1000,
  stsClientFactory: createStsClientFactory({
    baseUrls: { test: config.STS_TEST_BASE_URL, production: config.STS_PRODUCTION_BASE_URL },
    ca: {
      test: config.STS_TEST_CA_FILE
        ? readFileSync(config.STS_TEST_CA_FILE, 'utf8')
        : defaultTestEnvironmentCa(),
    },
    responseTimeoutMs: config.STS_RESPONSE_TIMEOUT_MS,
  }),
  ...(config.CREDENTIALS_TLS_CERT_FILE &&
  config.CREDENTIALS_TLS_KEY_FILE &&
  config.CREDENTIALS_OPERATOR_CA_FILE
    ? {
        operatorTls: {
          cert: readFileSync(config.CREDENTIALS_TLS_CERT_FILE, 'utf8'),
          key: readFileSync(config.CREDENTIALS_TLS_KEY_FILE, 'utf8'),
          clientCa: readFileSync(config.CREDENTIALS_OPERATOR_CA_FILE, 'utf8'),
        },
      }
    : {}),
});
shutdown.register('http', () => app.close());

const monitor = createExpiryMonitor({
  db: createDatabase(pool),
  logger,
  clock: () => new Date(),
  events: createCredentialEvents({ redis, logger }),
  metrics,
  warningDays: policy.expiryWarningDays,
});
const runMonitor = () =>
  monitor.runOnce().catch((err: unknown) => logger.error({ err }, 'expiry monitor pass failed'));
const monitorTimer = setInterval(runMonitor, config.CREDENTIALS_EXPIRY_CHECK_INTERVAL_MS);
monitorTimer.unref();
shutdown.register('expiry-monitor', () => clearInterval(monitorTimer));

// 5. Listen; stop cleanly on SIGTERM/SIGINT.
shutdown.onSignals();
await app.listen({ host: config.HOST, port: config.PORT });
void runMonitor();
