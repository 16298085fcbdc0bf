import { randomUUID } from 'node:crypto';
import type { DocumentStatus, DocumentStatusEvent, StsMessage } from '@sts/shared';
import type { PoolClient } from 'pg';
import type { DocumentState } from '../documents/documents-table.ts';

type Client = Pick<PoolClient, 'query'>;

/** What the gateway sees of a state: `assigned` is still `queued` to it. */
export const publicStatus = (state: DocumentState): DocumentStatus =>
  state === 'assigned' ? 'queued' : state;

export interface Transition {
  invoiceIds: readonly string[];
  /** Only documents in one of these states move (compare-and-set); the others are left alone. */
  from: readonly DocumentState[];
  to: DocumentState;
  at: Date;
  /** Why, in a stable code (`credential-unusable`, `sts-rejected`, `answer-lost` …). */
  cause?: string | null;
  protocol?: string;
  messages?: StsMessage[];
  fileId?: string | null;
  submissionId?: string | null;
}

export interface Moved {
  invoiceId: string;
  tenantId: string;
  credentialId: string;
  chainKey: string;
  chainSequence: number;
  previous: DocumentState;
}

/**
 * Moves documents from one of `from` to `to` in the caller's transaction and, for each whose status
 * as the gateway sees it changes, writes a status event in the outbox (same transaction): a state
 * and its event are never one without the other. Rows are locked in invoice order (no deadlock
 * between two transitions of overlapping sets). Returns the documents that moved.
 */
export async function transition(client: Client, change: Transition): Promise<Moved[]> {
  if (change.invoiceIds.length === 0) return [];
  const { rows: current } = await client.query<Moved & { stateSequence: number }>(
    `select invoice_id as "invoiceId", tenant_id as "tenantId", credential_id as "credentialId",
            chain_key as "chainKey", chain_sequence as "chainSequence", state as previous,
            state_sequence as "stateSequence"
       from submitter.documents
      where invoice_id = any($1::uuid[]) and state = any($2::text[])
      order by invoice_id
        for update`,
    [change.invoiceIds, change.from],
  );
  if (current.length === 0) return [];
  const toPublic = publicStatus(change.to);
  const announced = current.filter((row) => publicStatus(row.previous) !== toPublic);
  const announcedIds = new Set(announced.map((row) => row.invoiceId));
  await client.query(
    `update submitter.documents
        set state = $2::text,
            state_sequence = state_sequence + case when invoice_id = any($3::uuid[]) then 1 else 0 end,
            cause = case when $4::boolean then $5 else cause end,
            protocol = coalesce($6, protocol),
            messages = coalesce($7::jsonb, messages),
            file_id = case when $8::boolean then $9::uuid else file_id end,
            submission_id = case when $10::boolean then $11::uuid else submission_id end,
            submitting_since = case when $2 = 'submitting' then $12::timestamptz else null end,
            updated_at = $12::timestamptz
      where invoice_id = any($1::uuid[])`,
    [
      current.map((row) => row.invoiceId),
      change.to,
      [...announcedIds],
      change.cause !== undefined,
      change.cause ?? null,
      change.protocol ?? null,
      change.messages ? JSON.stringify(change.messages) : null,
      change.fileId !== undefined,
      change.fileId ?? null,
      change.submissionId !== undefined,
      change.submissionId ?? null,
      change.at,
    ],
  );
  if (announced.length > 0) {
    const events: DocumentStatusEvent[] = announced.map((row) => ({
      eventId: randomUUID(),
      tenantId: row.tenantId,
      invoiceId: row.invoiceId,
      status: toPublic,
      sequence: row.stateSequence + 1,
      at: change.at.toISOString(),
      ...(change.cause ? { cause: change.cause } : {}),
      ...(change.protocol ? { protocol: change.protocol } : {}),
      ...(change.messages?.length ? { messages: change.messages.slice(0, 100) } : {}),
    }));
    await client.query(
      `insert into submitter.status_outbox (id, payload, created_at)
       select (e->>'eventId')::uuid, e, $2 from jsonb_array_elements($1::jsonb) as e`,
      [JSON.stringify(events), change.at],
    );
  }
  return current.map(({ stateSequence: _, ...row }) => row);
}
