import { randomUUID } from 'node:crypto';
import { createJobProducer, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expenseDocument, outboxEvents, queueJobs, takeIn } from '../../test-support/documents.ts';
import { createStatusRelay } from './status-relay.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('status relay', () => {
  let pool: Pool;
  let redis: Redis;
  let queue: Queue;
  const clock = testClock('2026-01-15T09:00:00Z');
  const tenantId = randomUUID();
  let counter = 0;

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'submitter-relay-test' });
    redis = createRedis(redisDatabase.url, 'submitter-relay-test');
    queue = new Queue('document-status', { connection: redis });
  });
  afterAll(async () => {
    await queue.close();
    await pool.end();
    redis.disconnect();
  });
  beforeEach(async () => {
    await queue.obliterate({ force: true });
    await pool.query('delete from submitter.status_outbox');
  });

  /** `count` documents taken in: one `queued` event each in the outbox, written by the real intake. */
  async function fillOutbox(count: number) {
    for (let i = 0; i < count; i += 50) {
      await takeIn(
        { pool, clock },
        tenantId,
        Array.from({ length: Math.min(50, count - i) }, () => ({
          credentialId: randomUUID(),
          document: expenseDocument(counter++),
        })),
      );
      clock.advance(1);
    }
    return outboxEvents(pool);
  }
  const outboxCount = async () =>
    (await pool.query<{ n: number }>('select count(*)::int as n from submitter.status_outbox')).rows[0]!.n;

  it('two relays at once enqueue each event once, job id `status-<eventId>`, payload the event', async () => {
    const events = await fillOutbox(300);
    expect(events).toHaveLength(300);
    const relays = [0, 1].map(() =>
      createStatusRelay({
        pool,
        producer: createJobProducer({ service: 'submitter', connection: redis }),
        batchSize: 20,
      }),
    );
    const moved = await Promise.all(relays.map((relay) => relay.drain()));
    expect(moved[0]! + moved[1]!).toBe(300);
    expect(await outboxCount()).toBe(0);
    const jobs = await queueJobs(redis, 'document-status');
    expect(jobs).toHaveLength(300);
    const byId = new Map(jobs.map((job) => [job.id, job.data]));
    for (const event of events) expect(byId.get(`status-${event.eventId}`)).toEqual(event);
  });

  it('a relay killed between enqueue and commit leaves its rows; the next run adds no second job', async () => {
    const events = await fillOutbox(12);
    const real = createJobProducer({ service: 'submitter', connection: redis });
    const killed = createStatusRelay({
      pool,
      batchSize: 100,
      producer: {
        enqueueMany: async (name, payloads) => {
          await real.enqueueMany(name, payloads);
          throw new Error('killed between enqueue and commit');
        },
      },
    });
    await expect(killed.drain()).rejects.toThrow('killed');
    expect(await outboxCount()).toBe(12);
    expect(await queueJobs(redis, 'document-status')).toHaveLength(12);

    expect(await createStatusRelay({ pool, producer: real, batchSize: 5 }).drain()).toBe(12);
    expect(await outboxCount()).toBe(0);
    const jobs = await queueJobs(redis, 'document-status');
    expect(jobs).toHaveLength(12);
    expect(new Set(jobs.map((job) => job.id))).toEqual(
      new Set(events.map((event) => `status-${event.eventId}`)),
    );
  });

  it('relays nothing and succeeds on an empty outbox', async () => {
    const relay = createStatusRelay({
      pool,
      producer: createJobProducer({ service: 'submitter', connection: redis }),
      batchSize: 10,
    });
    expect(await relay.drain()).toBe(0);
    expect(await queueJobs(redis, 'document-status')).toEqual([]);
  });
});
