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
  OPERATOR_POLICY,
  type ReconcileAction,
  type ReconcileJob,
  reconcileJobOf,
  requestReconcile,
} from '../recovery/reconcile-job.ts';
import {
  findUncertainSends,
  reconcilePayload,
  reconcileUncertain,
  type UncertainFilter,
  type UncertainSend,
} from '../recovery/uncertain-sends.ts';

export type { ReconcileAction, ReconcileJob, ReconcileJobState } from '../recovery/reconcile-job.ts';

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
 * the sweeper's own step (`reconcileUncertain`, src/recovery/uncertain-sends.ts) and job handling
 * (`requestReconcile`, src/recovery/reconcile-job.ts) with the catalogue's job id, so a reconcile
 * already queued is never doubled: a waiting or running job is left alone, a job waiting for a retry
 * runs now, a failed one is re-driven from its first attempt (the sweeper leaves those to operators),
 * a missing one (lost, or finished before the send turned uncertain again) is enqueued.
 */
export function createUncertainDocuments(deps: { pool: Pool; redis: Redis; clock?: Clock }) {
  const clock = deps.clock ?? systemClock;
  const producer = createJobProducer({ service: 'submitter', connection: deps.redis });
  const queue = new Queue(JOB_CATALOGUE['send.reconcile'].queue, { connection: deps.redis });
  const jobOf = (payload: JobPayload<'send.reconcile'>) => reconcileJobOf(queue, payload);

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
    const action = await requestReconcile({ queue, producer }, payload, OPERATOR_POLICY);
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
