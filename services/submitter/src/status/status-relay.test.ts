import { randomUUID } from 'node:crypto';
import {
  createJobProducer,
  createPool,
  createRedis,
  JOB_CATALOGUE,
  type Pool,
  type Redis,
} from '@sts/shared';
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

  /** The events of every job in the queue, and the jobs. */
  const queued = async () => {
    const jobs = await queueJobs(redis, 'document-status');
    return { jobs, events: jobs.flatMap((job) => (job.data as { events: unknown[] }).events) };
  };

  it('two relays at once enqueue each event once, in jobs of at most the group size, in outbox order', async () => {
    const events = await fillOutbox(300);
    expect(events).toHaveLength(300);
    const relays = [0, 1].map(() =>
      createStatusRelay({
        pool,
        producer: createJobProducer({ service: 'submitter', connection: redis }),
        batchSize: 40,
        groupSize: 15,
      }),
    );
    const moved = await Promise.all(relays.map((relay) => relay.drain()));
    expect(moved[0]! + moved[1]!).toBe(300);
    expect(await outboxCount()).toBe(0);
    const { jobs, events: carried } = await queued();
    expect(jobs.length).toBeGreaterThanOrEqual(20);
    for (const job of jobs) {
      const { events: inJob } = job.data as { events: typeof events };
      expect(inJob.length).toBeLessThanOrEqual(15);
      expect(job.id).toBe(JOB_CATALOGUE['document.status'].jobId({ events: inJob }));
      // Within a job, the outbox's order.
      const positions = inJob.map((event) => events.findIndex((each) => each.eventId === event.eventId));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    expect(carried).toHaveLength(300);
    expect(new Map(carried.map((event) => [(event as { eventId: string }).eventId, event]))).toEqual(
      new Map(events.map((event) => [event.eventId, event])),
    );
  });

  it('groups up to 500 events a job by default', async () => {
    await fillOutbox(1_100);
    const producer = createJobProducer({ service: 'submitter', connection: redis });
    expect(await createStatusRelay({ pool, producer, batchSize: 1_100 }).drain()).toBe(1_100);
    const { jobs } = await queued();
    expect(jobs.map((job) => (job.data as { events: unknown[] }).events.length).sort()).toEqual([
      100, 500, 500,
    ]);
  });

  it('a relay killed between enqueue and commit leaves its rows; the next run adds no second job', async () => {
    const events = await fillOutbox(12);
    const real = createJobProducer({ service: 'submitter', connection: redis });
    const killed = createStatusRelay({
      pool,
      batchSize: 100,
      groupSize: 5,
      producer: {
        enqueueMany: async (name, payloads) => {
          await real.enqueueMany(name, payloads);
          throw new Error('killed between enqueue and commit');
        },
      },
    });
    await expect(killed.drain()).rejects.toThrow('killed');
    expect(await outboxCount()).toBe(12);
    const before = await queued();
    expect(before.jobs).toHaveLength(3);

    // The same rows, grouped the same way: the same three jobs, none added.
    expect(await createStatusRelay({ pool, producer: real, batchSize: 100, groupSize: 5 }).drain()).toBe(12);
    expect(await outboxCount()).toBe(0);
    const after = await queued();
    expect(new Set(after.jobs.map((job) => job.id))).toEqual(new Set(before.jobs.map((job) => job.id)));
    expect(after.events).toHaveLength(12);
    expect(new Set(after.events.map((event) => (event as { eventId: string }).eventId))).toEqual(
      new Set(events.map((event) => event.eventId)),
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
