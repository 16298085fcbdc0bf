import { createHmac } from 'node:crypto';
import { createRedis, SUBMISSION_PROOFS_SCOPE, startService } from '@sts/shared';
import { createSanitelEncryptor, loadSanitelCertificates } from '@sts/sts';
import { buildApp } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import { createCredentialsClient } from './credentials/credentials-client.ts';
import { credentialsClientOptions } from './credentials/credentials-config.ts';
import { gatewayMigrations } from './db/migrations.ts';
import { developmentFallbacks } from './development-fallbacks.ts';
import { protectionFromConfig } from './http/protection.ts';
import { createCredentialDirectory } from './invoices/credential-directory.ts';
import { createPatientHasher } from './invoices/patient-privacy.ts';
import { createSubmissionProofClient } from './submissions/submission-proof-client.ts';
import { webhookOptionsFromConfig } from './webhooks/webhooks.ts';

// Configuration, telemetry, logger, migrations, Postgres, Redis, HTTP and shutdown: the shared
// start-up (packages/shared/src/service-runtime.ts). What is the gateway's own is its app.
await startService({
  name: 'gateway',
  configSchema: gatewayConfigSchema,
  migrations: gatewayMigrations,
  // Development stand-ins first (GATEWAY_ALLOW_DEVELOPMENT_KEYS=true only), then the service-token
  // signing key is checked (a bad or missing one stops the boot, named).
  completeConfig: (parsed) => {
    const config = developmentFallbacks(parsed);
    return { ...config, credentialsClient: credentialsClientOptions(config) };
  },
  buildApp: ({ config, logger, pool, redis, shutdown }) => {
    const credentials = createCredentialsClient(config.credentialsClient);
    // The workers block on a connection of their own; closed after the app (which closes them).
    const workerConnection = config.GATEWAY_WORKERS
      ? createRedis(config.REDIS_URL, 'gateway-workers', { blocking: true })
      : undefined;
    if (workerConnection) shutdown.register('redis-workers', () => workerConnection.quit());
    const { signingKey } = config.credentialsClient;
    const proofsAllowed = signingKey.scopes.includes(SUBMISSION_PROOFS_SCOPE);
    if (!proofsAllowed) {
      logger.warn(
        `the service-token signing key ${signingKey.id} does not grant ${SUBMISSION_PROOFS_SCOPE}: /v1/submissions/:protocol/receipt and /errors are not served`,
      );
    }
    const encryptorOf = (files: readonly string[]) => createSanitelEncryptor(loadSanitelCertificates(files));
    return buildApp({
      logger,
      pool,
      redis,
      credentials,
      protection: protectionFromConfig(config),
      webhooks: webhookOptionsFromConfig(config),
      patientHasher: createPatientHasher(config.patientHashKey),
      ...(workerConnection
        ? { workers: { connection: workerConnection, concurrency: config.GATEWAY_STATUS_CONCURRENCY } }
        : {}),
      ...(proofsAllowed
        ? { submissionProofs: createSubmissionProofClient({ baseUrl: config.SUBMITTER_URL, signingKey }) }
        : {}),
      invoices: {
        directory: createCredentialDirectory({ list: (tenantId) => credentials.listAll(tenantId) }),
        encryptors: {
          production: encryptorOf(config.sanitelCertificateFiles.production),
          test: encryptorOf(config.sanitelCertificateFiles.test),
        },
        // Its own key, derived: the idempotency fingerprints are not patient look-ups.
        requestHashKey: createHmac('sha256', config.patientHashKey)
          .update('idempotency fingerprints')
          .digest(),
        testCalendar: config.GATEWAY_TEST_CALENDAR,
        relay: {
          intervalMs: config.GATEWAY_RELAY_INTERVAL_MS,
          batchSize: config.GATEWAY_RELAY_BATCH_SIZE,
          redeliverAfterMs: config.GATEWAY_REDELIVER_AFTER_MS,
          resyncAfterMs: config.GATEWAY_RESYNC_AFTER_MS,
        },
      },
    });
  },
});
