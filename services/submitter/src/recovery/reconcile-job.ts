import { JOB_CATALOGUE, type JobPayload, type JobProducer } from '@sts/shared';
import type { Queue } from 'bullmq';

/** Where a send's `send.reconcile` job stands in its queue (`none`: not there, or gone). */
export type ReconcileJobState =
  | 'none'
  | 'waiting'
  | 'delayed'
  | 'active'
  | 'completed'
  | 'failed'
  | 'prioritized'
  | 'waiting-children'
  | 'unknown';

export interface ReconcileJob {
  jobId: string;
  state: ReconcileJobState;
  /** Attempts its job made so far (each asked the STS, or failed to). */
  attempts: number;
  /** The last error of a job that failed or is waiting to retry. */
  reason?: string;
}

/** What asking for reconciliation did to one send's job. */
export type ReconcileAction =
  /** Not queued (or its job completed before the send turned uncertain again): enqueued now. */
  | 'enqueued'
  /** Waiting for a retry (backoff) or for pacing: moved to run now. */
  | 'promoted'
  /** Failed (attempts used up): re-driven from its first attempt. */
  | 'retried'
  /** Already waiting or running (or, for the sweeper, waiting for its retry): left as it is. */
  | 'already-queued'
  /** Failed, and the caller (the sweeper) leaves failed jobs to operators: left failed. */
  | 'left-failed';

/** The `send-reconcile` queue, as narrow as reading a job takes. */
export type ReconcileQueue = Pick<Queue, 'getJob'>;

export interface ReconcilePolicy {
  /** A failed job: re-driven from its first attempt (operators), or left failed (the sweeper). */
  failed: 'retry' | 'leave';
  /** A job waiting for its retry: run now (operators), or left to run when due (the sweeper). */
  delayed: 'promote' | 'leave';
}

/** What the operator command does: everything runs now, a failed job too. */
export const OPERATOR_POLICY: ReconcilePolicy = { failed: 'retry', delayed: 'promote' };
/**
 * What the sweeper does, every few seconds and unattended: a failed job stays failed (20 attempts
 * over hours already asked the STS; retrying it on its own would be a loop nobody sees, while
 * failed it is listed by `jobs failed` and `documents uncertain`), and a job waiting for its retry
 * runs when its backoff ends, as BullMQ would run it anyway.
 */
export const SWEEPER_POLICY: ReconcilePolicy = { failed: 'leave', delayed: 'leave' };

/** A send's reconcile job and where it stands (the catalogue's job id). */
export async function reconcileJobOf(queue: ReconcileQueue, payload: JobPayload<'send.reconcile'>) {
  const jobId = JOB_CATALOGUE['send.reconcile'].jobId(payload);
  const job = await queue.getJob(jobId);
  // BullMQ says `unknown` of a job it does not hold (removed between the two calls).
  const state = job ? ((await job.getState()) as ReconcileJobState) : 'none';
  const reconcile: ReconcileJob = {
    jobId,
    state: state === 'unknown' ? 'none' : state,
    attempts: job?.attemptsMade ?? 0,
    ...(job?.failedReason ? { reason: job.failedReason.slice(0, 300) } : {}),
  };
  return { job, reconcile };
}

/**
 * Reconciliation asked for one uncertain send, whatever its job's state: BullMQ keeps a completed
 * job a day and a failed one 14 days under its id, and while it does a plain enqueue under that id
 * is no job at all. A waiting or running job is left alone (never doubled); a completed one (it ran
 * while the send was not uncertain yet, or before it turned uncertain again) is removed and queued
 * again under the same id; a missing one is enqueued; failed and delayed ones as `policy` says.
 * Shared by the sweeper and the operator command (src/operations/uncertain-documents.ts).
 */
export async function requestReconcile(
  deps: { queue: ReconcileQueue; producer: Pick<JobProducer<'submitter'>, 'enqueue'> },
  payload: JobPayload<'send.reconcile'>,
  policy: ReconcilePolicy,
): Promise<ReconcileAction> {
  const { job, reconcile } = await reconcileJobOf(deps.queue, payload);
  switch (reconcile.state) {
    case 'failed':
      if (policy.failed === 'leave') return 'left-failed';
      await job!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return 'retried';
    case 'delayed':
      if (policy.delayed === 'leave') return 'already-queued';
      try {
        await job!.promote();
        return 'promoted';
      } catch {
        return 'already-queued'; // it left the delayed set meanwhile: it is running or waiting
      }
    case 'completed':
      try {
        await job!.remove();
      } catch {
        // Another replica's sweep (or an operator) removed it first and its new job is running
        // (locked): that one reconciles the send.
        if ((await reconcileJobOf(deps.queue, payload)).reconcile.state !== 'none') return 'already-queued';
      }
      await deps.producer.enqueue('send.reconcile', payload);
      return 'enqueued';
    case 'none':
      await deps.producer.enqueue('send.reconcile', payload);
      return 'enqueued';
    default:
      return 'already-queued';
  }
}
