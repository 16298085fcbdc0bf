import type { JobHandler } from '@sts/shared';
import type { DocumentSending } from '../sending/document-sending.ts';
import type { FlushTrigger } from './flush-trigger.ts';

/** `document.send`: one operation through the single-document service; the next one on the document may follow. */
export function createDocumentSendHandler(deps: {
  documents: Pick<DocumentSending, 'send'>;
  flush: FlushTrigger;
}): JobHandler<'document.send'> {
  return async (payload) => {
    const next = await deps.documents.send(payload.submissionId);
    if (next) await deps.flush(payload.tenantId, next);
  };
}
