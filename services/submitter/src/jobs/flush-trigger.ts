import type { Clock, JobProducer } from '@sts/shared';

/** The batch key of a credential's documents: one owner per credential, so one batch. */
export const BATCH_KEY = 'owner';

/** Triggers within this many milliseconds make one dispatch job. */
export const FLUSH_WINDOW_MS = 50;

/**
 * Asks for a dispatch round of a credential. Triggers within the same 50 ms make one job (the
 * window is part of the job id); a later one makes a new job even while BullMQ remembers the last.
 * (A one-second window capped a realtime credential at one round a second and added up to a second
 * before each send: docs/benchmarks.md, "Pipeline".)
 */
export function createFlushTrigger(deps: {
  producer: Pick<JobProducer<'submitter'>, 'enqueue'>;
  clock: Clock;
}) {
  return (tenantId: string, credentialId: string, delayMs = 0) =>
    deps.producer.enqueue(
      'batch.flush',
      {
        tenantId,
        credentialId,
        batchKey: BATCH_KEY,
        window: Math.floor((deps.clock().getTime() + delayMs) / FLUSH_WINDOW_MS),
      },
      delayMs > 0 ? { delayMs } : {},
    );
}

export type FlushTrigger = ReturnType<typeof createFlushTrigger>;
