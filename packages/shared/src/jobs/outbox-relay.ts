import { inTransaction, type Pool } from '../postgres.ts';

const TABLE = /^[a-z_]+\.[a-z_]+$/;

/**
 * Moves rows of an outbox table (`id`, `payload`, `created_at`) into BullMQ: each round claims the
 * oldest rows with `FOR UPDATE SKIP LOCKED` (replicas share the work without waiting on each other),
 * hands their payloads to `enqueue` (job ids derived from the rows, so enqueuing twice adds one job),
 * and deletes them in the same transaction. A relay that dies after enqueuing and before committing
 * leaves the rows for the next round, whose enqueue BullMQ ignores.
 */
export function createOutboxRelay<Payload>(deps: {
  pool: Pool;
  /** The schema-qualified table, a constant of the service (`gateway.outbox`). */
  table: string;
  batchSize: number;
  enqueue(payloads: Payload[]): Promise<unknown>;
}) {
  if (!TABLE.test(deps.table)) throw new Error(`not an outbox table name: ${deps.table}`);
  const relayOnce = (): Promise<number> =>
    inTransaction(deps.pool, async (client) => {
      const { rows } = await client.query<{ id: string; payload: Payload }>(
        `select id, payload from ${deps.table} order by created_at, id limit $1 for update skip locked`,
        [deps.batchSize],
      );
      if (rows.length > 0) {
        await deps.enqueue(rows.map((row) => row.payload));
        await client.query(`delete from ${deps.table} where id = any($1::uuid[])`, [
          rows.map((row) => row.id),
        ]);
      }
      return rows.length;
    });
  return {
    relayOnce,
    /** Rounds until the outbox is empty (or a round comes back short): one background pass. */
    async drain(): Promise<number> {
      let moved = 0;
      for (;;) {
        const count = await relayOnce();
        moved += count;
        if (count < deps.batchSize) return moved;
      }
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
