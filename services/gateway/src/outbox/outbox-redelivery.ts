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

/** A resync waits at most this long after the one before (`resyncMaxMs`). */
export const RESYNC_MAX_MS = 24 * 60 * 60 * 1000;

/** The statuses not under way: `received` (the other rule) and the final ones. */
const UNDER_WAY_EXCLUDED = `'received', 'accepted', 'accepted_with_warnings', 'rejected'`;

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
 *   `resyncAfterMs`. Their status jobs may have been lost the same way between the submitter's status
 *   relay and this gateway's consumer. Each resync of the same event waits twice as long as the one
 *   before (15 min, 30 min, 1 h, 2 h … from its last change), at most `resyncMaxMs` (24 h): most of
 *   these events are waiting legitimately (days for the STS outcome of a 730 file, an operator fixing a
 *   credential), and a lost status is the rare case. `next_resync_at` holds when the next is due; an
 *   applied status change sets it back to null (status-service.ts), so the next waits `resyncAfterMs`
 *   again.
 *
 * The submitter takes a document once (its invoice id is the key) and answers one it already holds by
 * announcing its current status again (`reannounced`), which the status consumer applies only if it
 * had missed it; nothing goes to the STS twice. A document waiting days for the STS is thus asked six
 * times its first day and once a day after: one entry in a `documents.accepted` job and one status
 * event back each time.
 * Runs in any replica (`FOR UPDATE SKIP LOCKED`), at most `batchSize` events of each kind (unanswered,
 * first resync since a change, backed-off resync) a round, oldest first (partial indexes
 * `invoices_unanswered`, `invoices_unsettled`).
 */
export function createOutboxRedelivery(deps: {
  pool: Pool;
  clock: Clock;
  afterMs: number;
  resyncAfterMs: number;
  /** The longest wait between two resyncs of one event. Default: 24 hours (never below `resyncAfterMs`). */
  resyncMaxMs?: number;
  batchSize: number;
}) {
  const resyncMaxMs = Math.max(deps.resyncAfterMs, deps.resyncMaxMs ?? RESYNC_MAX_MS);
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
      // Never resynced since their last change: due `resyncAfterMs` after it.
      const { rows: changed } = await client.query<DueInvoice>(
        `select ${COLUMNS}
           from gateway.invoices
          where status not in (${UNDER_WAY_EXCLUDED})
            and next_resync_at is null and status_at < $1
          order by next_resync_at, status_at
          limit $2
            for update skip locked`,
        [resyncCutoff, deps.batchSize],
      );
      // Resynced already: due when the backed-off `next_resync_at` has come.
      const { rows: backedOff } = await client.query<DueInvoice>(
        `select ${COLUMNS}
           from gateway.invoices
          where status not in (${UNDER_WAY_EXCLUDED})
            and next_resync_at < $1
          order by next_resync_at, status_at
          limit $2
            for update skip locked`,
        [now, deps.batchSize],
      );
      const unsettled = [...changed, ...backedOff];
      const rows = [...unanswered, ...unsettled];
      await relayAgain(client, rows, now);
      if (unanswered.length > 0) {
        await client.query('update gateway.invoices set redelivered_at = $2 where id = any($1::uuid[])', [
          unanswered.map((row) => row.id),
          now,
        ]);
      }
      if (unsettled.length > 0) {
        // The next wait: twice the one just over (`next_resync_at - redelivered_at`, both written
        // here last time; `resyncAfterMs` for the first), at most `resyncMaxMs`.
        await client.query(
          `update gateway.invoices
              set redelivered_at = $2,
                  next_resync_at = $2::timestamptz + least(
                    case when next_resync_at is null then $3::float8
                         else extract(epoch from next_resync_at - redelivered_at) * 1000 end * 2,
                    $4::float8) * interval '1 millisecond'
            where id = any($1::uuid[])`,
          [unsettled.map((row) => row.id), now, deps.resyncAfterMs, resyncMaxMs],
        );
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
