import type { PoolClient } from 'pg';

type Client = Pick<PoolClient, 'query'>;

// The queued operation that follows another on the same document: chain_sequence one higher. Every
// chain begins at 1 (the gateway numbers a document's operations from 1, the documents.accepted
// schema refuses less), so a successor's chain_sequence is always > 1; saying so lets the planner
// read the few queued successors from their partial index `documents_queued_successors` instead of
// every queued row, which a big import makes hundreds of thousands (docs/decisions.md).
const SUCCESSORS = `select distinct n.credential_id as "credentialId"
   from submitter.documents d
   join submitter.documents n on n.tenant_id = d.tenant_id and n.chain_key = d.chain_key
                              and n.chain_sequence = d.chain_sequence + 1
  where n.state = 'queued' and n.chain_sequence > 1`;

/** The credentials of the queued operations that follow the documents of a file (their next turn). */
export async function successorCredentialsOfFile(client: Client, fileId: string): Promise<string[]> {
  const { rows } = await client.query<{ credentialId: string }>(`${SUCCESSORS} and d.file_id = $1`, [fileId]);
  return rows.map((row) => row.credentialId);
}

/** The credential of the queued operation that follows this document's, if any. */
export async function successorCredentialOf(client: Client, invoiceId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ credentialId: string }>(`${SUCCESSORS} and d.invoice_id = $1`, [
    invoiceId,
  ]);
  return rows[0]?.credentialId;
}
