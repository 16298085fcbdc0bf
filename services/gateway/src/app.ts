import { randomBytes } from 'node:crypto';
import {
  type Clock,
  createHttpApp,
  createJobProducer,
  createServiceRegistry,
  type Logger,
  type Pool,
  postgresCheck,
  type Redis,
  type Registry,
  redisCheck,
  registerBackgroundTask,
  registerHealthRoute,
  registerMetricsRoute,
  romeDate,
  systemClock,
} from '@sts/shared';
import type { SanitelEncryptor } from '@sts/sts';
import type { FastifyInstance } from 'fastify';
import { apiKeyAuth } from './api-keys/api-key-auth.ts';
import { createApiKeyService } from './api-keys/api-key-service.ts';
import { registerWhoamiRoute } from './api-keys/whoami-route.ts';
import { registerCredentialRoutes } from './credentials/credential-routes.ts';
import type { CredentialsClient } from './credentials/credentials-client.ts';
import { createDatabase } from './db/database.ts';
import { registerApiDocs } from './http/api-docs.ts';
import {
  apiKeyRateLimit,
  DEFAULT_PROTECTION,
  type ProtectionOptions,
  registerOverloadProtection,
} from './http/protection.ts';
import type { CredentialDirectory } from './invoices/credential-directory.ts';
import { createInvoiceIntake } from './invoices/invoice-intake.ts';
import { registerInvoiceRoutes } from './invoices/invoice-routes.ts';
import { createPatientHasher, type PatientHasher } from './invoices/patient-privacy.ts';
import { registerInvoiceReadRoutes } from './invoices/read/invoice-read-routes.ts';
import { createInvoiceReadService } from './invoices/read/invoice-read-service.ts';
import { registerGatewayWorkers } from './jobs/gateway-workers.ts';
import { createOutboxRedelivery } from './outbox/outbox-redelivery.ts';
import { createOutboxRelay } from './outbox/outbox-relay.ts';
import type { SubmissionProofClient } from './submissions/submission-proof-client.ts';
import { registerSubmissionProofRoutes } from './submissions/submission-proof-routes.ts';
import { registerSubmissionStatusRoute } from './submissions/submission-status-route.ts';
import { createWebhooks, developmentWebhookSecretKey, type WebhookOptions } from './webhooks/webhooks.ts';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  clock?: Clock;
  /** The prom-client registry served on `GET /metrics`; one of its own by default. */
  metrics?: Registry;
  /** Rate limit per API key and overload thresholds (src/http/protection.ts); generous by default. */
  protection?: ProtectionOptions;
  /** The credentials service's client: `/v1/credentials…` are registered only when it is given. */
  credentials?: CredentialsClient;
  /** The keyed hash of patients' codici fiscali (src/invoices/patient-privacy.ts). */
  patientHasher?: PatientHasher;
  /** Invoice events in (`POST /v1/invoices…`) and the outbox relay: registered only when given. */
  invoices?: InvoiceDeps;
  /**
   * The gateway's BullMQ workers (`document.status`, `webhook.deliver`), run while the app is: on a
   * blocking connection the caller owns (`createRedis(url, name, { blocking: true })`). Absent: none
   * run (GATEWAY_WORKERS=false, or tests that do not need them).
   */
  workers?: { connection: Redis; concurrency?: number };
  /** The submitter's submission routes' client: `/v1/submissions/:protocol…` are registered only when given. */
  submissionProofs?: SubmissionProofClient;
  /** Webhooks (src/webhooks/): the secret key (a public development one outside production), URL policy. */
  webhooks?: Partial<WebhookOptions>;
}

export interface RelayOptions {
  intervalMs: number;
  batchSize: number;
  redeliverAfterMs: number;
  /** Default: 15 minutes (GATEWAY_RESYNC_AFTER_MS). */
  resyncAfterMs?: number;
}

export interface InvoiceDeps {
  /** The tenant's credentials, to choose each event's sender and its environment. */
  directory: CredentialDirectory;
  /** SanitelCF encryption of patients' codici fiscali, per environment of the credential. */
  encryptors: Record<'test' | 'production', SanitelEncryptor>;
  /** Keys the `Idempotency-Key` request fingerprints (bodies hold codici fiscali). */
  requestHashKey: Buffer;
  /** The kit's test environment does not refuse closed tax years (docs/protocol.md §4.3). */
  testCalendar: 'relaxed' | 'enforce';
  /**
   * The outbox relay and its redelivery (`redeliverAfterMs`: events still `received`;
   * `resyncAfterMs`: events under way with no status change); `false`: not run by this app (tests
   * that drive it themselves).
   */
  relay: RelayOptions | false;
}

