import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createJobProducer,
  createLogger,
  createPool,
  createRedis,
  type DocumentStatusEvent,
  type JobProducer,
  type Pool,
  type Redis,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAccounts } from '../../../test-support/index.ts';
import { insertInvoiceRow } from '../../../test-support/invoice-rows.ts';
import { buildApp } from '../../app.ts';
import { createDatabase } from '../../db/database.ts';
import { createDocumentStatusHandler } from './document-status-handler.ts';
import { applyStatusEvent, type StatusChange } from './status-service.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/** Log lines, parsed, to check what the consumer says (and that it says it by ids only). */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'gateway', level: 'debug', destination }) };
}

describe('status events from the submitter (document.status jobs over real BullMQ)', () => {
  let pool: Pool;
  let redis: Redis;
  let blocking: Redis;
  let producerConnection: Redis;
  let producer: JobProducer<'submitter'>;
  let app: FastifyInstance;
  const clock = testClock('2026-03-02T12:00:00Z');
  const log = capturedLogger();
  const applied: StatusChange[] = [];
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-status-test' });
    redis = createRedis(redisDatabase.url, 'gateway-status-test');
    blocking = createRedis(redisDatabase.url, 'gateway-status-workers', { blocking: true });
    producerConnection = createRedis(redisDatabase.url, 'gateway-status-producer');
    producer = createJobProducer({ service: 'submitter', connection: producerConnection });
    const { tenants } = gatewayAccounts(pool, clock);
    tenantA = (await tenants.create({ name: 'Clinica Stato A' })).tenant.id;
    tenantB = (await tenants.create({ name: 'Clinica Stato B' })).tenant.id;
    app = buildApp({ logger: log.logger, pool, redis, clock, workers: { connection: blocking } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await producer.close();
    await pool.end();
    for (const connection of [redis, blocking, producerConnection]) connection.disconnect();
  });

  const event = (
    tenantId: string,
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
    at: new Date(Date.parse('2026-03-02T10:00:00Z') + sequence * 60_000).toISOString(),
    ...extra,
  });

  const invoiceRow = async (id: string) =>
    (
      await pool.query(
        'select status, status_sequence, protocol, messages, late from gateway.invoices where id = $1',
        [id],
      )
    ).rows[0] as { status: string; status_sequence: string; protocol: string | null; late: boolean | null };
  const history = async (id: string) =>
    (
      await pool.query(
        'select event_id, status, sequence, protocol from gateway.invoice_history where invoice_id = $1 order by sequence',
        [id],
      )
    ).rows as { event_id: string; status: string; sequence: string; protocol: string | null }[];

  /** Jobs run in order (one worker, concurrency 1): once a sentinel is applied, every job before it ran. */
  async function drain(): Promise<void> {
    const sentinel = await insertInvoiceRow(pool, { tenantId: tenantA });
    await producer.enqueue('document.status', event(tenantA, sentinel.id, 0, 'queued'));
    const deadline = Date.now() + 15_000;
    while ((await invoiceRow(sentinel.id)).status !== 'queued') {
      if (Date.now() > deadline) throw new Error('the status worker did not process the sentinel in 15 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('applies events forwards only: a late one, a repeated one, and one after a final status change nothing', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantA });
    const queued = event(tenantA, invoice.id, 1, 'queued');
    const submitting = event(tenantA, invoice.id, 2, 'submitting');
    const submitted = event(tenantA, invoice.id, 3, 'submitted', { protocol: '26030211354512345' });
    for (const each of [queued, submitting, submitted]) await producer.enqueue('document.status', each);
    // Late: a sequence below the one applied, under a new event id.
    await producer.enqueue('document.status', event(tenantA, invoice.id, 2, 'queued'));
    // Repeated: the same event again (BullMQ keeps one job per event id, so it is enqueued once).
    await producer.enqueue('document.status', submitting);
    await drain();
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'submitted', status_sequence: '3' });
    expect((await history(invoice.id)).map((row) => row.status)).toEqual([
      'queued',
      'submitting',
      'submitted',
    ]);

    // Final, then nothing moves it, not even a newer event; the protocol is kept when an event has none.
    await producer.enqueue(
      'document.status',
      event(tenantA, invoice.id, 4, 'accepted_with_warnings', {
        cause: 'sts-accepted',
        messages: [{ code: 'W008', kind: 'warning', text: 'DATA PAGAMENTO TARDIVA' }],
        late: true,
      }),
    );
    await producer.enqueue('document.status', event(tenantA, invoice.id, 5, 'rejected'));
    await producer.enqueue('document.status', event(tenantA, invoice.id, 6, 'uncertain'));
    await drain();
    expect(await invoiceRow(invoice.id)).toMatchObject({
      status: 'accepted_with_warnings',
      status_sequence: '4',
      protocol: '26030211354512345',
      late: true,
      messages: [{ code: 'W008', kind: 'warning', text: 'DATA PAGAMENTO TARDIVA' }],
    });
    expect((await history(invoice.id)).map((row) => [row.status, row.sequence])).toEqual([
      ['queued', '1'],
      ['submitting', '2'],
      ['submitted', '3'],
      ['accepted_with_warnings', '4'],
    ]);
    const notApplied = log.lines.filter(
      (line) => line.msg === 'document status event not applied' && line.invoiceId === invoice.id,
    );
    expect(notApplied.map((line) => line.outcome).sort()).toEqual(['final', 'final', 'stale']);
  });

  it('ignores an event naming another tenant’s invoice or an unknown one, and logs it by ids only', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantA });
    const foreign = event(tenantB, invoice.id, 1, 'rejected', {
      messages: [{ code: 'S011', kind: 'error', text: 'IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO' }],
    });
    const unknown = event(tenantA, randomUUID(), 1, 'queued');
    await producer.enqueue('document.status', foreign);
    await producer.enqueue('document.status', unknown);
    await drain();
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'received', status_sequence: '-1' });
    expect(await history(invoice.id)).toEqual([]);
    for (const ignored of [foreign, unknown]) {
      const line = log.lines.find((entry) => entry.eventId === ignored.eventId);
      expect(line).toMatchObject({
        level: 'warn',
        outcome: 'unknown-invoice',
        tenantId: ignored.tenantId,
        invoiceId: ignored.invoiceId,
      });
      // Ids, sequence and status only: never the messages' text.
      expect(JSON.stringify(line)).not.toContain('CITTADINO');
    }
  });

  it('records a redelivered event once, and tells the webhook emitter about applied changes only', async () => {
    const db = createDatabase(pool);
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantB });
    const handler = createDocumentStatusHandler({
      db,
      logger: log.logger,
      clock,
      onStatusApplied: async (change) => {
        applied.push(change);
      },
    });
    const queued = event(tenantB, invoice.id, 1, 'queued');
    const job = {} as Parameters<typeof handler>[1];
    await handler(queued, job);
    await handler(queued, job);
    await handler(event(tenantB, invoice.id, 1, 'submitting'), job); // same sequence, another id: stale
    expect(
      applied.map((change) => [change.outcome, change.previous?.status, change.invoice?.status]),
    ).toEqual([['applied', 'received', 'queued']]);
    expect((await history(invoice.id)).map((row) => row.event_id)).toEqual([queued.eventId]);
    expect(await applyStatusEvent(db, queued)).toMatchObject({ applied: false, outcome: 'repeated' });

    // Two events for one invoice at the same time: the row lock applies them one after the other.
    const [first, second] = [
      event(tenantB, invoice.id, 2, 'submitting'),
      event(tenantB, invoice.id, 3, 'submitted'),
    ];
    const results = await Promise.all([applyStatusEvent(db, second), applyStatusEvent(db, first)]);
    expect(results.filter((result) => result.applied).length).toBeGreaterThanOrEqual(1);
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'submitted', status_sequence: '3' });

    // A failing emitter is logged; the job still succeeds (a retry would not apply the event again).
    const failing = createDocumentStatusHandler({
      db,
      logger: log.logger,
      onStatusApplied: async () => {
        throw new Error('webhooks down');
      },
    });
    const accepted = event(tenantB, invoice.id, 4, 'accepted');
    await expect(failing(accepted, job)).resolves.toBeUndefined();
    expect(
      log.lines.find((line) => line.eventId === accepted.eventId && line.level === 'error'),
    ).toBeDefined();
  });
});
