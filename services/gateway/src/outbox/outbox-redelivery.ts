import { randomUUID } from 'node:crypto';
import { type Clock, inTransaction, type JobPayload, type Pool } from '@sts/shared';

type OutboxDocument = JobPayload<'documents.accepted'>['documents'][number];

/**
 * Hands the submitter again the invoice events that never got an answer: still `received` (no
 * status event came back) this long after they were accepted, or after they were last handed again.
 * The relay deletes an outbox row once its job is in Redis; if Redis then loses its data (no AOF, a
 * failed disk), the job is gone and nothing else would send it. The submitter takes a document once
 * (its invoice id is the key), so handing it again is harmless. Runs in any replica (`FOR UPDATE SKIP
 * LOCKED`), a few hundred events a round.
 */
export function createOutboxRedelivery(deps: {
  pool: Pool;
  clock: Clock;
  afterMs: number;
  batchSize: number;
}) {
  async function redeliverOnce(): Promise<number> {
    const now = deps.clock();
    const cutoff = new Date(now.getTime() - deps.afterMs);
    return inTransaction(deps.pool, async (client) => {
      const { rows } = await client.query<{
        id: string;
        tenantId: string;
        credentialId: string;
        chainKey: string;
        chainSequence: number;
        document: OutboxDocument['document'];
      }>(
        `select id, tenant_id as "tenantId", credential_id as "credentialId", chain_key as "chainKey",
                chain_sequence as "chainSequence", document
           from gateway.invoices
          where status = 'received' and received_at < $1 and (redelivered_at is null or redelivered_at < $1)
          order by received_at
          limit $2
            for update skip locked`,
        [cutoff, deps.batchSize],
      );
      const byTenant = new Map<string, typeof rows>();
      for (const row of rows) byTenant.set(row.tenantId, [...(byTenant.get(row.tenantId) ?? []), row]);
      for (const [tenantId, events] of byTenant) {
        for (let start = 0; start < events.length; start += 1000) {
          const outboxId = randomUUID();
          const payload: JobPayload<'documents.accepted'> = {
            outboxId,
            tenantId,
            documents: events.slice(start, start + 1000).map((event) => ({
              invoiceId: event.id,
              credentialId: event.credentialId,
              documentKey: event.chainKey,
              sequence: event.chainSequence,
              document: event.document,
            })),
          };
          await client.query(
            'insert into gateway.outbox (id, payload, documents, created_at) values ($1, $2, $3, $4)',
            [outboxId, JSON.stringify(payload), payload.documents.length, now],
          );
        }
      }
      if (rows.length > 0) {
        await client.query('update gateway.invoices set redelivered_at = $2 where id = any($1::uuid[])', [
          rows.map((row) => row.id),
          now,
        ]);
      }
      return rows.length;
    });
  }
  return { redeliverOnce };
}
