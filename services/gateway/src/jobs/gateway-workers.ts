import {
  type JobHandler,
  type JobHandlers,
  type JobWorkers,
  type Logger,
  type Redis,
  startJobWorkers,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import {
  createDocumentStatusHandler,
  type DocumentStatusHandlerDeps,
} from '../invoices/status/document-status-handler.ts';

export interface GatewayWorkersOptions {
  /** A blocking connection (`createRedis(url, name, { blocking: true })`), owned by the caller. */
  connection: Redis;
  logger: Logger;
  /** What the `document.status` handler needs. */
  status: Omit<DocumentStatusHandlerDeps, 'logger'>;
  /** The `webhook.deliver` handler (`webhooks.deliverHandler`, src/webhooks/webhooks.ts). */
  webhookDeliver: JobHandler<'webhook.deliver'>;
  /** Jobs run at once per job type (default 1; the status handler is safe at any). */
  concurrency?: number;
}

/**
 * The BullMQ workers of the gateway: one per job type it consumes (job catalogue, consumer
 * `gateway`), each with its handler. `startJobWorkers` refuses to start when one is missing.
 */
export function startGatewayWorkers({
  connection,
  logger,
  status,
  webhookDeliver,
  concurrency = 1,
}: GatewayWorkersOptions): JobWorkers {
  const handlers: JobHandlers<'gateway'> = {
    'document.status': createDocumentStatusHandler({ ...status, logger }),
    'webhook.deliver': webhookDeliver,
  };
  return startJobWorkers({
    service: 'gateway',
    connection,
    handlers,
    logger,
    // Webhook attempts wait on receivers (up to their timeout): several run at once.
    concurrency: { 'document.status': concurrency, 'webhook.deliver': Math.max(concurrency, 8) },
  });
}

/**
 * The workers as the app's background work: started when the app is ready (`listen`, `ready`, the
 * first `inject`), closed (waiting for the jobs in progress) when it closes, so tests start exactly
 * what `main.ts` starts. (`registerBackgroundTask` is for periodic passes; workers run all along.)
 */
export function registerGatewayWorkers(app: FastifyInstance, options: GatewayWorkersOptions): void {
  let workers: JobWorkers | undefined;
  app.addHook('onReady', async () => {
    workers = startGatewayWorkers(options);
  });
  app.addHook('onClose', async () => {
    await workers?.close();
  });
}
