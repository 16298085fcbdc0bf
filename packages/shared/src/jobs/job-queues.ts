import { DelayedError, type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JOB_CATALOGUE,
  type JobName,
  type JobPayload,
  type JobsConsumedBy,
  type JobsProducedBy,
  jobsConsumedBy,
  type RetryPolicy,
  type ServiceName,
} from '../contracts/job-catalogue.ts';
import type { Logger } from '../logger.ts';

/**
 * Thrown by a handler to run the job again after `delayMs` without using one of its attempts: the
 * work was not tried (a pacing budget is spent, an answer is not ready yet), so no retry is burnt.
 */
export class DeferJob extends Error {
  readonly delayMs: number;
  constructor(delayMs: number, reason: string) {
    super(`deferred ${Math.round(delayMs)} ms: ${reason}`);
    this.name = 'DeferJob';
    this.delayMs = Math.max(1, Math.round(delayMs));
  }
}

export type JobHandler<Name extends JobName> = (payload: JobPayload<Name>, job: Job) => Promise<void>;
/** One handler for every job type the service consumes: a missing one fails to compile. */
export type JobHandlers<Service extends ServiceName> = {
  [Name in JobsConsumedBy<Service>]: JobHandler<Name>;
};

/** Boot-time guard for what the compiler cannot see (handlers assembled dynamically, casts). */
export class JobHandlersError extends Error {
  constructor(service: ServiceName, missing: readonly string[], unexpected: readonly string[]) {
    super(
      [
        `${service}: the job catalogue and the handlers disagree.`,
        ...(missing.length ? [`No handler for: ${missing.join(', ')}.`] : []),
        ...(unexpected.length
          ? [`Handlers for jobs ${service} does not consume: ${unexpected.join(', ')}.`]
          : []),
      ].join(' '),
    );
    this.name = 'JobHandlersError';
  }
}

export function checkJobHandlers(service: ServiceName, handlers: Record<string, unknown>): void {
  const consumed = jobsConsumedBy(service);
  const missing = consumed.filter((name) => typeof handlers[name] !== 'function');
  const unexpected = Object.keys(handlers).filter((name) => !(consumed as string[]).includes(name));
  if (missing.length || unexpected.length) throw new JobHandlersError(service, missing, unexpected);
}

/**
 * Retry policies that replace the catalogue's for some job types: for tests, which cannot wait a day
 * of backoff (production producers never set it).
 */
export type RetryOverrides = Partial<Record<JobName, RetryPolicy>>;

/** BullMQ options of a job from its catalogue entry: deterministic id, attempts, backoff with jitter. */
function jobOptions<Name extends JobName>(
  name: Name,
  payload: JobPayload<Name>,
  overrides: RetryOverrides = {},
): JobsOptions {
  const { jobId, retry: catalogued } = JOB_CATALOGUE[name] as unknown as {
    jobId: (payload: JobPayload<Name>) => string;
    retry: RetryPolicy;
  };
  const retry = overrides[name] ?? catalogued;
  return {
    jobId: jobId(payload),
    attempts: retry.attempts,
    backoff: { type: retry.backoff.type, delay: retry.backoff.delayMs, jitter: retry.backoff.jitter },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 14 * 24 * 3600 },
  };
}

