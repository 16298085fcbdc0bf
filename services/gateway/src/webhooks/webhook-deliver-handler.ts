import type { JobHandler } from '@sts/shared';
import { WebhookAttemptError, type WebhookDeliveryService } from './webhook-delivery-service.ts';

/**
 * The `webhook.deliver` job handler: one attempt per run. A failed attempt throws, so BullMQ retries
 * it with the catalogue's backoff (about a day in all); the last attempt marks the delivery failed.
 * A delivery that is gone or already settled (a replayed job, a deleted endpoint) completes quietly.
 */
export function createWebhookDeliverHandler(deps: {
  deliveries: Pick<WebhookDeliveryService, 'attempt'>;
}): JobHandler<'webhook.deliver'> {
  return async (payload, job) => {
    const attempts = job.opts.attempts ?? 1;
    const isLastAttempt = job.attemptsMade + 1 >= attempts;
    const outcome = await deps.deliveries.attempt(payload, isLastAttempt);
    if (outcome !== 'skipped' && !outcome.ok) throw new WebhookAttemptError(outcome);
  };
}
