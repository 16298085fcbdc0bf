import type { JobPayload, JobProducer, Logger, Pool } from '@sts/shared';

export interface OutboxRelayDeps {
  pool: Pool;
  producer: Pick<JobProducer<'gateway'>, 'enqueueMany'>;
  logger: Pick<Logger, 'error'>;
  /** Outbox rows claimed per round. */
  batchSize: number;
}

/**
 * Moves accepted invoice events from the outbox into BullMQ (`documents.accepted`). Each round claims
 * the oldest rows with `FOR UPDATE SKIP LOCKED` (so several gateway replicas share the work without
 * waiting on each other), enqueues them with job ids derived from the rows (`outbox-<id>`), and
 * deletes them in the same transaction. A relay that dies after enqueuing and before committing
 * leaves the rows for the next round, whose enqueue BullMQ ignores: same job id, no second job.
 */
export function createOutboxRelay({ pool, producer, batchSize }: OutboxRelayDeps) {
  /** One round: the number of rows moved. */
  async function relayOnce(): Promise<number> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ id: string; payload: JobPayload<'documents.accepted'> }>(
        `select id, payload from gateway.outbox
          order by created_at, id
          limit $1
          for update skip locked`,
        [batchSize],
      );
      if (rows.length > 0) {
        await producer.enqueueMany(
          'documents.accepted',
          rows.map((row) => row.payload),
        );
        await client.query('delete from gateway.outbox where id = any($1::uuid[])', [
          rows.map((row) => row.id),
        ]);
      }
      await client.query('commit');
      return rows.length;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    relayOnce,
    /** Rounds until the outbox is empty (or a round comes back short): one background pass. */
    async drain(): Promise<number> {
      let moved = 0;
      for (;;) {
        const count = await relayOnce();
        moved += count;
        if (count < batchSize) return moved;
      }
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
