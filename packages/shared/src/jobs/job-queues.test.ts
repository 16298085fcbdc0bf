import { randomUUID } from 'node:crypto';
import { useTestRedis } from '@sts/testkit';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_CATALOGUE, type JobPayload, jobsConsumedBy, SERVICE_NAMES } from '../contracts/job-catalogue.ts';
import { createLogger } from '../logger.ts';
import { createRedis, type Redis } from '../redis.ts';
import {
  checkJobHandlers,
  createJobProducer,
  DeferJob,
  type JobHandlers,
  JobHandlersError,
  startJobWorkers,
} from './job-queues.ts';

const logger = createLogger({ name: 'job-queues-test', level: 'silent' });
const redisDb = useTestRedis();

const statusEvent = (): JobPayload<'document.status'>['events'][number] => ({
  eventId: randomUUID(),
  tenantId: randomUUID(),
  invoiceId: randomUUID(),
  status: 'submitted',
  sequence: 3,
  at: new Date().toISOString(),
  protocol: '17091410052138823',
});
const statusEvents = (count = 1): JobPayload<'document.status'> => ({
  events: Array.from({ length: count }, statusEvent),
});

describe('the job catalogue', () => {
  it('gives every job type exactly one consumer among our services and ids without ":" (BullMQ)', () => {
    for (const [name, definition] of Object.entries(JOB_CATALOGUE)) {
      expect(SERVICE_NAMES).toContain(definition.consumer);
      expect(definition.queue).toMatch(/^[a-z-]+$/);
      expect(definition.retry.attempts).toBeGreaterThan(0);
      expect(name).toMatch(/^[a-z]+\.[a-z]+$/);
    }
    const id = JOB_CATALOGUE['document.status'].jobId(statusEvents());
    expect(id).not.toContain(':');
  });

  it('names a status job by the set of events it carries, whatever their order', () => {
    const { jobId, payload } = JOB_CATALOGUE['document.status'];
    const batch = statusEvents(3);
    const reversed = { events: [...batch.events].reverse() };
    expect(jobId(reversed)).toBe(jobId(batch));
    expect(jobId({ events: batch.events.slice(0, 2) })).not.toBe(jobId(batch));
    expect(jobId(batch)).toMatch(/^status-[A-Za-z0-9_-]{32}$/);
    expect(payload.safeParse(statusEvents(500)).success).toBe(true);
    expect(payload.safeParse(statusEvents(501)).success).toBe(false);
    expect(payload.safeParse({ events: [] }).success).toBe(false);
  });

  it('refuses to boot when a consumed job type has no handler, or a handler has no job', () => {
    expect(() => checkJobHandlers('gateway', {})).toThrow(JobHandlersError);
    expect(() => checkJobHandlers('gateway', {})).toThrow(/No handler for: document\.status/);
    expect(() =>
      checkJobHandlers('gateway', { 'document.status': async () => {}, 'file.send': async () => {} }),
    ).toThrow(/does not consume: file\.send/);
    const submitter = Object.fromEntries(jobsConsumedBy('submitter').map((name) => [name, async () => {}]));
    expect(() => checkJobHandlers('submitter', submitter)).not.toThrow();
    // @ts-expect-error: the compiler, too, wants a handler for every job the gateway consumes.
    const missing: Parameters<typeof startJobWorkers<'gateway'>>[0]['handlers'] = {};
    expect(missing).toEqual({});
  });
});

