import { createOutboxRelay, type DocumentStatusEvent, type JobProducer, type Pool } from '@sts/shared';

/**
 * Moves status events from `submitter.status_outbox` into BullMQ (`document.status`, job id
 * `status-<event id>`), with the shared outbox relay of packages/shared (SKIP LOCKED, enqueue, delete
 * in one transaction). A relay that dies between enqueue and commit re-enqueues the same job ids:
 * BullMQ keeps one job each, and the gateway recognises a repeated event by its id anyway.
 */
export function createStatusRelay(deps: {
  pool: Pool;
  producer: Pick<JobProducer<'submitter'>, 'enqueueMany'>;
  batchSize: number;
}) {
  return createOutboxRelay<DocumentStatusEvent>({
    pool: deps.pool,
    table: 'submitter.status_outbox',
    batchSize: deps.batchSize,
    enqueue: (payloads) => deps.producer.enqueueMany('document.status', payloads),
  });
}
