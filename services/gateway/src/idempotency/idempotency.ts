import { createHmac } from 'node:crypto';
import { ProblemError } from '@sts/shared';
import type { PoolClient } from 'pg';
import { lockNumber } from '../invoices/document-keys.ts';

type Client = Pick<PoolClient, 'query'>;

/** The `Idempotency-Key` header: 1–255 visible ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** A record left `in_flight` this long (a gateway that crashed mid-stream) may be taken over. */
export const ABANDONED_AFTER_MS = 15 * 60_000;

/** A stored answer, replayed for the same key and the same request. */
export interface StoredAnswer {
  statusCode: number;
  body: unknown;
}

export type IdempotencyCheck =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  /** Only for streamed requests, whose hash is known at the end: compare it then. */
  | { kind: 'completed'; requestHash: Buffer; answer: StoredAnswer };

export const keyInFlight = () =>
  new ProblemError({
    status: 409,
    type: 'idempotency-key-in-flight',
    title: 'A request with this Idempotency-Key is in progress',
    detail:
      'Another request with this Idempotency-Key is still being processed: wait for its answer, then retry.',
  });
export const keyReused = () =>
  new ProblemError({
    status: 422,
    type: 'idempotency-key-reused',
    title: 'Idempotency-Key reused with another request',
    detail:
      'This Idempotency-Key was used for a request with another body or route. Use a new key for a new request.',
    errors: [
      { field: 'idempotency-key', rule: 'same-request', message: 'A key stands for one request only.' },
    ],
  });

/** The request's fingerprint: keyed, because an invoice body holds a patient's codice fiscale. */
export const requestHasher = (key: Buffer) => ({
  start: (route: string) => createHmac('sha256', key).update(`idempotency\0${route}\0`),
});

/**
 * Looks the key up inside the caller's transaction, holding a transaction lock on it so that two
 * requests with one key never both run: the second gets 409 while the first is in flight.
 */
export async function checkIdempotencyKey(
  client: Client,
  tenantId: string,
  key: string,
  requestHash: Buffer | undefined,
  now: Date,
): Promise<IdempotencyCheck> {
  const lock = lockNumber(tenantId, `idempotency\0${key}`);
  const { rows: locked } = await client.query<{ locked: boolean }>(
    'select pg_try_advisory_xact_lock($1) as locked',
    [String(lock)],
  );
  if (!locked[0]?.locked) throw keyInFlight();
  const { rows } = await client.query<{
    state: 'in_flight' | 'done';
    request_hash: Buffer | null;
    status_code: number | null;
    response: unknown;
    created_at: Date;
  }>(
    'select state, request_hash, status_code, response, created_at from gateway.idempotency_keys where tenant_id = $1 and key = $2',
    [tenantId, key],
  );
  const row = rows[0];
  if (!row) return { kind: 'new' };
  if (row.state === 'in_flight') {
    if (now.getTime() - row.created_at.getTime() < ABANDONED_AFTER_MS) throw keyInFlight();
    await client.query('delete from gateway.idempotency_keys where tenant_id = $1 and key = $2', [
      tenantId,
      key,
    ]);
    return { kind: 'new' };
  }
  const answer = { statusCode: row.status_code!, body: row.response };
  if (requestHash === undefined) return { kind: 'completed', requestHash: row.request_hash!, answer };
  if (!row.request_hash?.equals(requestHash)) throw keyReused();
  return { kind: 'replay', answer };
}

export async function storeAnswer(
  client: Client,
  record: { tenantId: string; key: string; requestHash: Buffer; answer: StoredAnswer; now: Date },
): Promise<void> {
  await client.query(
    `insert into gateway.idempotency_keys (tenant_id, key, request_hash, state, status_code, response, created_at, completed_at)
     values ($1, $2, $3, 'done', $4, $5, $6, $6)
     on conflict (tenant_id, key) do update
        set request_hash = excluded.request_hash, state = 'done', status_code = excluded.status_code,
            response = excluded.response, completed_at = excluded.completed_at`,
    [
      record.tenantId,
      record.key,
      record.requestHash,
      record.answer.statusCode,
      JSON.stringify(record.answer.body),
      record.now,
    ],
  );
}

/** Marks a streamed request's key as taken (committed at once, so a second request sees it). */
export async function markInFlight(client: Client, tenantId: string, key: string, now: Date): Promise<void> {
  await client.query(
    `insert into gateway.idempotency_keys (tenant_id, key, state, created_at) values ($1, $2, 'in_flight', $3)`,
    [tenantId, key, now],
  );
}

export async function releaseInFlight(client: Client, tenantId: string, key: string): Promise<void> {
  await client.query(
    `delete from gateway.idempotency_keys where tenant_id = $1 and key = $2 and state = 'in_flight'`,
    [tenantId, key],
  );
}
