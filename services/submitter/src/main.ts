import { readFileSync } from 'node:fs';
import { createRedis, startService } from '@sts/shared';
import { createSanitelEncryptor, loadSanitelCertificates, TEST_ENVIRONMENT_CA } from '@sts/sts';
import { buildApp } from './app.ts';
import { submitterConfigSchema } from './config.ts';
import { createCredentialProfiles } from './credentials/credential-profiles.ts';
import { createCredentialsClient } from './credentials/credentials-client.ts';
import { submitterMigrations } from './db/migrations.ts';
import { developmentFallbacks } from './development-fallbacks.ts';
import { createPacer } from './pacing/pacer.ts';
import { pacerOptions } from './pacing/pacing-config.ts';
import { proofStoreFromConfig } from './proofs/proof-store-config.ts';

// The shared start-up (packages/shared/src/service-runtime.ts): configuration, telemetry, logger,
// migrations, Postgres, Redis, HTTP, shutdown. What is the submitter's own is its pipeline.
await startService({
  name: 'submitter',
  configSchema: submitterConfigSchema,
  completeConfig: developmentFallbacks,
  migrations: submitterMigrations,
  buildApp: ({ config, logger, pool, redis }) => {
    const client = createCredentialsClient(config.credentialsClient);
    const profiles = createCredentialProfiles({ client, ttlMs: config.CREDENTIAL_PROFILE_TTL_MS });
    const encryptorOf = (files: readonly string[]) => createSanitelEncryptor(loadSanitelCertificates(files));
    const workerConnection = createRedis(config.REDIS_URL, 'submitter-workers', { blocking: true });
    // A busy slot is asked for again soon: one call of a credential lasts tens of milliseconds.
    const pacer = createPacer({
      redis,
      inFlightRetryAfterMs: 100,
      ...pacerOptions(config),
      // The call goes on either way (it cannot be taken back): see src/pacing/pacer.ts.
      onLeaseWarning: ({ kind, credentialId, error }) =>
        logger.warn(
          { credentialId, err: error },
          kind === 'lease-lost'
            ? 'in-flight lease lost during an STS call: another replica may call with this credential meanwhile'
            : 'in-flight lease not removed at release: it expires by itself',
        ),
    });
    const proofStore = proofStoreFromConfig(config, { pool });
    const app = buildApp({
      logger,
      pool,
      redis,
      roles: config.SUBMITTER_ROLES,
      pipeline: {
        workerConnection,
        credentials: {
          profileOf: profiles.profileOf,
          forget: profiles.forget,
          lease: async (credentialId, options) => {
            const leased = await client.lease(credentialId, options);
            if (leased.ok) profiles.remember(options.tenantId, leased.lease);
            return leased;
          },
          reportFailure: async (credentialId, report) => {
            const reported = await client.reportFailure(credentialId, report);
            if (!reported.ok && reported.reason === 'unavailable') {
              throw new Error('the credentials service did not take the failure report; retrying the job');
            }
          },
        },
        pacer,
        sts: {
          baseUrls: { test: config.STS_TEST_BASE_URL, production: config.STS_PRODUCTION_BASE_URL },
          ca: { test: readFileSync(config.STS_TEST_CA_FILE ?? TEST_ENVIRONMENT_CA, 'utf8') },
          responseTimeoutMs: config.STS_RESPONSE_TIMEOUT_MS,
        },
        encryptors: {
          production: encryptorOf(config.sanitelCertificateFiles.production),
          test: encryptorOf(config.sanitelCertificateFiles.test),
        },
        testCalendar: config.SUBMITTER_TEST_CALENDAR,
        proofReaderKeys: config.proofReaderKeys,
        proofs: proofStore.proofs,
        dispatch: {
          flushIntervalMs: config.SUBMITTER_FLUSH_INTERVAL_MS,
          fileTargetDocuments: config.SUBMITTER_FILE_TARGET_DOCUMENTS,
          autoRealtimeBelow: config.SUBMITTER_AUTO_REALTIME_BELOW,
          maxDocumentsPerRound: config.SUBMITTER_MAX_DOCUMENTS_PER_ROUND,
          realtimeWindow: config.SUBMITTER_REALTIME_WINDOW,
          maxZipBytes: config.SUBMITTER_MAX_ZIP_BYTES,
        },
        sweeper: {
          intervalMs: config.SUBMITTER_SWEEP_INTERVAL_MS,
          stuckAfterMs: config.SUBMITTER_STUCK_AFTER_MS,
          idleAfterMs: config.SUBMITTER_IDLE_AFTER_MS,
        },
        relayIntervalMs: config.SUBMITTER_RELAY_INTERVAL_MS,
        firstPollDelayMs: config.SUBMITTER_FIRST_POLL_DELAY_MS,
        concurrency: config.SUBMITTER_CONCURRENCY,
      },
    });
    app.addHook('onClose', async () => {
      await pacer.close();
      workerConnection.disconnect();
      proofStore.close();
    });
    return app;
  },
});
