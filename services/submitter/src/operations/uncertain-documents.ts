import {
  type Clock,
  createJobProducer,
  JOB_CATALOGUE,
  type JobPayload,
  type Pool,
  type Redis,
  systemClock,
} from '@sts/shared';
import { Queue } from 'bullmq';
import {
  findUncertainSends,
  reconcilePayload,
  reconcileUncertain,
  type UncertainFilter,
  type UncertainSend,
} from '../recovery/uncertain-sends.ts';

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

/** One uncertain send as an operator sees it. */
export interface UncertainEntry {
  target: 'file' | 'submission';
  targetId: string;
  tenantId: string;
  credentialId: string;
  invoiceId?: string;
  documents: number;
  /** The send being reconciled: a file's send attempt (1, 2 …); 1 for a single send. */
  sendAttempt: number;
  uncertainSince: string;
  ageSeconds: number;
  reconcile: ReconcileJob;
}

export interface CredentialCount {
  credentialId: string;
  tenantId: string;
  /** Documents in state `uncertain` (in uncertain files or single sends). */
  documents: number;
  files: number;
  singleSends: number;
  oldestSince: string;
}

export interface UncertainReport {
  at: string;
  sends: UncertainEntry[];
  perCredential: CredentialCount[];
}

/** What asking for reconciliation did to one send's job. */
export type ReconcileAction =
  /** Not queued: enqueued now. */
  | 'enqueued'
  /** Waiting for a retry (backoff) or for pacing: moved to run now. */
  | 'promoted'
  /** Failed (attempts used up): re-driven from its first attempt. */
  | 'retried'
  /** Already waiting or running: left as it is (not doubled). */
  | 'already-queued';

export interface ReconcileReport {
  at: string;
  requested: (UncertainEntry & { action: ReconcileAction })[];
  /**
   * Documents named with `--document` that no reconciliation was asked for: not uncertain (their
   * state, or `unknown` when the submitter has no such document), or uncertain in a file that is not.
   */
  skipped: { invoiceId: string; state: string }[];
}

const SINCE = (since: Date) => since.toISOString();

/**
 * Uncertain documents for operators (src/cli.ts `documents uncertain|reconcile`): the sends whose
 * answer was lost, with their reconcile job, and reconciliation asked for now. Asking goes through
 * the sweeper's own step (`reconcileUncertain`, src/recovery/uncertain-sends.ts) with the catalogue's
 * job id, so a reconcile already queued is never doubled: a waiting or running job is left alone, a
 * job waiting for a retry runs now, a failed one is re-driven from its first attempt, a missing one
 * (lost, or finished before the send turned uncertain again) is enqueued.
 */
