import type { JobHandler } from '@sts/shared';
import type { DocumentSending } from '../sending/document-sending.ts';
import type { FileSending } from '../sending/file-sending.ts';

/** `send.reconcile`: find out whether a send whose answer was lost arrived, before anything goes again. */
export function createSendReconcileHandler(deps: {
  files: Pick<FileSending, 'reconcile'>;
  documents: Pick<DocumentSending, 'reconcile'>;
}): JobHandler<'send.reconcile'> {
  return (payload) =>
    payload.target === 'file'
      ? deps.files.reconcile(payload.targetId)
      : deps.documents.reconcile(payload.targetId);
}
