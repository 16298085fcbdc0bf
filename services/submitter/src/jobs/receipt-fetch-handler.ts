import type { JobHandler } from '@sts/shared';
import type { FileSending } from '../sending/file-sending.ts';
import type { FlushTrigger } from './flush-trigger.ts';

/** `receipt.fetch`: error detail and receipt of a processed file; the next operations of its documents may go. */
export function createReceiptFetchHandler(deps: {
  files: Pick<FileSending, 'fetchReceipt'>;
  flush: FlushTrigger;
}): JobHandler<'receipt.fetch'> {
  return async (payload) => {
    const credentials = await deps.files.fetchReceipt(payload.fileId);
    for (const credentialId of credentials) await deps.flush(payload.tenantId, credentialId);
  };
}
