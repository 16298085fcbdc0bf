import type { Clock, JobHandler, Logger } from '@sts/shared';
import type { Database } from '../../db/database.ts';
import { applyStatusEvent, type StatusChange } from './status-service.ts';

export interface DocumentStatusHandlerDeps {
  db: Database;
  logger: Logger;
  clock?: Clock;
  /**
   * Called after an applied change is committed (the webhook emitter). A redelivered event is not
   * applied again, so a retry would never call it again: it is not retried. It should record its
   * own work durably in one step; if it throws, the error is logged and the job still succeeds.
   */
  onStatusApplied?: (change: StatusChange) => Promise<void>;
}

/**
 * The gateway's consumer of `document.status` jobs (the submitter's status events): applies each
 * monotonically (`applyStatusEvent`) and logs what happened by ids only. A database failure throws,
 * so BullMQ retries the job; an event that cannot apply (unknown or another tenant's invoice, late,
 * repeated, after a final status) completes the job without changing anything. A status the
 * submitter announced again (`reannounced`, its answer to a resync) goes the same way: applied, with
 * its webhooks, only when the gateway had missed that change; otherwise stale, logged at debug.
 */
export function createDocumentStatusHandler({
  db,
  logger,
  clock,
  onStatusApplied,
}: DocumentStatusHandlerDeps): JobHandler<'document.status'> {
  return async (event) => {
    const change = await applyStatusEvent(db, event, clock ? { clock } : {});
    const ids = {
      eventId: event.eventId,
      tenantId: event.tenantId,
      invoiceId: event.invoiceId,
      sequence: event.sequence,
      status: event.status,
      ...(event.reannounced ? { reannounced: true } : {}),
    };
    if (!change.applied) {
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
      return;
    }
    logger.info({ ...ids, previous: change.previous?.status }, 'document status applied');
    if (!onStatusApplied) return;
    try {
      await onStatusApplied(change);
    } catch (err) {
      logger.error({ ...ids, err }, 'status change applied, but its follow-up (webhooks) failed');
    }
  };
}
