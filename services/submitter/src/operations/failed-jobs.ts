import { JOB_CATALOGUE, type JobName, type Redis } from '@sts/shared';
import { Queue } from 'bullmq';

/** A job that used up its attempts: what an operator needs to judge and re-drive it. */
export interface FailedJob {
  job: JobName;
  id: string;
  failedAt: string | undefined;
  attempts: number;
  /** The last error's message (errors never carry secrets nor patients: see the handlers). */
  reason: string;
  /** The ids the payload carries (tenant, file, submission …): never a document. */
  ids: Record<string, string>;
}

const ID_FIELDS = ['tenantId', 'fileId', 'submissionId', 'targetId', 'credentialId', 'outboxId'] as const;

/**
 * The submitter's failed jobs (each queue's failed set, kept 14 days), and their re-drive: a failed
 * job is retried from the start with its attempts reset. Safe: every handler checks the row's state
 * first, so a job whose work was finished meanwhile does nothing.
 */
export function createFailedJobs(connection: Redis) {
  const names = (Object.keys(JOB_CATALOGUE) as JobName[]).filter(
    (name) => JOB_CATALOGUE[name].consumer === 'submitter',
  );
  const queues = new Map(names.map((name) => [name, new Queue(JOB_CATALOGUE[name].queue, { connection })]));
  const pick = (only?: string) => {
    if (only && !queues.has(only as JobName)) {
      throw new Error(`unknown job type "${only}": one of ${names.join(', ')}`);
    }
    return only ? [only as JobName] : names;
  };
  return {
    async list(only?: string, limit = 100): Promise<FailedJob[]> {
      const failed: FailedJob[] = [];
      for (const name of pick(only)) {
        for (const job of await queues.get(name)!.getFailed(0, limit - 1)) {
          const data = (job.data ?? {}) as Record<string, unknown>;
          failed.push({
            job: name,
            id: job.id ?? '',
            failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
            attempts: job.attemptsMade,
            reason: (job.failedReason ?? '').slice(0, 500),
            ids: Object.fromEntries(
              ID_FIELDS.filter((field) => typeof data[field] === 'string').map((field) => [
                field,
                data[field] as string,
              ]),
            ),
          });
        }
      }
      return failed;
    },
    /** Retries failed jobs (all of a type, or one by id); returns how many. */
    async retry(only?: string, id?: string): Promise<number> {
      let count = 0;
      for (const name of pick(only)) {
        const queue = queues.get(name)!;
        const jobs = id
          ? [await queue.getJob(id)].filter((job) => job !== undefined)
          : await queue.getFailed();
        for (const job of jobs) {
          if (!(await job.isFailed())) continue;
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          count += 1;
        }
      }
      return count;
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
