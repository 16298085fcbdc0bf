import { randomUUID } from 'node:crypto';
import { type Clock, inTransaction, type JobPayload, type Pool, type PoolClient } from '@sts/shared';

type OutboxDocument = JobPayload<'documents.accepted'>['documents'][number];

interface DueInvoice {
  id: string;
  tenantId: string;
  credentialId: string;
  chainKey: string;
  chainSequence: number;
  document: OutboxDocument['document'];
}

const COLUMNS = `id, tenant_id as "tenantId", credential_id as "credentialId", chain_key as "chainKey",
                 chain_sequence as "chainSequence", document`;

/**
 * Hands the submitter again the invoice events whose answer may have been lost with Redis's data:
 *
 * - **unanswered**: still `received` (no status event came back) `afterMs` after they were accepted,
 *   or after they were last handed again. The relay deletes an outbox row once its job is in Redis;
 *   if Redis then loses its data (no AOF, a failed disk), the job is gone and nothing else would
 *   send it.
 * - **unsettled** (the resync): under way (neither `received` nor final) with no status change for
 *   `resyncAfterMs`, and not handed again for as long. Their status jobs may have been lost the same
 *   way between the submitter's status relay and this gateway's consumer.
 *
 * The submitter takes a document once (its invoice id is the key) and answers one it already holds by
 * announcing its current status again (`reannounced`), which the status consumer applies only if it
 * had missed it; nothing goes to the STS twice. A document waiting days for the STS is thus asked
 * once per `resyncAfterMs`: one entry in a `documents.accepted` job and one status event back.
 * Runs in any replica (`FOR UPDATE SKIP LOCKED`), at most `batchSize` events of each kind a round,
 * oldest first (partial indexes `invoices_unanswered`, `invoices_unsettled`).
 */
export function createOutboxRedelivery(deps: {
  pool: Pool;
  clock: Clock;
  afterMs: number;
  resyncAfterMs: number;
  batchSize: number;
}) {
  async function redeliverOnce(): Promise<number> {
    const now = deps.clock();
    const cutoff = new Date(now.getTime() - deps.afterMs);
    const resyncCutoff = new Date(now.getTime() - deps.resyncAfterMs);
    return inTransaction(deps.pool, async (client) => {
      const { rows: unanswered } = await client.query<DueInvoice>(
        `select ${COLUMNS}
           from gateway.invoices
          where status = 'received' and received_at < $1 and (redelivered_at is null or redelivered_at < $1)
          order by received_at
          limit $2
            for update skip locked`,
        [cutoff, deps.batchSize],
      );
      // `greatest` skips a null `redelivered_at`: last changed and last handed again both before the cutoff.
      const { rows: unsettled } = await client.query<DueInvoice>(
        `select ${COLUMNS}
           from gateway.invoices
          where status not in ('received', 'accepted', 'accepted_with_warnings', 'rejected')
            and greatest(status_at, redelivered_at) < $1
          order by greatest(status_at, redelivered_at)
          limit $2
            for update skip locked`,
        [resyncCutoff, deps.batchSize],
      );
      const rows = [...unanswered, ...unsettled];
      await relayAgain(client, rows, now);
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

/** Outbox rows for the relay, as the acceptance writes them: per tenant, at most 1,000 documents a job. */
async function relayAgain(client: Pick<PoolClient, 'query'>, rows: readonly DueInvoice[], now: Date) {
  const byTenant = new Map<string, DueInvoice[]>();
  for (const row of rows) {
    const events = byTenant.get(row.tenantId);
    if (events) events.push(row);
    else byTenant.set(row.tenantId, [row]);
  }
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
}
