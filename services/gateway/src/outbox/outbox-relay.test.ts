import { randomUUID } from 'node:crypto';
import {
  createJobProducer,
  createPool,
  createRedis,
  type JobPayload,
  type Pool,
  type Redis,
} from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOutboxRelay } from './outbox-relay.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('outbox relay', () => {
  let pool: Pool;
  let redis: Redis;
  let queue: Queue;
  const tenantId = randomUUID();
  const logger = { error: () => {} };

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-relay-test' });
    redis = createRedis(redisDatabase.url, 'gateway-relay-test');
    queue = new Queue('documents-accepted', { connection: redis });
  });
  afterAll(async () => {
    await queue.close();
    await pool.end();
    redis.disconnect();
  });
  beforeEach(async () => {
    await queue.obliterate({ force: true });
    await pool.query('delete from gateway.outbox');
  });

  /** `count` outbox rows as the intake writes them (one document each, patient encrypted). */
  async function fillOutbox(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const payload: JobPayload<'documents.accepted'> = {
        outboxId: id,
        tenantId,
        documents: [
          {
            invoiceId: randomUUID(),
            credentialId: randomUUID(),
            documentKey: `key${String(i).padStart(20, '0')}`,
            sequence: 1,
            document: {
              operation: 'insert',
              patient: { kind: 'identified', taxCode: { encrypted: 'QUJDREVGR0hJSktMTU5PUA==' } },
            },
          },
        ],
      };
      await pool.query(
        'insert into gateway.outbox (id, payload, documents, created_at) values ($1, $2, 1, now())',
        [id, JSON.stringify(payload)],
      );
      ids.push(id);
    }
    return ids;
  }

  const jobIds = async () =>
    (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((job) => job.id);

  it('two relays running at once enqueue every row exactly once, with the job id from the row', async () => {
    const ids = await fillOutbox(300);
    const relays = [0, 1].map(() =>
      createOutboxRelay({
        pool,
        producer: createJobProducer({ service: 'gateway', connection: redis }),
        logger,
        batchSize: 25,
      }),
    );
    const moved = await Promise.all(relays.map((relay) => relay.drain()));
    expect(moved[0]! + moved[1]!).toBe(300);
    const enqueued = await jobIds();
    expect(enqueued).toHaveLength(300);
    expect(new Set(enqueued)).toEqual(new Set(ids.map((id) => `outbox-${id}`)));
    expect((await pool.query('select count(*)::int as n from gateway.outbox')).rows[0].n).toBe(0);
  });

  it('a relay that dies after enqueuing, before its commit, leaves the rows; the next run adds no second job', async () => {
    const ids = await fillOutbox(10);
    const real = createJobProducer({ service: 'gateway', connection: redis });
    const crashing = createOutboxRelay({
      pool,
      logger,
      batchSize: 100,
      producer: {
        enqueueMany: async (name, payloads) => {
          await real.enqueueMany(name, payloads);
          throw new Error('killed between enqueue and commit');
        },
      },
    });
    await expect(crashing.drain()).rejects.toThrow('killed');
    expect((await pool.query('select count(*)::int as n from gateway.outbox')).rows[0].n).toBe(10);
    expect(await jobIds()).toHaveLength(10);

    await createOutboxRelay({ pool, producer: real, logger, batchSize: 100 }).drain();
    expect((await pool.query('select count(*)::int as n from gateway.outbox')).rows[0].n).toBe(0);
    const enqueued = await jobIds();
    expect(enqueued).toHaveLength(10);
    expect(new Set(enqueued)).toEqual(new Set(ids.map((id) => `outbox-${id}`)));
  });
});
