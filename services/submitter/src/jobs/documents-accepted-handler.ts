import type { Clock, JobHandler, Pool } from '@sts/shared';
import { takeInDocuments } from '../documents/document-intake.ts';
import type { FlushTrigger } from './flush-trigger.ts';

/** `documents.accepted`: the gateway's accepted events become queued documents; their credentials get a round. */
export function createDocumentsAcceptedHandler(deps: {
  pool: Pool;
  clock: Clock;
  flush: FlushTrigger;
}): JobHandler<'documents.accepted'> {
  return async (payload) => {
    const { credentials } = await takeInDocuments(deps, payload);
    for (const credentialId of credentials) await deps.flush(payload.tenantId, credentialId);
  };
}
