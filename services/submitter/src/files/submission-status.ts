import type { Pool, SubmissionState, SubmissionStatus } from '@sts/shared';

interface Counts {
  credentialId: string;
  total: number;
  accepted: number;
  acceptedWithWarnings: number;
  rejected: number;
}

const COUNTS = `count(d.invoice_id)::int as total,
  (count(*) filter (where d.state = 'accepted'))::int as accepted,
  (count(*) filter (where d.state = 'accepted_with_warnings'))::int as "acceptedWithWarnings",
  (count(*) filter (where d.state = 'rejected'))::int as rejected`;

const documentsOf = (counts: Counts): SubmissionStatus['documents'] => ({
  total: counts.total,
  accepted: counts.accepted,
  acceptedWithWarnings: counts.acceptedWithWarnings,
  rejected: counts.rejected,
  pending: counts.total - counts.accepted - counts.acceptedWithWarnings - counts.rejected,
});

/**
 * How the send of this tenant with this protocol is doing (contract:
 * packages/shared/src/contracts/submission-status.ts), or null when it has none.
 *
 * - A 730 file: its state (`received`, then `completed` or `rejected`: a file holds a protocol only
 *   from `received` on), `sent_at` (the upload that got the protocol), the time its final state was
 *   recorded (`updated_at`, which nothing changes after), and its documents' outcomes.
 * - A single-document send (a document sent alone, `file_id` null, with the protocol of its
 *   answer): `completed` once answered (it holds a protocol only then), sent when its answer was
 *   kept as proof (none when reconciliation found it at the STS), completed when its final state
 *   was recorded.
 */
export async function submissionStatus(
  pool: Pool,
  tenantId: string,
  protocol: string,
): Promise<SubmissionStatus | null> {
  const { rows: files } = await pool.query<Counts & { state: string; sentAt: Date | null; updatedAt: Date }>(
    `select f.credential_id as "credentialId", f.state, f.sent_at as "sentAt", f.updated_at as "updatedAt",
            ${COUNTS}
       from submitter.files f
       left join submitter.documents d on d.file_id = f.id
      where f.tenant_id = $1 and f.protocol = $2
      group by f.id
      order by f.created_at desc
      limit 1`,
    [tenantId, protocol],
  );
  const file = files[0];
  if (file) {
    const state: SubmissionState =
      file.state === 'completed' ? 'completed' : file.state === 'rejected' ? 'rejected' : 'received';
    return {
      protocol,
      credentialId: file.credentialId,
      state,
      sentAt: file.sentAt?.toISOString() ?? null,
      completedAt: state === 'received' ? null : file.updatedAt.toISOString(),
      documents: documentsOf(file),
    };
  }
  const { rows: singles } = await pool.query<Counts & { completedAt: Date | null; sentAt: Date | null }>(
    `select min(d.credential_id::text) as "credentialId", ${COUNTS},
            case when bool_and(d.state in ('accepted', 'accepted_with_warnings', 'rejected'))
                 then max(d.updated_at) end as "completedAt",
            (select min(p.created_at) from submitter.proofs p
              where p.tenant_id = $1 and p.protocol = $2 and p.kind = 'single-document-answer') as "sentAt"
       from submitter.documents d
      where d.tenant_id = $1 and d.protocol = $2 and d.file_id is null
     having count(*) > 0`,
    [tenantId, protocol],
  );
  const single = singles[0];
  if (!single) return null;
  return {
    protocol,
    credentialId: single.credentialId,
    state: single.completedAt ? 'completed' : 'received',
    sentAt: single.sentAt?.toISOString() ?? null,
    completedAt: single.completedAt?.toISOString() ?? null,
    documents: documentsOf(single),
  };
}
