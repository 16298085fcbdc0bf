import { randomUUID } from 'node:crypto';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testInvoiceDeps } from '../../test-support/invoice-deps.ts';
import { CLINIC_VAT_NUMBER, invoiceEvent } from '../../test-support/invoice-events.ts';
import { buildApp } from '../app.ts';
import { createDatabase } from '../db/database.ts';
import { createTenantService } from '../tenants/tenant-service.ts';
import { createOutboxRedelivery } from './outbox-redelivery.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('outbox redelivery: events never answered are relayed again', () => {
  let pool: Pool;
  let redis: Redis;
  let app: ReturnType<typeof buildApp>;
  let key: string;
  const clock = testClock('2026-12-07T10:00:00Z');
  const deps = testInvoiceDeps();

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-redelivery-test' });
    redis = createRedis(redisDatabase.url, 'gateway-redelivery-test');
    app = buildApp({
      logger: createLogger({ name: 'gateway', level: 'silent' }),
      pool,
      redis,
      clock,
      invoices: deps.invoices,
      patientHasher: deps.patientHasher,
    });
    await app.ready();
    const created = await createTenantService({ db: createDatabase(pool), clock }).create({
      name: 'Clinica Redelivery',
    });
    key = created.firstKey.key;
    deps.credentials.set(created.tenant.id, [
      { id: randomUUID(), environment: 'test', vatNumbers: [CLINIC_VAT_NUMBER] },
    ]);
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const post = (n: number) =>
    app.inject({
      method: 'POST',
      url: '/v1/invoices',
      headers: { authorization: `Bearer ${key}` },
      payload: invoiceEvent(9000 + n),
    });
  const outboxInvoices = async () =>
    (
      await pool.query<{ payload: { documents: { invoiceId: string; sequence: number }[] } }>(
        'select payload from gateway.outbox',
      )
    ).rows.flatMap((row) => row.payload.documents.map((document) => document.invoiceId));

  it('relays again an event still received after the delay, once per delay, and never one that got an answer', async () => {
    const silent = (await post(1)).json().invoice.id as string;
    const answered = (await post(2)).json().invoice.id as string;
    // The relay moved them (outbox emptied), and the submitter answered only one.
    await pool.query('delete from gateway.outbox');
    await pool.query(`update gateway.invoices set status = 'queued', status_sequence = 1 where id = $1`, [
      answered,
    ]);
    const redelivery = createOutboxRedelivery({ pool, clock, afterMs: 600_000, batchSize: 100 });

    expect(await redelivery.redeliverOnce()).toBe(0);
    clock.advance(600_001);
    expect(await redelivery.redeliverOnce()).toBe(1);
    expect(await outboxInvoices()).toEqual([silent]);
    // The same document, place and ciphertext as the first time: the submitter takes it once.
    const { rows } = await pool.query('select payload from gateway.outbox');
    expect(rows[0].payload.documents[0]).toMatchObject({ invoiceId: silent, sequence: 1 });
    expect(JSON.stringify(rows[0].payload)).toContain('"encrypted"');

    // Not again before another delay has passed.
    await pool.query('delete from gateway.outbox');
    expect(await redelivery.redeliverOnce()).toBe(0);
    clock.advance(600_001);
    expect(await redelivery.redeliverOnce()).toBe(1);
  });
});
