import type { Clock, JobHandler, Logger } from '@sts/shared';
import type { Database, Queryable } from '../../db/database.ts';
import { applyStatusEventsIsolating, StatusEventsNotAppliedError } from './isolate-status-events.ts';
import type { StatusChange } from './status-service.ts';

export interface DocumentStatusHandlerDeps {
  db: Database;
  logger: Logger;
  clock?: Clock;
  /**
   * The webhooks of applied changes (src/webhooks/webhooks.ts): `recordStatusChanges` runs in the
   * batch's transaction (a change and its webhooks are committed together, or neither is), and
   * `dispatch` queues the recorded deliveries after the commit. A redelivered batch applies nothing
   * again, so records nothing again. Should `dispatch` fail, it is logged and the job still succeeds:
   * the webhooks' sweeper queues recorded deliveries left pending.
   */
  webhooks?: {
    recordStatusChanges(changes: readonly StatusChange[], options: { db: Queryable }): Promise<string[]>;
    dispatch(deliveryIds: readonly string[]): Promise<void>;
  };
}

/**
 * The gateway's consumer of `document.status` jobs (batches of the submitter's status events):
 * applies a job's events in one transaction (`applyStatusEvents`), monotonically per invoice, and
 * logs what happened by ids only. A transient database failure throws, so BullMQ retries the whole
 * job, which is harmless: what was applied is recognised by its event ids. Any other failure is an
 * event's: the batch is applied again in halves, recursively (`applyStatusEventsIsolating`), every
 * good event is applied, each bad one is logged (error, ids and reason) and the job then fails with
 * `StatusEventsNotAppliedError` naming them (docs/decisions.md, "Status events in batches"). An event that cannot apply (unknown
 * or another tenant's invoice, late, repeated, after a final status) changes nothing. A status the
 * submitter announced again (`reannounced`, its answer to a resync) goes the same way: applied, with
 * its webhooks, only when the gateway had missed that change; otherwise stale, logged at debug.
 */
export function createDocumentStatusHandler({
  db,
  logger,
  clock,
  webhooks,
}: DocumentStatusHandlerDeps): JobHandler<'document.status'> {
  return async ({ events }, job) => {
    const { changes, followUps, failed } = await applyStatusEventsIsolating(db, events, {
      ...(clock ? { clock } : {}),
      ...(webhooks
        ? { withApplied: (applied, tx) => webhooks.recordStatusChanges(applied, { db: tx }) }
        : {}),
    });
    let applied = 0;
    for (const change of changes) {
      if (!change) continue;
      const { event } = change;
      const ids = {
        eventId: event.eventId,
        tenantId: event.tenantId,
        invoiceId: event.invoiceId,
        sequence: event.sequence,
        status: event.status,
        ...(event.reannounced ? { reannounced: true } : {}),
      };
      if (change.applied) {
        applied += 1;
        logger.debug({ ...ids, previous: change.previous?.status }, 'document status applied');
        continue;
      }
      // A re-announced status the gateway already has is the usual answer to a resync: not news.
      const quiet = change.outcome === 'repeated' || (change.outcome === 'stale' && event.reannounced);
      const level = quiet ? 'debug' : change.outcome === 'stale' ? 'info' : 'warn';
      logger[level](
        {
          ...ids,
          outcome: change.outcome,
          current: change.previous?.status,
          currentSequence: change.previous?.sequence,
        },
        'document status event not applied',
      );
    }
    for (const { event, reason } of failed) {
      logger.error(
        {
          jobId: job.id,
          eventId: event.eventId,
          tenantId: event.tenantId,
          invoiceId: event.invoiceId,
          sequence: event.sequence,
          status: event.status,
          reason,
        },
        'document status event could not be applied',
      );
    }
    logger.info(
      { jobId: job.id, events: changes.length, applied, ...(failed.length ? { failed: failed.length } : {}) },
      'document status events applied',
    );
    const deliveryIds = followUps.flat();
    if (webhooks && deliveryIds.length) {
      try {
        await webhooks.dispatch(deliveryIds);
      } catch (err) {
        logger.error(
          { jobId: job.id, deliveries: deliveryIds.length, err },
          'status changes applied and their webhooks recorded, but queuing them failed (the sweeper will)',
        );
      }
    }
    if (failed.length) throw new StatusEventsNotAppliedError(failed, events.length);
  };
}
