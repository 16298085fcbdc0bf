import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createLogger,
  createPool,
  createRedis,
  type DocumentStatusEvent,
  type Pool,
  type Redis,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAccounts } from '../../../test-support/index.ts';
import { insertInvoiceRow } from '../../../test-support/invoice-rows.ts';
import { createDatabase } from '../../db/database.ts';
import { createWebhooks } from '../../webhooks/webhooks.ts';
import { createDocumentStatusHandler } from './document-status-handler.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * The submitter's answer to a resync (src/outbox/outbox-redelivery.ts): the document's current status
 * again, `reannounced`, under a new event id with the sequence of the change it repeats. Applied, with
 * the webhooks of a normal change, only when the gateway had missed that change.
 */
describe('re-announced statuses', () => {
  let pool: Pool;
  let redis: Redis;
  let tenantId: string;
  let handle: ReturnType<typeof createDocumentStatusHandler>;
  const clock = testClock('2026-12-07T12:00:00Z');
  const lines: Record<string, unknown>[] = [];
  const job = { id: 'test' } as Parameters<ReturnType<typeof createDocumentStatusHandler>>[1];
  /** One `document.status` job carrying `events`. */
  const handleBatch = (...events: DocumentStatusEvent[]) => handle({ events }, job);

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-reannounced-test' });
    redis = createRedis(redisDatabase.url, 'gateway-reannounced-test');
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = createLogger({ name: 'gateway', level: 'debug', destination });
    const db = createDatabase(pool);
    const webhooks = createWebhooks({
      db,
      redis,
      logger,
      clock,
      options: { secretKey: randomBytes(32), allowHttp: true },
    });
    tenantId = (await gatewayAccounts(pool, clock).tenants.create({ name: 'Clinica Resync' })).tenant.id;
    // Nothing listens there: the deliveries are recorded and queued, which is what is counted here.
    await webhooks.service.createEndpoint(tenantId, {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['invoice.status-changed', 'submission.completed'],
    });
    handle = createDocumentStatusHandler({ db, logger, clock, webhooks });
  });
  afterAll(async () => {
    await pool.end();
    redis.disconnect();
  });

  const event = (
    invoiceId: string,
    sequence: number,
    status: DocumentStatusEvent['status'],
    extra: Partial<DocumentStatusEvent> = {},
  ): DocumentStatusEvent => ({
    eventId: randomUUID(),
    tenantId,
    invoiceId,
    status,
    sequence,
    at: new Date(Date.parse('2026-12-07T10:00:00Z') + sequence * 60_000).toISOString(),
    ...extra,
  });
  const reannounced = (...args: Parameters<typeof event>) =>
    event(args[0], args[1], args[2], { ...args[3], reannounced: true });
  const state = async (id: string) =>
    (
      await pool.query<{ status: string; sequence: number; protocol: string | null; history: number }>(
        `select status, status_sequence::int as sequence, protocol,
                (select count(*)::int from gateway.invoice_history h where h.invoice_id = i.id) as history
           from gateway.invoices i where id = $1`,
        [id],
      )
    ).rows[0];
  /** The webhooks recorded for one invoice: [type, status, previous status], sorted. */
  const webhooksOf = async (invoiceId: string) =>
    (
      await pool.query<{ event_type: string; body: string }>(
        'select event_type, body from gateway.webhook_deliveries where tenant_id = $1 order by created_at, id',
        [tenantId],
      )
    ).rows
      .map((row) => ({ type: row.event_type, data: JSON.parse(row.body).data }))
      .filter((row) => row.data.invoiceId === invoiceId)
      .map((row) => [row.type, row.data.status, row.data.previousStatus ?? null])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it('a final status the gateway had missed is applied and fires its webhooks once', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId });
    await handleBatch(event(invoice.id, 1, 'queued'));
    await handleBatch(event(invoice.id, 2, 'submitting'));
    // Events 3 (submitted) and 4 (accepted) were lost with Redis; the resync brings 4 back.
    const protocol = '26120710000012345';
    await handleBatch(reannounced(invoice.id, 4, 'accepted', { protocol, cause: 'sts-accepted' }));
    expect(await state(invoice.id)).toEqual({ status: 'accepted', sequence: 4, protocol, history: 3 });
    const expected = [
      ['invoice.status-changed', 'accepted', 'submitting'],
      ['invoice.status-changed', 'queued', 'received'],
      ['invoice.status-changed', 'submitting', 'queued'],
      ['submission.completed', 'accepted', null],
    ];
    expect(await webhooksOf(invoice.id)).toEqual(expected);

    // Said again (another resync), the original arriving late, an older one re-announced: nothing.
    await handleBatch(reannounced(invoice.id, 4, 'accepted', { protocol }));
    await handleBatch(event(invoice.id, 4, 'accepted', { protocol }));
    await handleBatch(reannounced(invoice.id, 3, 'submitted', { protocol }));
    expect(await state(invoice.id)).toEqual({ status: 'accepted', sequence: 4, protocol, history: 3 });
    expect(await webhooksOf(invoice.id)).toEqual(expected);
  });

  it('a status the gateway already has changes nothing and fires nothing, logged quietly', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId });
    await handleBatch(event(invoice.id, 1, 'queued'));
    await handleBatch(event(invoice.id, 2, 'submitting'));
    await handleBatch(event(invoice.id, 3, 'submitted', { protocol: '26120710000054321' }));
    const before = await webhooksOf(invoice.id);
    expect(before).toHaveLength(3);

    const again = reannounced(invoice.id, 3, 'submitted', { protocol: '26120710000054321' });
    await handleBatch(again);
    expect(await state(invoice.id)).toMatchObject({ status: 'submitted', sequence: 3, history: 3 });
    // In a batch with another invoice's real change: that change alone is applied and announced.
    const other = await insertInvoiceRow(pool, { tenantId });
    const again2 = reannounced(invoice.id, 3, 'submitted', { protocol: '26120710000054321' });
    await handleBatch(again2, event(other.id, 1, 'queued'));
    expect(await state(invoice.id)).toMatchObject({ status: 'submitted', sequence: 3, history: 3 });
    expect(await state(other.id)).toMatchObject({ status: 'queued', sequence: 1, history: 1 });
    expect(await webhooksOf(other.id)).toEqual([['invoice.status-changed', 'queued', 'received']]);
    expect(await webhooksOf(invoice.id)).toEqual(before);
    for (const quiet of [again, again2]) {
      expect(lines.find((line) => line.eventId === quiet.eventId)).toMatchObject({
        level: 'debug',
        outcome: 'stale',
        reannounced: true,
      });
    }
  });

  it('an invoice still received at the gateway catches up with the status the submitter has', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId });
    await handleBatch(reannounced(invoice.id, 1, 'queued'));
    expect(await state(invoice.id)).toMatchObject({ status: 'queued', sequence: 1, history: 1 });
    expect(await webhooksOf(invoice.id)).toEqual([['invoice.status-changed', 'queued', 'received']]);
  });
});
