import { randomUUID } from 'node:crypto';
import { type Clock, type DocumentStatusEvent, inTransaction, type JobPayload, type Pool } from '@sts/shared';

/**
 * Takes in one `documents.accepted` job: its documents become `queued` rows (a repeated job, or a
 * document already taken, changes nothing: the gateway's invoice id is the key), each announced to
 * the gateway with a `queued` status event in the same transaction. Returns the credentials that
 * have new work, for the caller to dispatch.
 */
export async function takeInDocuments(
  deps: { pool: Pool; clock: Clock },
  payload: JobPayload<'documents.accepted'>,
): Promise<{ inserted: number; credentials: string[] }> {
  const now = deps.clock();
  return inTransaction(deps.pool, async (client) => {
    const { rows } = await client.query<{ invoiceId: string; credentialId: string }>(
      `insert into submitter.documents (invoice_id, tenant_id, credential_id, chain_key, chain_sequence,
              operation, document, state, state_sequence, received_at, updated_at)
       select d."invoiceId", $1, d."credentialId", d."documentKey", d.sequence, d.document->>'operation',
              d.document, 'queued', 1, $2, $2
         from jsonb_to_recordset($3::jsonb)
           as d("invoiceId" uuid, "credentialId" uuid, "documentKey" text, sequence int, document jsonb)
       on conflict (invoice_id) do nothing
       returning invoice_id as "invoiceId", credential_id as "credentialId"`,
      [payload.tenantId, now, JSON.stringify(payload.documents)],
    );
    if (rows.length > 0) {
      const events: DocumentStatusEvent[] = rows.map((row) => ({
        eventId: randomUUID(),
        tenantId: payload.tenantId,
        invoiceId: row.invoiceId,
        status: 'queued',
        sequence: 1,
        at: now.toISOString(),
      }));
      await client.query(
        `insert into submitter.status_outbox (id, payload, created_at)
         select (e->>'eventId')::uuid, e, $2 from jsonb_array_elements($1::jsonb) as e`,
        [JSON.stringify(events), now],
      );
    }
    return { inserted: rows.length, credentials: [...new Set(rows.map((row) => row.credentialId))] };
  });
}
