import type { JobHandler, JobProducer } from '@sts/shared';
import type { Dispatcher } from '../dispatch/dispatch-service.ts';
import type { FlushTrigger } from './flush-trigger.ts';

/** `batch.flush`: one dispatch round of a credential; the sends it decided are enqueued after its commit. */
export function createBatchFlushHandler(deps: {
  dispatcher: Pick<Dispatcher, 'dispatch'>;
  producer: Pick<JobProducer<'submitter'>, 'enqueue'>;
  flush: FlushTrigger;
}): JobHandler<'batch.flush'> {
  return async (payload) => {
    const result = await deps.dispatcher.dispatch(payload.tenantId, payload.credentialId);
    for (const fileId of result.files) {
      await deps.producer.enqueue('file.send', { tenantId: payload.tenantId, fileId, attempt: 1 });
    }
    for (const submissionId of result.submissions) {
      await deps.producer.enqueue('document.send', { tenantId: payload.tenantId, submissionId });
    }
    // A batch not due yet: a round when it is (its own job id: the window is that second).
    if (result.dueInMs !== undefined)
      await deps.flush(payload.tenantId, payload.credentialId, result.dueInMs + 50);
  };
}
