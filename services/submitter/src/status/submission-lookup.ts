import type { Pool } from '@sts/shared';

/** Whether a send of this tenant (a 730 file, or a single-document send) has this protocol. */
export async function isKnownProtocol(pool: Pool, tenantId: string, protocol: string): Promise<boolean> {
  const { rows } = await pool.query(
    `select 1 from submitter.files where tenant_id = $1 and protocol = $2
     union all
     select 1 from submitter.documents where tenant_id = $1 and protocol = $2 and file_id is null
     limit 1`,
    [tenantId, protocol],
  );
  return rows.length > 0;
}

/**
 * For a known send without the proof asked for: still to come (a file not yet completed) or never
 * (a single-document send has no receipt nor errors file; a completed file without errors has no
 * errors file).
 */
export async function missingProof(
  pool: Pool,
  tenantId: string,
  protocol: string,
  kind: 'receipt' | 'errors' | 'sent-zip',
): Promise<{ state: 'pending'; retryAfterSeconds?: number } | { state: 'none' }> {
  const { rows } = await pool.query<{ state: string }>(
    'select state from submitter.files where tenant_id = $1 and protocol = $2 limit 1',
    [tenantId, protocol],
  );
  const file = rows[0];
  if (!file) return { state: 'none' };
  if (file.state === 'completed' || file.state === 'rejected') return { state: 'none' };
  return kind === 'sent-zip' ? { state: 'none' } : { state: 'pending', retryAfterSeconds: 60 };
}
