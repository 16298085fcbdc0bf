import type { JobPayload, Pool } from '@sts/shared';

/**
 * A send whose answer was lost (`uncertain`), the unit reconciliation works on: a 730 file (every
 * document of it waits on it) or a single-document send (one document).
 */
export interface UncertainSend {
  target: 'file' | 'submission';
  /** The file's id, or the single send's submission id. */
  targetId: string;
  tenantId: string;
  credentialId: string;
  /** The send being reconciled: the file's send attempt (a file may be sent more than once); 1 for a single send. */
  attempt: number;
  /** The documents waiting on it. */
  documents: number;
  /** A single send's document (the gateway's invoice id); absent for a file. */
  invoiceId?: string;
  /** When it became uncertain (its last change). */
  since: Date;
}

export interface UncertainFilter {
  /** Only sends uncertain since before this (the sweeper leaves the newest to their own job). */
  updatedBefore?: Date;
  credentialId?: string;
  /** Only the sends these documents (invoice ids) are part of. */
  invoiceIds?: readonly string[];
}

/** The `send.reconcile` job of a send, as the catalogue keys it (target, id, attempt). */
export const reconcilePayload = (send: UncertainSend): JobPayload<'send.reconcile'> => ({
  tenantId: send.tenantId,
  target: send.target,
  targetId: send.targetId,
  attempt: send.attempt,
});

/** The uncertain sends, files first, oldest first in each. */
export async function findUncertainSends(pool: Pool, filter: UncertainFilter = {}): Promise<UncertainSend[]> {
  const params = [filter.updatedBefore ?? null, filter.credentialId ?? null, filter.invoiceIds ?? null];
  const { rows: files } = await pool.query<Omit<UncertainSend, 'target'>>(
    `select f.id as "targetId", f.tenant_id as "tenantId", f.credential_id as "credentialId",
            f.send_attempt as attempt, f.document_count as documents, f.updated_at as since
       from submitter.files f
      where f.state = 'uncertain'
        and ($1::timestamptz is null or f.updated_at < $1)
        and ($2::uuid is null or f.credential_id = $2)
        and ($3::uuid[] is null or f.id in (select file_id from submitter.documents where invoice_id = any($3::uuid[])))
      order by f.updated_at, f.id`,
    params,
  );
  const { rows: singles } = await pool.query<Omit<UncertainSend, 'target'>>(
    `select d.submission_id as "targetId", d.tenant_id as "tenantId", d.credential_id as "credentialId",
            1 as attempt, 1 as documents, d.invoice_id as "invoiceId", d.updated_at as since
       from submitter.documents d
      where d.state = 'uncertain' and d.file_id is null and d.submission_id is not null
        and ($1::timestamptz is null or d.updated_at < $1)
        and ($2::uuid is null or d.credential_id = $2)
        and ($3::uuid[] is null or d.invoice_id = any($3::uuid[]))
      order by d.updated_at, d.invoice_id`,
    params,
  );
  return [
    ...files.map((row) => ({ target: 'file' as const, ...row })),
    ...singles.map((row) => ({ target: 'submission' as const, ...row })),
  ];
}

/**
 * Reconciliation asked for every uncertain send the filter picks: its `send.reconcile` job handed to
 * `enqueue` (job id from the catalogue, so a send already queued is not queued twice). The sweeper
 * calls it for sends uncertain for a while (their job may have been lost with Redis's data, or its
 * enqueue failed after the state change); operators call it through the CLI
 * (src/operations/uncertain-documents.ts). Returns each send with what `enqueue` answered.
 */
export async function reconcileUncertain<Result>(
  deps: {
    pool: Pool;
    enqueue: (payload: JobPayload<'send.reconcile'>, send: UncertainSend) => Promise<Result>;
  },
  filter: UncertainFilter = {},
): Promise<{ send: UncertainSend; result: Result }[]> {
  const done: { send: UncertainSend; result: Result }[] = [];
  for (const send of await findUncertainSends(deps.pool, filter))
    done.push({ send, result: await deps.enqueue(reconcilePayload(send), send) });
  return done;
}
