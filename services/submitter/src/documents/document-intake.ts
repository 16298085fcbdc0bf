import { randomUUID } from 'node:crypto';
import {
  type Clock,
  type DocumentStatusEvent,
  inTransaction,
  type JobPayload,
  type Pool,
  type StsMessage,
} from '@sts/shared';
import type { PoolClient } from 'pg';
import { publicStatus } from '../status/document-transitions.ts';
import type { DocumentState } from './documents-table.ts';

/**
 * Takes in one `documents.accepted` job: its documents become `queued` rows (a repeated job, or a
 * document already taken, changes nothing: the gateway's invoice id is the key), each announced to
 * the gateway with a `queued` status event in the same transaction. A document the submitter already
 * holds (the gateway handed it over again: it heard nothing for a while) is not changed and goes to
 * the STS no second time, but its current status is announced again (`reannouncedStatuses`), so a
 * gateway that lost status jobs with Redis's data catches up. Returns the credentials that have new
 * work, for the caller to dispatch.
 */
export async function takeInDocuments(
  deps: { pool: Pool; clock: Clock },
  payload: JobPayload<'documents.accepted'>,
): Promise<{ inserted: number; reannounced: number; credentials: string[] }> {
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
    const events: DocumentStatusEvent[] = rows.map((row) => ({
      eventId: randomUUID(),
      tenantId: payload.tenantId,
      invoiceId: row.invoiceId,
      status: 'queued',
      sequence: 1,
      at: now.toISOString(),
    }));
    const inserted = new Set(rows.map((row) => row.invoiceId));
    const known = payload.documents.map((document) => document.invoiceId).filter((id) => !inserted.has(id));
    const reannounced = await reannouncedStatuses(client, payload.tenantId, known);
    events.push(...reannounced);
    if (events.length > 0) {
      await client.query(
        `insert into submitter.status_outbox (id, payload, created_at)
         select (e->>'eventId')::uuid, e, $2 from jsonb_array_elements($1::jsonb) as e`,
        [JSON.stringify(events), now],
      );
    }
    return {
      inserted: rows.length,
      reannounced: reannounced.length,
      credentials: [...new Set(rows.map((row) => row.credentialId))],
    };
  });
}

/**
 * The current status of documents already held, as status events marked `reannounced`: the
 * sequence of the last change announced (`state_sequence`), its time (`updated_at`, the last change
 * of the row), cause, protocol and messages as the row keeps them. The gateway applies one only if
 * it had missed that change (docs/decisions.md, "Statuses lost with Redis's data"). Documents of
 * another tenant under the same id are left out.
 */
async function reannouncedStatuses(
  client: Pick<PoolClient, 'query'>,
  tenantId: string,
  invoiceIds: readonly string[],
): Promise<DocumentStatusEvent[]> {
  if (invoiceIds.length === 0) return [];
  const { rows } = await client.query<{
    invoiceId: string;
    state: DocumentState;
    stateSequence: number;
    updatedAt: Date;
    cause: string | null;
    protocol: string | null;
    messages: StsMessage[] | null;
  }>(
    `select invoice_id as "invoiceId", state, state_sequence as "stateSequence", updated_at as "updatedAt",
            cause, protocol, messages
       from submitter.documents
      where invoice_id = any($1::uuid[]) and tenant_id = $2
      order by invoice_id`,
    [invoiceIds, tenantId],
  );
  return rows.map((row) => ({
    eventId: randomUUID(),
    tenantId,
    invoiceId: row.invoiceId,
    status: publicStatus(row.state),
    sequence: row.stateSequence,
    at: row.updatedAt.toISOString(),
    ...(row.cause ? { cause: row.cause } : {}),
    ...(row.protocol ? { protocol: row.protocol } : {}),
    ...(row.messages?.length ? { messages: row.messages.slice(0, 100) } : {}),
    reannounced: true,
  }));
}