describe('producing and consuming jobs on real Redis', () => {
  let connection: Redis;
  let blocking: Redis;
  beforeAll(() => {
    connection = createRedis(redisDb.url, 'job-queues-test');
    blocking = createRedis(redisDb.url, 'job-queues-test-worker', { blocking: true });
  });
  afterAll(async () => {
    await Promise.all([connection.quit(), blocking.quit()]);
  });

  it('delivers a validated payload once, however often the same work is enqueued', async () => {
    const producer = createJobProducer({ service: 'submitter', connection });
    const received: JobPayload<'document.status'>[] = [];
    const event = statusEvents(2);
    const firstId = await producer.enqueue('document.status', event);
    const secondId = await producer.enqueue('document.status', { events: [...event.events].reverse() });
    expect(secondId).toBe(firstId);

    let delivered: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    const workers = startJobWorkers({
      service: 'gateway',
      connection: blocking,
      logger,
      handlers: {
        'document.status': async (payload) => {
          received.push(payload);
          delivered();
        },
        'webhook.deliver': async () => {},
      },
    });
    await done;
    await workers.close();
    const queue = new Queue(JOB_CATALOGUE['document.status'].queue, { connection });
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'delayed');
    expect((counts.waiting ?? 0) + (counts.delayed ?? 0)).toBe(0);
    expect(received).toEqual([event]);
    await queue.close();
    await producer.close();
  });

  it('never lets a plaintext codice fiscale into job data, and does not echo it in the error', async () => {
    const producer = createJobProducer({ service: 'gateway', connection });
    const payload = {
      outboxId: randomUUID(),
      tenantId: randomUUID(),
      documents: [
        {
          invoiceId: randomUUID(),
          credentialId: randomUUID(),
          documentKey: 'k'.repeat(32),
          sequence: 1,
          document: { operation: 'insert', patient: { kind: 'identified', taxCode: 'RSSMRA85T10A562S' } },
        },
      ],
    } as unknown as JobPayload<'documents.accepted'>;
    const attempt = producer.enqueue('documents.accepted', payload);
    await expect(attempt).rejects.toThrow(/documents\.0\.document\.patient\.taxCode/);
    await expect(attempt).rejects.not.toThrow(/RSSMRA85T10A562S/);
    const queue = new Queue(JOB_CATALOGUE['documents.accepted'].queue, { connection });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    await queue.close();
    await producer.close();
  });

  it('runs a deferred job again later without using an attempt', async () => {
    const producer = createJobProducer({ service: 'submitter', connection });
    const event = statusEvents();
    await producer.enqueue('document.status', event);
    const seen: number[] = [];
    let finished: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const workers = startJobWorkers({
      service: 'gateway',
      connection: blocking,
      logger,
      handlers: {
        'document.status': async (_payload, job) => {
          seen.push(job.attemptsMade);
          if (seen.length < 3) throw new DeferJob(20, 'pacing budget spent');
          finished();
        },
        'webhook.deliver': async () => {},
      },
    });
    await done;
    await workers.close();
    // Three runs, none counted as a failed attempt.
    expect(seen).toEqual([0, 0, 0]);
    const queue = new Queue(JOB_CATALOGUE['document.status'].queue, { connection });
    const job = await queue.getJob(JOB_CATALOGUE['document.status'].jobId(event));
    // The one run that finished counts; the two deferrals do not.
    expect(job?.attemptsMade).toBe(1);
    await queue.close();
    await producer.close();
  });

  it('refuses a job type the service does not produce', async () => {
    const producer = createJobProducer({ service: 'gateway', connection });
    await expect(
      // @ts-expect-error: the gateway does not send files.
      producer.enqueue('file.send', { tenantId: randomUUID(), fileId: randomUUID(), attempt: 1 }),
    ).rejects.toThrow(/gateway does not produce "file\.send"/);
    await producer.close();
  });

  it('fails a job whose data does not match its schema at once, without burning retries', async () => {
    const queueName = JOB_CATALOGUE['receipt.fetch'].queue;
    const queue = new Queue(queueName, { connection });
    const events = new QueueEvents(queueName, {
      connection: createRedis(redisDb.url, 'events', { blocking: true }),
    });
    await events.waitUntilReady();
    const handled: unknown[] = [];
    const workers = startJobWorkers({
      service: 'submitter',
      connection: blocking,
      logger,
      handlers: {
        ...(Object.fromEntries(
          jobsConsumedBy('submitter').map((name) => [name, async () => {}]),
        ) as unknown as JobHandlers<'submitter'>),
        'receipt.fetch': async (payload) => {
          handled.push(payload);
        },
      },
    });
    const failed = new Promise<{ jobId: string; failedReason: string }>((resolve) =>
      events.on('failed', resolve),
    );
    const job = await queue.add('receipt.fetch', { fileId: 'not-a-uuid' }, { attempts: 5 });
    const failure = await failed;
    expect(failure.jobId).toBe(job.id);
    expect(failure.failedReason).toMatch(/tenantId: invalid_type; fileId: invalid_format/);
    const stored = await queue.getJob(job.id!);
    expect(stored?.attemptsMade).toBe(1);
    expect(handled).toEqual([]);
    await workers.close();
    await events.close();
    await queue.close();
  });
});