export function createUncertainDocuments(deps: { pool: Pool; redis: Redis; clock?: Clock }) {
  const clock = deps.clock ?? systemClock;
  const producer = createJobProducer({ service: 'submitter', connection: deps.redis });
  const queue = new Queue(JOB_CATALOGUE['send.reconcile'].queue, { connection: deps.redis });
  const jobIdOf = (payload: JobPayload<'send.reconcile'>) => JOB_CATALOGUE['send.reconcile'].jobId(payload);

  async function jobOf(payload: JobPayload<'send.reconcile'>) {
    const jobId = jobIdOf(payload);
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

  const entryOf = (send: UncertainSend, reconcile: ReconcileJob, now: Date): UncertainEntry => ({
    target: send.target,
    targetId: send.targetId,
    tenantId: send.tenantId,
    credentialId: send.credentialId,
    ...(send.invoiceId ? { invoiceId: send.invoiceId } : {}),
    documents: send.documents,
    sendAttempt: send.attempt,
    uncertainSince: SINCE(send.since),
    ageSeconds: Math.max(0, Math.round((now.getTime() - send.since.getTime()) / 1000)),
    reconcile,
  });

  /** Asks for one send's reconciliation now; what it did, and the job as it is after. */
  async function requestNow(payload: JobPayload<'send.reconcile'>) {
    const { job, reconcile } = await jobOf(payload);
    let action: ReconcileAction;
    switch (reconcile.state) {
      case 'failed':
        await job!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        action = 'retried';
        break;
      case 'delayed':
        try {
          await job!.promote();
          action = 'promoted';
        } catch {
          action = 'already-queued'; // it left the delayed set meanwhile: it is running or waiting
        }
        break;
      case 'completed':
        // It ran while the send was not uncertain (yet): that id is spent, and BullMQ would take a
        // new job under it for the finished one. Removed, then queued again under the same id.
        await job!.remove();
        await producer.enqueue('send.reconcile', payload);
        action = 'enqueued';
        break;
      case 'none':
        await producer.enqueue('send.reconcile', payload);
        action = 'enqueued';
        break;
      default:
        action = 'already-queued';
    }
    return { action, reconcile: (await jobOf(payload)).reconcile };
  }

  return {
    async list(filter: Pick<UncertainFilter, 'credentialId'> = {}): Promise<UncertainReport> {
      const now = clock();
      const sends: UncertainEntry[] = [];
      for (const send of await findUncertainSends(deps.pool, filter))
        sends.push(entryOf(send, (await jobOf(reconcilePayload(send))).reconcile, now));
      const { rows } = await deps.pool.query<{
        credentialId: string;
        tenantId: string;
        documents: number;
        singleSends: number;
        oldestSince: Date;
      }>(
        `select credential_id as "credentialId", tenant_id as "tenantId", count(*)::int as documents,
                (count(*) filter (where file_id is null))::int as "singleSends", min(updated_at) as "oldestSince"
           from submitter.documents
          where state = 'uncertain' and ($1::uuid is null or credential_id = $1)
          group by credential_id, tenant_id
          order by credential_id, tenant_id`,
        [filter.credentialId ?? null],
      );
      const files = new Map<string, number>();
      for (const send of sends)
        if (send.target === 'file') {
          const key = `${send.credentialId} ${send.tenantId}`;
          files.set(key, (files.get(key) ?? 0) + 1);
        }
      return {
        at: now.toISOString(),
        sends,
        perCredential: rows.map((row) => ({
          credentialId: row.credentialId,
          tenantId: row.tenantId,
          documents: row.documents,
          files: files.get(`${row.credentialId} ${row.tenantId}`) ?? 0,
          singleSends: row.singleSends,
          oldestSince: SINCE(row.oldestSince),
        })),
      };
    },

    /** Reconciliation now for the uncertain sends of a credential, of some documents, or all. */
    async reconcile(
      filter: Pick<UncertainFilter, 'credentialId' | 'invoiceIds'> = {},
    ): Promise<ReconcileReport> {
      const now = clock();
      const done = await reconcileUncertain({ pool: deps.pool, enqueue: requestNow }, filter);
      const skipped: ReconcileReport['skipped'] = [];
      if (filter.invoiceIds?.length) {
        const { rows } = await deps.pool.query<{ invoiceId: string; state: string; sendId: string | null }>(
          `select invoice_id as "invoiceId", state, coalesce(file_id, submission_id) as "sendId"
             from submitter.documents where invoice_id = any($1::uuid[])`,
          [filter.invoiceIds],
        );
        const found = new Map(rows.map((row) => [row.invoiceId, row]));
        const asked = new Set(done.map(({ send }) => send.targetId));
        for (const invoiceId of new Set(filter.invoiceIds)) {
          const row = found.get(invoiceId);
          if (!row?.sendId || !asked.has(row.sendId))
            skipped.push({ invoiceId, state: row?.state ?? 'unknown' });
        }
      }
      return {
        at: now.toISOString(),
        requested: done.map(({ send, result }) => ({
          ...entryOf(send, result.reconcile, now),
          action: result.action,
        })),
        skipped,
      };
    },

    async close() {
      await Promise.all([producer.close(), queue.close()]);
    },
  };
}
