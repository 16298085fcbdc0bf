import { randomUUID } from 'node:crypto';
import type { Clock, Logger } from '@sts/shared';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.ts';
import { webhookDeliveriesTable } from './webhook-deliveries-table.ts';
import { webhookDeliveryAttemptsTable } from './webhook-delivery-attempts-table.ts';
import { webhookEndpointsTable } from './webhook-endpoints-table.ts';
import type { WebhookSecretBox } from './webhook-secret-box.ts';
import { webhookHeaders } from './webhook-signature.ts';
import { checkWebhookUrl, type WebhookUrlPolicy } from './webhook-url.ts';

export interface WebhookHttpLimits {
  /** The whole call, answer included (default 10 s). */
  timeoutMs: number;
  /** At most this much of the receiver's answer is read, then the connection is dropped (64 KiB). */
  maxResponseBytes: number;
}

export const DEFAULT_WEBHOOK_HTTP_LIMITS: WebhookHttpLimits = {
  timeoutMs: 10_000,
  maxResponseBytes: 64 * 1024,
};

/** The outcome of one HTTP attempt, as the delivery log keeps it. */
export interface AttemptOutcome {
  ok: boolean;
  httpStatus: number | null;
  /** `http-status` (not 2xx), `redirect`, `timeout`, `connection`, `url-refused`, `endpoint-gone`. */
  errorClass: string | null;
}

/** A failed attempt: thrown by the handler so BullMQ retries it with the catalogue's backoff. */
export class WebhookAttemptError extends Error {
  readonly outcome: AttemptOutcome;
  constructor(outcome: AttemptOutcome) {
    super(
      `webhook attempt failed: ${outcome.errorClass}${outcome.httpStatus ? ` ${outcome.httpStatus}` : ''}`,
    );
    this.name = 'WebhookAttemptError';
    this.outcome = outcome;
  }
}

/** POSTs the body once: no redirect followed, a timeout, the answer read up to a cap and dropped. */
async function post(url: string, headers: Record<string, string>, body: string, limits: WebhookHttpLimits) {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
    let read = 0;
    const reader = response.body?.getReader();
    while (reader) {
      const chunk = await reader.read();
      if (chunk.done) break;
      read += chunk.value.byteLength;
      if (read >= limits.maxResponseBytes) {
        await reader.cancel();
        break;
      }
    }
    if (response.status >= 300 && response.status < 400) {
      return { ok: false, httpStatus: response.status, errorClass: 'redirect' };
    }
    const ok = response.status >= 200 && response.status < 300;
    return { ok, httpStatus: response.status, errorClass: ok ? null : 'http-status' };
  } catch (error) {
    const name = (error as Error).name;
    const timeout = name === 'TimeoutError' || name === 'AbortError';
    return { ok: false, httpStatus: null, errorClass: timeout ? 'timeout' : 'connection' };
  }
}

export type WebhookDeliveryService = ReturnType<typeof createWebhookDeliveryService>;

/**
 * One attempt of one delivery: sign the stored body with the endpoint's secret(s) now, POST it, log
 * the attempt, settle the delivery on success (or on the last attempt), and throw on failure so the
 * queue retries. A delivery that is gone (endpoint deleted) or already settled is left alone.
 */
export function createWebhookDeliveryService(deps: {
  db: Database;
  clock: Clock;
  logger: Logger;
  secretBox: WebhookSecretBox;
  urlPolicy: WebhookUrlPolicy;
  limits?: Partial<WebhookHttpLimits>;
}) {
  const { db, clock, secretBox, urlPolicy } = deps;
  const limits = { ...DEFAULT_WEBHOOK_HTTP_LIMITS, ...deps.limits };

  return {
    async attempt(
      ids: { tenantId: string; endpointId: string; deliveryId: string },
      isLastAttempt: boolean,
    ): Promise<AttemptOutcome | 'skipped'> {
      const [found] = await db
        .select({ delivery: webhookDeliveriesTable, endpoint: webhookEndpointsTable })
        .from(webhookDeliveriesTable)
        .innerJoin(webhookEndpointsTable, eq(webhookEndpointsTable.id, webhookDeliveriesTable.endpointId))
        .where(
          and(
            eq(webhookDeliveriesTable.id, ids.deliveryId),
            eq(webhookDeliveriesTable.endpointId, ids.endpointId),
            eq(webhookDeliveriesTable.tenantId, ids.tenantId),
          ),
        );
      if (found?.delivery.status !== 'pending') return 'skipped';
      const { delivery, endpoint } = found;
      const context = { tenantId: endpoint.tenantId, endpointId: endpoint.id };
      const started = clock();
      const startedAt = performance.now();
      let outcome: AttemptOutcome;
      if (!endpoint.enabled) {
        outcome = { ok: false, httpStatus: null, errorClass: 'endpoint-disabled' };
      } else if (checkWebhookUrl(endpoint.url, urlPolicy).length > 0) {
        outcome = { ok: false, httpStatus: null, errorClass: 'url-refused' };
      } else {
        const secrets = [secretBox.open(endpoint.secretCiphertext, context)];
        if (
          endpoint.previousSecretCiphertext &&
          endpoint.previousSecretExpiresAt &&
          endpoint.previousSecretExpiresAt > started
        ) {
          secrets.push(secretBox.open(endpoint.previousSecretCiphertext, context));
        }
        const timestamp = Math.floor(started.getTime() / 1000);
        outcome = await post(
          endpoint.url,
          webhookHeaders(secrets, delivery.eventId, timestamp, delivery.body),
          delivery.body,
          limits,
        );
      }
      const durationMs = Math.max(0, Math.round(performance.now() - startedAt));
      const settled = outcome.ok ? 'succeeded' : isLastAttempt ? 'failed' : undefined;
      await db.transaction(async (tx) => {
        await tx.insert(webhookDeliveryAttemptsTable).values({
          id: randomUUID(),
          deliveryId: delivery.id,
          tenantId: delivery.tenantId,
          attemptedAt: started,
          durationMs,
          httpStatus: outcome.httpStatus,
          errorClass: outcome.errorClass,
        });
        await tx
          .update(webhookDeliveriesTable)
          .set({
            attemptCount: sql`${webhookDeliveriesTable.attemptCount} + 1`,
            lastAttemptAt: started,
            ...(settled ? { status: settled, completedAt: clock() } : {}),
          })
          .where(eq(webhookDeliveriesTable.id, delivery.id));
      });
      deps.logger.info(
        {
          deliveryId: delivery.id,
          endpointId: endpoint.id,
          httpStatus: outcome.httpStatus,
          errorClass: outcome.errorClass,
          durationMs,
        },
        outcome.ok ? 'webhook delivered' : 'webhook attempt failed',
      );
      return outcome;
    },
  };
}