/** Names the fields of a payload that fails its schema, never their values (they may be sensitive). */
function parsePayload<Name extends JobName>(name: Name, data: unknown): JobPayload<Name> {
  const result = JOB_CATALOGUE[name].payload.safeParse(data);
  if (result.success) return result.data as JobPayload<Name>;
  const where = result.error.issues.map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.code}`);
  throw new JobPayloadError(name, where);
}

export class JobPayloadError extends Error {
  constructor(name: string, issues: readonly string[]) {
    super(`"${name}" job payload does not match its schema (${issues.join('; ')})`);
    this.name = 'JobPayloadError';
  }
}

export interface JobProducer<Service extends ServiceName> {
  /** Validates and enqueues; returns the job id. Enqueuing the same work twice adds it once. */
  enqueue<Name extends JobsProducedBy<Service>>(
    name: Name,
    payload: JobPayload<Name>,
    options?: { delayMs?: number },
  ): Promise<string>;
  enqueueMany<Name extends JobsProducedBy<Service>>(
    name: Name,
    payloads: readonly JobPayload<Name>[],
  ): Promise<string[]>;
  close(): Promise<void>;
}

export function createJobProducer<Service extends ServiceName>(options: {
  service: Service;
  connection: Redis;
  /** Redis key prefix of the queues (default BullMQ's `bull`). */
  prefix?: string;
  /** Tests only: shorter retry policies than the catalogue's. */
  retryOverrides?: RetryOverrides;
}): JobProducer<Service> {
  const queues = new Map<JobName, Queue>();
  const queueOf = (name: JobName) => {
    const definition = JOB_CATALOGUE[name];
    if (!(definition.producers as readonly ServiceName[]).includes(options.service)) {
      throw new Error(`${options.service} does not produce "${name}" jobs (job catalogue)`);
    }
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(definition.queue, {
        connection: options.connection,
        ...(options.prefix ? { prefix: options.prefix } : {}),
      });
      queues.set(name, queue);
    }
    return queue;
  };
  return {
    async enqueue(name, payload, enqueueOptions = {}) {
      const valid = parsePayload(name, payload);
      const jobOpts = jobOptions(name, valid, options.retryOverrides);
      await queueOf(name).add(name, valid, {
        ...jobOpts,
        ...(enqueueOptions.delayMs ? { delay: enqueueOptions.delayMs } : {}),
      });
      return jobOpts.jobId!;
    },
    async enqueueMany(name, payloads) {
      const jobs = payloads.map((payload) => {
        const valid = parsePayload(name, payload);
        return { name, data: valid, opts: jobOptions(name, valid, options.retryOverrides) };
      });
      await queueOf(name).addBulk(jobs);
      return jobs.map((job) => job.opts.jobId!);
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}

export interface JobWorkers {
  readonly workers: readonly Worker[];
  close(): Promise<void>;
}

/**
 * Starts one BullMQ worker per job type the service consumes, after checking that each has a handler.
 * A payload that fails its schema fails the job for good (no retry can mend it) with a message that
 * names fields, not values. `connection` must be a blocking connection (`createRedis(url, name,
 * { blocking: true })`).
 */
export function startJobWorkers<Service extends ServiceName>(options: {
  service: Service;
  connection: Redis;
  handlers: JobHandlers<Service>;
  logger: Logger;
  concurrency?: Partial<Record<JobsConsumedBy<Service>, number>>;
  prefix?: string;
}): JobWorkers {
  const handlers = options.handlers as unknown as Record<string, JobHandler<JobName>>;
  checkJobHandlers(options.service, handlers);
  const workers = jobsConsumedBy(options.service).map((name) => {
    const handler = handlers[name]!;
    const worker = new Worker(
      JOB_CATALOGUE[name].queue,
      async (job: Job, token?: string) => {
        let payload: JobPayload<JobName>;
        try {
          payload = parsePayload(name, job.data);
        } catch (error) {
          throw new UnrecoverableError((error as Error).message);
        }
        try {
          await handler(payload, job);
        } catch (error) {
          if (!(error instanceof DeferJob)) throw error;
          // Later, without using an attempt: the job was not tried, it was asked to wait.
          await job.moveToDelayed(Date.now() + error.delayMs, token);
          throw new DelayedError();
        }
      },
      {
        connection: options.connection,
        concurrency: (options.concurrency as Record<string, number> | undefined)?.[name] ?? 1,
        ...(options.prefix ? { prefix: options.prefix } : {}),
      },
    );
    worker.on('failed', (job, err) =>
      options.logger.warn(
        {
          job: name,
          jobId: job?.id,
          attempt: job?.attemptsMade,
          err: { name: err.name, message: err.message },
        },
        'job failed',
      ),
    );
    worker.on('error', (err) => options.logger.error({ job: name, err }, 'job worker error'));
    return worker;
  });
  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
