import { randomUUID } from 'node:crypto';
import { createPool, documentStatusEventSchema, inTransaction, type Pool } from '@sts/shared';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  acceptedPayload,
  documentRows,
  expenseDocument,
  outboxEvents,
} from '../../test-support/documents.ts';
import { transition } from '../status/document-transitions.ts';
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

  it('a repeated payload inserts nothing new and announces each document’s current status again', async () => {
    const payload = acceptedPayload(tenantId, [
      { credentialId: first, document: expenseDocument(10) },
      { credentialId: first, document: expenseDocument(11) },
    ]);
    const takenAt = clock();
    await takeInDocuments({ pool, clock }, payload);
    const ids = payload.documents.map((document) => document.invoiceId);
    await pool.query(`update submitter.documents set state = 'assigned' where invoice_id = $1`, [ids[0]]);
    const before = await documentRows(pool, ids);
    await pool.query('delete from submitter.status_outbox');

    clock.advance(60_000);
    expect(await takeInDocuments({ pool, clock }, payload)).toEqual({
      inserted: 0,
      reannounced: 2,
      credentials: [],
    });
    const events = await outboxEvents(pool);
    // `assigned` is `queued` to the gateway; the sequence and time of the change it repeats.
    expect(events.map((event) => [event.invoiceId, event.status, event.sequence]).sort()).toEqual(
      [
        [ids[0], 'queued', 1],
        [ids[1], 'queued', 1],
      ].sort(),
    );
    for (const event of events) {
      expect(documentStatusEventSchema.parse(event)).toEqual(event);
      expect(event).toMatchObject({ tenantId, reannounced: true, at: takenAt.toISOString() });
    }
    expect(await documentRows(pool, ids)).toEqual(before);
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from submitter.documents where invoice_id = any($1::uuid[])',
      [ids],
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('a document handed over again after it went final is announced with its final status, unchanged', async () => {
    const payload = acceptedPayload(tenantId, [{ credentialId: first, document: expenseDocument(30) }]);
    await takeInDocuments({ pool, clock }, payload);
    const [id] = payload.documents.map((document) => document.invoiceId) as [string];
    clock.advance(5_000);
    const finalAt = clock();
    const messages = [{ code: 'W008', kind: 'warning' as const, text: 'DATA PAGAMENTO TARDIVA' }];
    await inTransaction(pool, async (client) => {
      await transition(client, { invoiceIds: [id], from: ['queued'], to: 'assigned', at: finalAt });
      await transition(client, { invoiceIds: [id], from: ['assigned'], to: 'submitting', at: finalAt });
      await transition(client, {
        invoiceIds: [id],
        from: ['submitting'],
        to: 'accepted_with_warnings',
        at: finalAt,
        cause: 'sts-accepted',
        protocol: '26011509000012345',
        messages,
      });
    });
    const before = await documentRows(pool, [id]);
    expect(before.get(id)).toMatchObject({ state: 'accepted_with_warnings', stateSequence: 3 });
    await pool.query('delete from submitter.status_outbox');

    clock.advance(900_000);
    // The gateway resends it (no status heard for a while); another tenant naming the same id gets nothing.
    await takeInDocuments({ pool, clock }, { ...payload, outboxId: randomUUID() });
    await takeInDocuments({ pool, clock }, { ...payload, outboxId: randomUUID(), tenantId: randomUUID() });
    const events = await outboxEvents(pool);
    expect(events).toEqual([
      {
        eventId: expect.any(String),
        tenantId,
        invoiceId: id,
        status: 'accepted_with_warnings',
        sequence: 3,
        at: finalAt.toISOString(),
        cause: 'sts-accepted',
        protocol: '26011509000012345',
        messages,
        reannounced: true,
      },
    ]);
    expect(documentStatusEventSchema.parse(events[0])).toEqual(events[0]);
    // The document is not touched: not moved, not renumbered, nothing to send.
    expect(await documentRows(pool, [id])).toEqual(before);
  });

  it('a payload repeating some documents and bringing new ones takes only the new ones, and re-announces the others', async () => {
    const known = acceptedPayload(tenantId, [{ credentialId: first, document: expenseDocument(20) }]);
    await takeInDocuments({ pool, clock }, known);
    await pool.query('delete from submitter.status_outbox');
    const fresh = acceptedPayload(tenantId, [{ credentialId: second, document: expenseDocument(21) }]);
    const mixed = { ...fresh, documents: [...known.documents, ...fresh.documents] };
    expect(await takeInDocuments({ pool, clock }, mixed)).toEqual({
      inserted: 1,
      reannounced: 1,
      credentials: [second],
    });
    const events = await outboxEvents(pool);
    expect(events.map((event) => [event.invoiceId, event.status, event.reannounced ?? false]).sort()).toEqual(
      [
        [fresh.documents[0]!.invoiceId, 'queued', false],
        [known.documents[0]!.invoiceId, 'queued', true],
      ].sort(),
    );
  });
});
