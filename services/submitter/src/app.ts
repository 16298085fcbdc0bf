import {
  type Clock,
  type CredentialEvent,
  createHttpApp,
  createJobProducer,
  createServiceRegistry,
  JOB_CATALOGUE,
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
  type ServiceTokenKey,
  systemClock,
} from '@sts/shared';
import type { DocumentRules, SanitelEncryptor } from '@sts/sts';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { SubmitterRole } from './config.ts';
import { createCredentialEventsReader } from './credentials/credential-events-reader.ts';
import { createDispatcher, type DispatchOptions } from './dispatch/dispatch-service.ts';
import { submissionStatus } from './files/submission-status.ts';
import { registerSubmissionStatusRoutes } from './files/submission-status-routes.ts';
import { createBatchFlushHandler } from './jobs/batch-flush-handler.ts';
import { createDocumentSendHandler } from './jobs/document-send-handler.ts';
import { createDocumentsAcceptedHandler } from './jobs/documents-accepted-handler.ts';
import { createFileSendHandler } from './jobs/file-send-handler.ts';
import { createFlushTrigger } from './jobs/flush-trigger.ts';
import { createOutcomePollHandler } from './jobs/outcome-poll-handler.ts';
import { createReceiptFetchHandler } from './jobs/receipt-fetch-handler.ts';
import { createSendReconcileHandler } from './jobs/send-reconcile-handler.ts';
import { startSubmitterWorkers } from './jobs/submitter-workers.ts';
import {
  createPostgresProofStore,
  createProofTokenVerifier,
  type ProofStore,
  registerProofRoutes,
} from './proofs/index.ts';
import { createSweeper, type SweeperOptions } from './recovery/sweeper.ts';
import type { CredentialAccess } from './sending/credential-access.ts';
import { createDocumentSending } from './sending/document-sending.ts';
import { createFileSending } from './sending/file-sending.ts';
import { createSessions, type Pacer } from './sending/sts-sessions.ts';
import { createStatusRelay } from './status/status-relay.ts';
import { isKnownProtocol, missingProof } from './status/submission-lookup.ts';

type Environment = 'test' | 'production';

export interface SubmitterDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  clock?: Clock;
  /** The prom-client registry served on `GET /metrics`; one of its own by default. */
  metrics?: Registry;
  /** What this process does; everything by default. */
  roles?: readonly SubmitterRole[];
  /** The pipeline; absent: only health and metrics (the shell the other parts' tests start). */
  pipeline?: PipelineDeps;
}

export interface PipelineDeps {
  /** A blocking Redis connection for the workers (`createRedis(url, name, { blocking: true })`). */
  workerConnection: Redis;
  credentials: CredentialAccess;
  pacer: Pacer;
  sts: {
    baseUrls: Record<Environment, string>;
    ca?: Partial<Record<Environment, string>>;
    responseTimeoutMs: number;
  };
  encryptors: Record<Environment, SanitelEncryptor>;
  testCalendar: 'relaxed' | 'enforce';
  /** Keys that verify the gateway's service tokens on the proof and submission-status routes. */
  proofReaderKeys: readonly ServiceTokenKey[];
  /** Where proofs are kept (`SUBMITTER_PROOF_STORE`); the Postgres store by default. */
  proofs?: ProofStore;
  dispatch: DispatchOptions;
  sweeper: SweeperOptions & { intervalMs: number };
  relayIntervalMs: number;
  firstPollDelayMs: number;
  concurrency: number;
}

const ALL_ROLES: readonly SubmitterRole[] = ['workers', 'sweeper', 'relay', 'api'];

