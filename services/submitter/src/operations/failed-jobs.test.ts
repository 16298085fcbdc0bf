import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createJobProducer,
  createLogger,
  createRedis,
  type JobHandlers,
  type Redis,
  startJobWorkers,
} from '@sts/shared';
import { useTestRedis } from '@sts/testkit';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFailedJobs } from './failed-jobs.ts';

const run = promisify(execFile);
const redisDatabase = useTestRedis();
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

describe('failed jobs: visible with their reason, re-driven on demand', () => {
  let redis: Redis;
  let blocking: Redis;
  beforeAll(() => {
    redis = createRedis(redisDatabase.url, 'failed-jobs-test');
    blocking = createRedis(redisDatabase.url, 'failed-jobs-test-worker', { blocking: true });
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), blocking.quit()]);
  });

  it('lists a job that used up its attempts and retries it from the first attempt', async () => {
    const producer = createJobProducer({
      service: 'submitter',
      connection: redis,
      retryOverrides: {
        'receipt.fetch': { attempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } },
      },
    });
    const fileId = randomUUID();
    const tenantId = randomUUID();
    await producer.enqueue('receipt.fetch', { tenantId, fileId });
    let fail = true;
    const runs: number[] = [];
    const events = new QueueEvents('receipt-fetch', {
      connection: createRedis(redisDatabase.url, 'events', { blocking: true }),
    });
    await events.waitUntilReady();
    const failedOnce = new Promise<void>((resolve) =>
      events.on('failed', ({ prev }) => {
        if (prev !== 'failed') resolve();
      }),
    );
    const noop = async () => {};
    const handlers = {
      'documents.accepted': noop,
      'batch.flush': noop,
      'file.send': noop,
      'document.send': noop,
      'outcome.poll': noop,
      'send.reconcile': noop,
      'receipt.fetch': async (_payload, job) => {
        runs.push(job.attemptsMade);
        if (fail) throw new Error('the STS answered 500 for the receipt');
      },
    } satisfies JobHandlers<'submitter'>;
    const workers = startJobWorkers({
      service: 'submitter',
      connection: blocking,
      logger: createLogger({ name: 'test', level: 'silent' }),
      handlers,
    });
    await failedOnce;
    // Exhausted: both attempts used, then visible with the reason.
    const failed = createFailedJobs(redis);
    const listed = await failed.list('receipt.fetch');
    expect(listed).toEqual([
      expect.objectContaining({
        job: 'receipt.fetch',
        attempts: 2,
        reason: 'the STS answered 500 for the receipt',
        ids: { tenantId, fileId },
      }),
    ]);
    // The CLI shows the same, as JSON, and refuses an unknown job type with exit code 2.
    const env = { ...process.env, REDIS_URL: redisDatabase.url };
    const shown = await run(process.execPath, [CLI, 'jobs', 'failed', '--job', 'receipt.fetch', '--json'], {
      env,
    });
    expect(JSON.parse(shown.stdout)).toEqual([expect.objectContaining({ id: listed[0]!.id, attempts: 2 })]);
    const unknown = await run(process.execPath, [CLI, 'jobs', 'failed', '--job', 'nothing'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(unknown).toMatchObject({ code: 2 });

    // Re-driven through the CLI: it runs again from its first attempt and succeeds.
    fail = false;
    const completed = new Promise<void>((resolve) => events.on('completed', () => resolve()));
    const retried = await run(process.execPath, [CLI, 'jobs', 'retry', '--job', 'receipt.fetch', '--json'], {
      env,
    });
    expect(JSON.parse(retried.stdout)).toEqual({ retried: 1 });
    await completed;
    expect(runs.at(-1)).toBe(0);
    expect(await failed.list('receipt.fetch')).toEqual([]);
    await failed.close();
    await workers.close();
    await events.close();
    await producer.close();
  });
});
