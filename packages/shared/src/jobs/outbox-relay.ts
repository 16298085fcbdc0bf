import { inTransaction, type Pool } from '../postgres.ts';

const TABLE = /^[a-z_]+\.[a-z_]+$/;

type OutboxRelayDeps<Payload> = {
  pool: Pool;
  /** The schema-qualified table, a constant of the service (`gateway.outbox`). */
  table: string;
  /** Rows claimed a round. */
  batchSize: number;
} & (
  | {
      /** One job per row: the claimed rows' payloads, in order. */
      enqueue(payloads: Payload[]): Promise<unknown>;
    }
  | {
      /** At most this many rows per job: the claimed rows, in order, are cut into groups of it. */
      groupSize: number;
      /** One job per group. */
      enqueueGroups(groups: Payload[][]): Promise<unknown>;
    }
);

/**
 * Moves rows of an outbox table (`id`, `payload`, `created_at`) into BullMQ: each round claims the
 * oldest rows with `FOR UPDATE SKIP LOCKED` (replicas share the work without waiting on each other),
 * hands their payloads to `enqueue`, one job per row, or with `groupSize` to `enqueueGroups`, one job
 * per group of rows (job ids derived from the rows, so enqueuing twice adds one job), and deletes them
 * in the same transaction. A relay that dies after enqueuing and before committing leaves the rows
 * for the next round, whose enqueue BullMQ ignores (same rows, same job id) or, for rows grouped
 * otherwise the next time, adds a job the consumer must recognise as carrying work it has done.
 */
export function createOutboxRelay<Payload>(deps: OutboxRelayDeps<Payload>) {
  if (!TABLE.test(deps.table)) throw new Error(`not an outbox table name: ${deps.table}`);
  if ('groupSize' in deps && !(Number.isInteger(deps.groupSize) && deps.groupSize > 0)) {
    throw new Error(`not a group size: ${deps.groupSize}`);
  }
  const enqueue = (payloads: Payload[]): Promise<unknown> => {
    if (!('groupSize' in deps)) return deps.enqueue(payloads);
    const groups: Payload[][] = [];
    for (let i = 0; i < payloads.length; i += deps.groupSize) {
      groups.push(payloads.slice(i, i + deps.groupSize));
    }
    return deps.enqueueGroups(groups);
  };
  const relayOnce = (): Promise<number> =>
    inTransaction(deps.pool, async (client) => {
      const { rows } = await client.query<{ id: string; payload: Payload }>(
        `select id, payload from ${deps.table} order by created_at, id limit $1 for update skip locked`,
        [deps.batchSize],
      );
      if (rows.length > 0) {
        await enqueue(rows.map((row) => row.payload));
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