export function buildApp({
  logger,
  pool,
  redis,
  clock = systemClock,
  metrics = createServiceRegistry('submitter'),
  roles = ALL_ROLES,
  pipeline,
}: SubmitterDeps): FastifyInstance {
  const app = createHttpApp({ logger });
  registerHealthRoute(app, {
    service: 'submitter',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  registerMetricsRoute(app, metrics);
  if (!pipeline) return app;

  const rulesFor = (environment: Environment): DocumentRules =>
    environment === 'test'
      ? {
          allowKitTestIdentifiers: true,
          relaxedCalendar: pipeline.testCalendar === 'relaxed',
          today: today(),
        }
      : { today: today() };
  const today = () => romeDate(clock());
  const producer = createJobProducer({ service: 'submitter', connection: redis });
  app.addHook('onClose', () => producer.close());
  // Read by the sweeper before it queues an uncertain send's reconcile again (recovery/reconcile-job.ts).
  const reconcileQueue = new Queue(JOB_CATALOGUE['send.reconcile'].queue, { connection: redis });
  app.addHook('onClose', () => reconcileQueue.close());
  const proofs = pipeline.proofs ?? createPostgresProofStore({ pool, clock });
  const flush = createFlushTrigger({ producer, clock });
  const sessions = createSessions({
    credentials: pipeline.credentials,
    pacer: pipeline.pacer,
    baseUrls: pipeline.sts.baseUrls,
    ...(pipeline.sts.ca ? { ca: pipeline.sts.ca } : {}),
    responseTimeoutMs: pipeline.sts.responseTimeoutMs,
    rulesFor,
  });
  const dispatcher = createDispatcher({
    pool,
    clock,
    credentials: pipeline.credentials,
    encryptors: pipeline.encryptors,
    rulesFor,
    proofs,
    options: pipeline.dispatch,
  });
  const files = createFileSending({
    pool,
    clock,
    logger,
    sessions,
    credentials: pipeline.credentials,
    proofs,
    producer,
    firstPollDelayMs: pipeline.firstPollDelayMs,
  });
  const documents = createDocumentSending({
    pool,
    clock,
    sessions,
    credentials: pipeline.credentials,
    proofs,
    producer,
    encryptors: pipeline.encryptors,
    rulesFor,
  });
  const sweeper = createSweeper({
    pool,
    clock,
    logger,
    producer,
    reconcileQueue,
    flush,
    credentials: pipeline.credentials,
    options: pipeline.sweeper,
  });

  if (roles.includes('workers')) {
    let workers: ReturnType<typeof startSubmitterWorkers> | undefined;
    app.addHook('onReady', async () => {
      workers = startSubmitterWorkers({
        connection: pipeline.workerConnection,
        logger,
        concurrency: pipeline.concurrency,
        handlers: {
          'documents.accepted': createDocumentsAcceptedHandler({ pool, clock, flush }),
          'batch.flush': createBatchFlushHandler({ dispatcher, producer, flush }),
          'file.send': createFileSendHandler({ files }),
          'document.send': createDocumentSendHandler({ documents, flush }),
          'outcome.poll': createOutcomePollHandler({ files }),
          'receipt.fetch': createReceiptFetchHandler({ files, flush }),
          'send.reconcile': createSendReconcileHandler({ files, documents }),
        },
      });
    });
    // Closed first among the hooks below it: no job starts while the rest shuts down.
    app.addHook('onClose', async () => {
      await workers?.close();
    });
    // A credential that turns unusable stops its documents at once; usable again, they resume.
    const events = createCredentialEventsReader({
      redis,
      logger,
      onEvent: async (event: CredentialEvent) => {
        pipeline.credentials.forget(event.credentialId);
        if (event.type !== 'credential.status-changed' && event.type !== 'credential.deleted') return;
        if (event.usable && event.type === 'credential.status-changed') {
          await sweeper.resumeCredential(event.tenantId, event.credentialId, clock());
        } else {
          await sweeper.blockCredential(
            event.credentialId,
            `credential-${event.reason ?? event.status}`,
            clock(),
          );
        }
      },
    });
    registerBackgroundTask(
      app,
      { name: 'credential-events', intervalMs: 1000, run: () => events.pass() },
      logger,
    );
  }
  if (roles.includes('sweeper')) {
    registerBackgroundTask(
      app,
      { name: 'sweeper', intervalMs: pipeline.sweeper.intervalMs, run: () => sweeper.sweep() },
      logger,
    );
  }
  if (roles.includes('relay')) {
    const relay = createStatusRelay({ pool, producer, batchSize: 500 });
    registerBackgroundTask(
      app,
      { name: 'status-relay', intervalMs: pipeline.relayIntervalMs, run: () => relay.drain() },
      logger,
    );
  }
  if (roles.includes('api')) {
    const verifier = createProofTokenVerifier({ keys: pipeline.proofReaderKeys, redis, clock });
    registerProofRoutes(app, {
      proofs,
      verifier,
      isKnownProtocol: (tenantId, protocol) => isKnownProtocol(pool, tenantId, protocol),
      missingProof: (tenantId, protocol, kind) => missingProof(pool, tenantId, protocol, kind),
    });
    registerSubmissionStatusRoutes(app, {
      verifier,
      status: (tenantId, protocol) => submissionStatus(pool, tenantId, protocol),
    });
  }
  return app;
}
