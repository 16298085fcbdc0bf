import type { Clock, JobProducer } from '@sts/shared';

/** The batch key of a credential's documents: one owner per credential, so one batch. */
export const BATCH_KEY = 'owner';

/**
 * Asks for a dispatch round of a credential. Triggers within the same second make one job (the
 * window is part of the job id); a later one makes a new job even while BullMQ remembers the last.
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
        window: Math.floor((deps.clock().getTime() + delayMs) / 1000),
      },
      delayMs > 0 ? { delayMs } : {},
    );
}

export type FlushTrigger = ReturnType<typeof createFlushTrigger>;