export function buildApp({
  logger,
  pool,
  redis,
  clock = systemClock,
  metrics = createServiceRegistry('gateway'),
  protection = DEFAULT_PROTECTION,
  credentials,
  patientHasher,
  invoices,
  webhooks: webhookOptions = {},
  workers,
  submissionProofs,
}: GatewayDeps): FastifyInstance {
  const db = createDatabase(pool);
  const apiKeys = createApiKeyService({ db, clock });
  const app = createHttpApp({ logger });
  const webhooks = createWebhooks({
    db,
    redis,
    logger,
    clock,
    options: { ...webhookOptions, secretKey: webhookOptions.secretKey ?? developmentWebhookSecretKey() },
  });
  webhooks.registerBackgroundWork(app);
  // Status events in (document.status batches, applied monotonically; applied changes emit webhooks).
  if (workers) {
    registerGatewayWorkers(app, {
      connection: workers.connection,
      logger,
      ...(workers.concurrency ? { concurrency: workers.concurrency } : {}),
      status: { db, clock, webhooks },
      webhookDeliver: webhooks.deliverHandler,
    });
  }
  // Without a configured key (tests), one of this app's own: rows it writes and looks up agree.
  const patients = patientHasher ?? createPatientHasher(randomBytes(32));
  const invoiceReads = createInvoiceReadService({ db, patientHasher: patients });
  // Before any route: overload shedding (503), zod validation and the OpenAPI docs (/docs).
  registerOverloadProtection(app, protection.overload);
  registerApiDocs(app);
  registerHealthRoute(app, {
    service: 'gateway',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  registerMetricsRoute(app, metrics);
  // The public API (/v1/...): every route behind an API key, each declaring the scopes it needs.
  void app.register(async (api) => {
    await api.register(apiKeyAuth, { apiKeys });
    await api.register(apiKeyRateLimit, { redis, perMinute: protection.rateLimitPerMinute });
    registerWhoamiRoute(api);
    if (credentials) registerCredentialRoutes(api, { credentials });
    // A credential created, changed or deleted through the gateway is seen by the intake at once.
    if (credentials && invoices) {
      // onSend, before the answer leaves: the client's next request already sees the change.
      api.addHook('onSend', async (request, reply, payload) => {
        if (request.method !== 'GET' && reply.statusCode < 300 && request.url.startsWith('/v1/credentials')) {
          const tenantId = request.apiKeyPrincipal?.tenant.id;
          if (tenantId) invoices.directory.forget(tenantId);
        }
        return payload;
      });
    }
    if (invoices) registerInvoiceRoutes(api, { intake: invoiceIntake(invoices) });
    webhooks.registerRoutes(api);
    registerInvoiceReadRoutes(api, { invoices: invoiceReads });
    if (submissionProofs) {
      registerSubmissionProofRoutes(api, { invoices: invoiceReads, proofs: submissionProofs });
      registerSubmissionStatusRoute(api, { invoices: invoiceReads, submissions: submissionProofs });
    }
  });
  if (invoices?.relay) startOutboxRelay(invoices.relay);
  return app;

  function invoiceIntake(deps: InvoiceDeps) {
    if (!patientHasher) throw new Error('buildApp: invoices need the patientHasher');
    return createInvoiceIntake({
      pool,
      clock,
      credentials: deps.directory,
      encryptors: deps.encryptors,
      patientHasher,
      requestHashKey: deps.requestHashKey,
      today: () => romeDate(clock()),
      rulesFor: (environment, today) =>
        environment === 'test'
          ? { today, allowKitTestIdentifiers: true, relaxedCalendar: deps.testCalendar === 'relaxed' }
          : { today },
    });
  }

  function startOutboxRelay(options: RelayOptions) {
    const producer = createJobProducer({ service: 'gateway', connection: redis });
    const relay = createOutboxRelay({ pool, producer, logger, batchSize: options.batchSize });
    registerBackgroundTask(
      app,
      { name: 'outbox-relay', intervalMs: options.intervalMs, run: relay.drain },
      logger,
    );
    // Events with no answer long after they were relayed, or no status change for long, are relayed
    // again (a document or status job lost with Redis).
    const resyncAfterMs = options.resyncAfterMs ?? 900_000;
    const redelivery = createOutboxRedelivery({
      pool,
      clock,
      afterMs: options.redeliverAfterMs,
      resyncAfterMs,
      batchSize: 500,
    });
    registerBackgroundTask(
      app,
      {
        name: 'outbox-redelivery',
        intervalMs: Math.min(60_000, Math.max(1000, Math.min(options.redeliverAfterMs, resyncAfterMs) / 4)),
        run: redelivery.redeliverOnce,
      },
      logger,
    );
    app.addHook('onClose', () => producer.close());
  }
}
