import { createHash } from 'node:crypto';
import {
  type Clock,
  createJobProducer,
  type JobHandler,
  type Logger,
  type Redis,
  type RetryOverrides,
  registerBackgroundTask,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import type { Database, Queryable } from '../db/database.ts';
import { createCredentialEventsReader } from './credential-events-reader.ts';
import { statusWebhookEvents } from './status-webhooks.ts';
import { createWebhookDeliverHandler } from './webhook-deliver-handler.ts';
import { createWebhookDeliveryService, type WebhookHttpLimits } from './webhook-delivery-service.ts';
import { registerWebhookRoutes } from './webhook-routes.ts';
import { createWebhookSecretBox } from './webhook-secret-box.ts';
import { createWebhookService, type WebhookService } from './webhook-service.ts';

export interface WebhookOptions {
  /** `GATEWAY_WEBHOOK_SECRET_KEY` (≥ 32 bytes): endpoint secrets are encrypted under it. */
  secretKey: Buffer;
  /** Accept `http:` endpoint URLs (`GATEWAY_WEBHOOK_ALLOW_HTTP`; never in production). */
  allowHttp?: boolean;
  /** Timeout and answer-size cap of each delivery call. */
  http?: Partial<WebhookHttpLimits>;
  /** How often the credential-event stream is read (default 1 s). */
  credentialEventsIntervalMs?: number;
  /** How often recorded but unqueued deliveries are looked for, and how old they must be (1 min, 1 min). */
  sweepIntervalMs?: number;
  sweepAfterMs?: number;
  /** Tests only: a shorter retry policy than the catalogue's day. */
  retryOverrides?: RetryOverrides;
}

export interface Webhooks {
  service: WebhookService;
  /** For the status consumer: `emitWebhookEvent(event, { db? })` (webhook-service.ts). */
  emitWebhookEvent: WebhookService['emitWebhookEvent'];
  /**
   * For the status consumer: records, for each applied change, `invoice.status-changed` and, for a
   * final status with a protocol, `submission.completed` (status-webhooks.ts), in two statements.
   * With `db` (the consumer's transaction) they are recorded with the changes and the ids of the
   * deliveries returned for `dispatch` after the commit (the sweeper queues them otherwise);
   * without, they are queued at once.
   */
  recordStatusChanges(
    changes: readonly Parameters<typeof statusWebhookEvents>[0][],
    options?: { db?: Queryable },
  ): Promise<string[]>;
  /** Queues deliveries recorded in a transaction, once it has committed. */
  dispatch: WebhookService['dispatch'];
  /** The `webhook.deliver` job handler, for the gateway's workers (src/jobs/gateway-workers.ts). */
  deliverHandler: JobHandler<'webhook.deliver'>;
  /** `/v1/webhooks…`, in the API-key-guarded scope. */
  registerRoutes(api: FastifyInstance): void;
  /** The credential-event reader and the sweeper, as the app's background tasks; closes the producer. */
  registerBackgroundWork(app: FastifyInstance): void;
}

/**
 * A public, fixed development key for endpoint secrets: `buildApp` uses it when given no key and
 * NODE_ENV is not `production` (tests, tests/no-5xx). main.ts always passes the configured one.
 */
export const developmentWebhookSecretKey = (): Buffer => {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('GATEWAY_WEBHOOK_SECRET_KEY is required in production (no development key)');
  }
  return createHash('sha256').update('sts-gateway development GATEWAY_WEBHOOK_SECRET_KEY').digest();
};

/**
 * The webhook options of the configuration (main.ts): the key endpoint secrets are encrypted under
 * (`GATEWAY_WEBHOOK_SECRET_KEY`, or its development stand-in: src/development-fallbacks.ts) and
 * whether `http:` URLs are accepted (`GATEWAY_WEBHOOK_ALLOW_HTTP`, never in production).
 */
export const webhookOptionsFromConfig = (config: {
  NODE_ENV: string;
  webhookSecretKey: Buffer;
  GATEWAY_WEBHOOK_ALLOW_HTTP: boolean;
}): WebhookOptions => ({
  secretKey: config.webhookSecretKey,
  allowHttp: config.GATEWAY_WEBHOOK_ALLOW_HTTP && config.NODE_ENV !== 'production',
});

/** The webhooks of the gateway, put together from its dependencies (called by `buildApp`). */
export function createWebhooks(deps: {
  db: Database;
  redis: Redis;
  logger: Logger;
  clock: Clock;
  options: WebhookOptions;
}): Webhooks {
  const { db, redis, clock, options } = deps;
  const logger = deps.logger.child({ component: 'webhooks' });
  const secretBox = createWebhookSecretBox(options.secretKey);
  const urlPolicy = { allowHttp: options.allowHttp ?? false };
  const producer = createJobProducer({
    service: 'gateway',
    connection: redis,
    ...(options.retryOverrides ? { retryOverrides: options.retryOverrides } : {}),
  });
  const service = createWebhookService({ db, clock, logger, secretBox, urlPolicy, producer });
  const deliveries = createWebhookDeliveryService({
    db,
    clock,
    logger,
    secretBox,
    urlPolicy,
    ...(options.http ? { limits: options.http } : {}),
  });
  return {
    service,
    emitWebhookEvent: service.emitWebhookEvent,
    async recordStatusChanges(changes, options = {}) {
      const results = await service.emitWebhookEvents(changes.flatMap(statusWebhookEvents), options);
      return results.flatMap((result) => result.deliveryIds);
    },
    dispatch: service.dispatch,
    deliverHandler: createWebhookDeliverHandler({ deliveries }),
    registerRoutes: (api) => registerWebhookRoutes(api, { webhooks: service }),
    registerBackgroundWork(app) {
      const reader = createCredentialEventsReader({
        redis,
        logger,
        emit: (event) => service.emitWebhookEvent(event),
      });
      registerBackgroundTask(
        app,
        {
          name: 'webhook-credential-events',
          intervalMs: options.credentialEventsIntervalMs ?? 1_000,
          run: reader.pass,
        },
        logger,
      );
      registerBackgroundTask(
        app,
        {
          name: 'webhook-dispatch-pending',
          intervalMs: options.sweepIntervalMs ?? 60_000,
          run: () => service.dispatchPending(options.sweepAfterMs ?? 60_000),
        },
        logger,
      );
      app.addHook('onClose', async () => {
        await producer.close();
      });
    },
  };
}
