import type { JobHandler, JobProducer } from '@sts/shared';
import type { Dispatcher } from '../dispatch/dispatch-service.ts';

/** `batch.flush`: one dispatch round of a credential; the sends it decided are enqueued after its commit. */
export function createBatchFlushHandler(deps: {
  dispatcher: Pick<Dispatcher, 'dispatch'>;
  producer: Pick<JobProducer<'submitter'>, 'enqueue'>;
}): JobHandler<'batch.flush'> {
  return async (payload) => {
    const result = await deps.dispatcher.dispatch(payload.tenantId, payload.credentialId);
    for (const fileId of result.files) {
      await deps.producer.enqueue('file.send', { tenantId: payload.tenantId, fileId, attempt: 1 });
    }
    for (const submissionId of result.submissions) {
      await deps.producer.enqueue('document.send', { tenantId: payload.tenantId, submissionId });
    }
  };
}
