import {
  createOutboxRelay,
  type DocumentStatusEvent,
  type JobProducer,
  type Pool,
  STATUS_EVENTS_PER_JOB,
} from '@sts/shared';

/**
 * Moves status events from `submitter.status_outbox` into BullMQ with the shared outbox relay of
 * packages/shared (SKIP LOCKED, enqueue, delete in one transaction), grouped: one `document.status`
 * job per up to `STATUS_EVENTS_PER_JOB` rows, in outbox order, its id a digest of the events' ids. A
 * relay that dies between enqueue and commit re-enqueues the same rows: the same groups give the same
 * job ids (BullMQ keeps one job each); rows grouped otherwise make another job, and the gateway
 * recognises every event it has already applied by its id.
 */
export function createStatusRelay(deps: {
  pool: Pool;
  producer: Pick<JobProducer<'submitter'>, 'enqueueMany'>;
  /** Rows claimed a round. */
  batchSize: number;
  /** Events per job (default and at most `STATUS_EVENTS_PER_JOB`). */
  groupSize?: number;
}) {
  return createOutboxRelay<DocumentStatusEvent>({
    pool: deps.pool,
    table: 'submitter.status_outbox',
    batchSize: deps.batchSize,
    groupSize: Math.min(deps.groupSize ?? STATUS_EVENTS_PER_JOB, STATUS_EVENTS_PER_JOB),
    enqueueGroups: (groups) =>
      deps.producer.enqueueMany(
        'document.status',
        groups.map((events) => ({ events })),
      ),
  });
}
