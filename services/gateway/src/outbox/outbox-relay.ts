import {
  createOutboxRelay as createRelay,
  type JobPayload,
  type JobProducer,
  type Logger,
  type Pool,
} from '@sts/shared';

export interface OutboxRelayDeps {
  pool: Pool;
  producer: Pick<JobProducer<'gateway'>, 'enqueueMany'>;
  logger: Pick<Logger, 'error'>;
  /** Outbox rows claimed per round. */
  batchSize: number;
}

/**
 * Moves accepted invoice events from `gateway.outbox` into BullMQ (`documents.accepted`, job id
 * `outbox-<row id>`), with the shared outbox relay of packages/shared (SKIP LOCKED, enqueue, delete
 * in one transaction): several gateway replicas share it, and a relay that runs twice enqueues once.
 */
export function createOutboxRelay({ pool, producer, batchSize }: OutboxRelayDeps) {
  return createRelay<JobPayload<'documents.accepted'>>({
    pool,
    table: 'gateway.outbox',
    batchSize,
    enqueue: (payloads) => producer.enqueueMany('documents.accepted', payloads),
  });
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
