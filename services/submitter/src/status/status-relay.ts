import type { DocumentStatusEvent, JobProducer, Pool } from '@sts/shared';

/**
 * Moves status events from the outbox into BullMQ (`document.status`, job id `status-<event id>`):
 * rows claimed with `FOR UPDATE SKIP LOCKED` (replicas share the work), enqueued, deleted in the same
 * transaction. A relay that dies between enqueue and commit re-enqueues the same job ids: BullMQ
 * keeps one job each, and the gateway recognises a repeated event by its id anyway.
 */
export function createStatusRelay(deps: {
  pool: Pool;
  producer: Pick<JobProducer<'submitter'>, 'enqueueMany'>;
  batchSize: number;
}) {
  async function relayOnce(): Promise<number> {
    const client = await deps.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ id: string; payload: DocumentStatusEvent }>(
        `select id, payload from submitter.status_outbox
          order by created_at, id limit $1 for update skip locked`,
        [deps.batchSize],
      );
      if (rows.length > 0) {
        await deps.producer.enqueueMany(
          'document.status',
          rows.map((row) => row.payload),
        );
        await client.query('delete from submitter.status_outbox where id = any($1::uuid[])', [
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
