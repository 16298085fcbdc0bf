import type { JobHandler } from '@sts/shared';
import type { DocumentSending } from '../sending/document-sending.ts';
import type { FlushTrigger } from './flush-trigger.ts';

/**
 * `document.send`: one operation through the single-document service. Then the credential gets its
 * next dispatch round (its window of single sends has room again), and so does the credential of
 * the next operation on the same document, if another.
 */
export function createDocumentSendHandler(deps: {
  documents: Pick<DocumentSending, 'send'>;
  flush: FlushTrigger;
}): JobHandler<'document.send'> {
  return async (payload) => {
    const sent = await deps.documents.send(payload.submissionId);
    if (sent?.successor && sent.successor !== sent.credentialId)
      await deps.flush(payload.tenantId, sent.successor);
    if (sent) await deps.flush(payload.tenantId, sent.credentialId);
  };
}
