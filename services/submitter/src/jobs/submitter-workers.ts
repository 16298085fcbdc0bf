import { type JobHandlers, type JobWorkers, type Logger, type Redis, startJobWorkers } from '@sts/shared';

/**
 * The submitter's BullMQ workers: one handler per job type it consumes (the job catalogue in
 * packages/shared; a missing one fails to compile and to boot). Concurrency per queue: sends are
 * paced per credential anyway (src/pacing/), so several in parallel serve several credentials.
 */
export function startSubmitterWorkers(options: {
  connection: Redis;
  handlers: JobHandlers<'submitter'>;
  logger: Logger;
  concurrency: number;
}): JobWorkers {
  const { concurrency } = options;
  return startJobWorkers({
    service: 'submitter',
    connection: options.connection,
    handlers: options.handlers,
    logger: options.logger,
    concurrency: {
      'documents.accepted': concurrency,
      'batch.flush': concurrency,
      'file.send': concurrency,
      'document.send': concurrency * 4,
      'outcome.poll': concurrency,
      'receipt.fetch': concurrency,
      'send.reconcile': concurrency,
    },
  });
}
