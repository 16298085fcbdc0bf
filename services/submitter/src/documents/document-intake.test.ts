import { randomUUID } from 'node:crypto';
import { createPool, documentStatusEventSchema, type Pool } from '@sts/shared';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  acceptedPayload,
  documentRows,
  expenseDocument,
  outboxEvents,
} from '../../test-support/documents.ts';
import { takeInDocuments } from './document-intake.ts';

const database = useTestDatabase();

describe('intake of documents.accepted', () => {
  let pool: Pool;
  const clock = testClock('2026-01-15T09:00:00Z');
  const tenantId = randomUUID();
  const [first, second] = [randomUUID(), randomUUID()];

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'submitter-intake-test' });
  });
  afterAll(async () => {
    await pool.end();
  });
  beforeEach(async () => {
    await pool.query('delete from submitter.status_outbox');
  });

  it('makes each document a queued row announced `queued`, and names the credentials with new work', async () => {
    const payload = acceptedPayload(tenantId, [
      { credentialId: first, document: expenseDocument(1) },
      { credentialId: first, document: expenseDocument(2) },
      { credentialId: second, document: expenseDocument(3, { operation: 'update' }), sequence: 2 },
    ]);
    const result = await takeInDocuments({ pool, clock }, payload);
    expect(result.inserted).toBe(3);
    expect(result.credentials.sort()).toEqual([first, second].sort());

    const ids = payload.documents.map((document) => document.invoiceId);
    const { rows } = await pool.query(
      `select invoice_id as "invoiceId", tenant_id as "tenantId", credential_id as "credentialId",
              chain_key as "chainKey", chain_sequence as "chainSequence", operation, document, state,
              state_sequence as "stateSequence", received_at as "receivedAt"
         from submitter.documents where invoice_id = any($1::uuid[]) order by chain_sequence, invoice_id`,
      [ids],
    );
    const update = rows.find((row) => row.invoiceId === ids[2]);
    expect(update).toEqual({
      invoiceId: ids[2],
      tenantId,
      credentialId: second,
      chainKey: payload.documents[2]!.documentKey,
      chainSequence: 2,
      operation: 'update',
      document: payload.documents[2]!.document,
      state: 'queued',
      stateSequence: 1,
      receivedAt: clock(),
    });
    const events = await outboxEvents(pool);
    expect(events.map((event) => event.invoiceId).sort()).toEqual([...ids].sort());
    for (const event of events) {
      expect(documentStatusEventSchema.parse(event)).toEqual(event);
      expect(event).toMatchObject({ tenantId, status: 'queued', sequence: 1, at: clock().toISOString() });
    }
  });

  it('a repeated payload inserts nothing new and emits no second `queued` event', async () => {
    const payload = acceptedPayload(tenantId, [
      { credentialId: first, document: expenseDocument(10) },
      { credentialId: first, document: expenseDocument(11) },
    ]);
    await takeInDocuments({ pool, clock }, payload);
    const ids = payload.documents.map((document) => document.invoiceId);
    await pool.query(`update submitter.documents set state = 'assigned' where invoice_id = $1`, [ids[0]]);
    const before = await documentRows(pool, ids);
    await pool.query('delete from submitter.status_outbox');

    clock.advance(60_000);
    expect(await takeInDocuments({ pool, clock }, payload)).toEqual({ inserted: 0, credentials: [] });
    expect(await outboxEvents(pool)).toEqual([]);
    expect(await documentRows(pool, ids)).toEqual(before);
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from submitter.documents where invoice_id = any($1::uuid[])',
      [ids],
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('a payload repeating some documents and bringing new ones takes only the new ones', async () => {
    const known = acceptedPayload(tenantId, [{ credentialId: first, document: expenseDocument(20) }]);
    await takeInDocuments({ pool, clock }, known);
    await pool.query('delete from submitter.status_outbox');
    const fresh = acceptedPayload(tenantId, [{ credentialId: second, document: expenseDocument(21) }]);
    const mixed = { ...fresh, documents: [...known.documents, ...fresh.documents] };
    expect(await takeInDocuments({ pool, clock }, mixed)).toEqual({ inserted: 1, credentials: [second] });
    expect((await outboxEvents(pool)).map((event) => event.invoiceId)).toEqual([
      fresh.documents[0]!.invoiceId,
    ]);
  });
});
