import { randomUUID } from 'node:crypto';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testInvoiceDeps } from '../../test-support/invoice-deps.ts';
import { CLINIC_VAT_NUMBER, invoiceEvent } from '../../test-support/invoice-events.ts';
import { insertInvoiceRow } from '../../test-support/invoice-rows.ts';
import { buildApp } from '../app.ts';
import { createDatabase } from '../db/database.ts';
import { applyStatusEvent } from '../invoices/status/status-service.ts';
import { createTenantService } from '../tenants/tenant-service.ts';
import { createOutboxRedelivery, RESYNC_MAX_MS } from './outbox-redelivery.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('outbox redelivery: events never answered are relayed again', () => {
  let pool: Pool;
  let redis: Redis;
  let app: ReturnType<typeof buildApp>;
  let key: string;
  let tenantId: string;
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
    tenantId = created.tenant.id;
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
    // Only the `received` rule here: the resync of events under way is the next test.
    const redelivery = createOutboxRedelivery({
      pool,
      clock,
      afterMs: 600_000,
      resyncAfterMs: 3_600_000,
      batchSize: 100,
    });

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

  it('relays again an event under way whose status has not changed for a resync delay, never a final one; a status change restarts its backoff', async () => {
    // Only this test's rows are open: the first test's are settled.
    await pool.query(`update gateway.invoices set status = 'accepted'`);
    await pool.query('delete from gateway.outbox');
    const t0 = clock().getTime();
    const minutes = (n: number) => new Date(t0 + n * 60_000);
    const row = (
      status: 'submitted' | 'blocked' | 'submitting' | 'accepted' | 'rejected' | 'accepted_with_warnings',
      statusAt: Date,
    ) => insertInvoiceRow(pool, { tenantId, status, statusSequence: 3, statusAt, receivedAt: minutes(-30) });
    const submitted = await row('submitted', minutes(-20));
    const blocked = await row('blocked', minutes(-20));
    const recent = await row('submitting', minutes(-1));
    const finals: string[] = [];
    for (const final of ['accepted', 'rejected', 'accepted_with_warnings'] as const)
      finals.push((await row(final, minutes(-20))).id);
    const redelivery = createOutboxRedelivery({
      pool,
      clock,
      afterMs: 600_000,
      resyncAfterMs: 900_000,
      batchSize: 100,
    });
    const relayed = async () => {
      const ids = await outboxInvoices();
      await pool.query('delete from gateway.outbox');
      return ids.sort();
    };

    // No change for 20 minutes: relayed again, with the document as accepted (the submitter knows it by id).
    expect(await redelivery.redeliverOnce()).toBe(2);
    const { rows } = await pool.query('select payload from gateway.outbox');
    expect(rows[0].payload).toMatchObject({ tenantId });
    expect(
      rows[0].payload.documents.find(
        (document: { invoiceId: string }) => document.invoiceId === submitted.id,
      ),
    ).toEqual({
      invoiceId: submitted.id,
      credentialId: submitted.credentialId,
      documentKey: submitted.chainKey,
      sequence: submitted.chainSequence,
      document: submitted.document,
    });
    expect(await relayed()).toEqual([submitted.id, blocked.id].sort());
    expect(await redelivery.redeliverOnce()).toBe(0);

    // Five minutes on, the blocked one changes status (as the status consumer applies it).
    clock.advance(5 * 60_000);
    const change = await applyStatusEvent(createDatabase(pool), {
      eventId: randomUUID(),
      tenantId,
      invoiceId: blocked.id,
      status: 'queued',
      sequence: 4,
      at: clock().toISOString(),
    });
    expect(change.applied).toBe(true);
    expect(await redelivery.redeliverOnce()).toBe(0);

    // A resync delay after the first round: only the one that was recent; the unchanged one now waits
    // twice the delay.
    clock.advance(10 * 60_000 + 1);
    expect(await redelivery.redeliverOnce()).toBe(1);
    expect(await relayed()).toEqual([recent.id]);

    // The changed one a resync delay after its change, not twice the delay: its backoff restarted.
    clock.advance(5 * 60_000);
    expect(await redelivery.redeliverOnce()).toBe(1);
    expect(await relayed()).toEqual([blocked.id]);

    // The unchanged one twice the delay after its first resync, not before.
    clock.advance(10 * 60_000 - 2);
    expect(await redelivery.redeliverOnce()).toBe(0);
    clock.advance(2);
    expect(await redelivery.redeliverOnce()).toBe(1);
    expect(await relayed()).toEqual([submitted.id]);

    // Bounded: a round takes at most the batch, the one due longest first (the recent one's second
    // resync, due 30 minutes after its first, then the blocked one's).
    clock.advance(20 * 60_000 + 1);
    const small = createOutboxRedelivery({
      pool,
      clock,
      afterMs: 600_000,
      resyncAfterMs: 900_000,
      batchSize: 1,
    });
    expect(await small.redeliverOnce()).toBe(1);
    expect(await relayed()).toEqual([recent.id]);
    expect(await small.redeliverOnce()).toBe(1);
    expect(await relayed()).toEqual([blocked.id]);
    expect(await small.redeliverOnce()).toBe(0);
    // Final ones were never handed over again.
    const { rows: untouched } = await pool.query(
      'select redelivered_at, next_resync_at from gateway.invoices where id = any($1::uuid[])',
      [finals],
    );
    expect(untouched).toEqual(finals.map(() => ({ redelivered_at: null, next_resync_at: null })));
  });

  it('doubles the wait before each resync of an unchanged event, up to 24 hours by default, or the cap given', async () => {
    await pool.query(`update gateway.invoices set status = 'accepted'`);
    await pool.query('delete from gateway.outbox');
    const waiting = await insertInvoiceRow(pool, {
      tenantId,
      status: 'submitted',
      statusSequence: 3,
      statusAt: new Date(clock().getTime() - 900_001),
      receivedAt: new Date(clock().getTime() - 3_600_000),
    });
    const redelivery = createOutboxRedelivery({
      pool,
      clock,
      afterMs: 600_000,
      resyncAfterMs: 900_000,
      batchSize: 100,
    });
    const hour = 3_600_000;
    const waits: number[] = [];
    expect(await redelivery.redeliverOnce()).toBe(1);
    for (let round = 0; round < 8; round += 1) {
      const { rows } = await pool.query<{ next: Date }>(
        'select next_resync_at as next from gateway.invoices where id = $1',
        [waiting.id],
      );
      const wait = rows[0]!.next.getTime() - clock().getTime();
      waits.push(wait);
      // Not before the wait is over, then due.
      clock.advance(wait);
      expect(await redelivery.redeliverOnce()).toBe(0);
      clock.advance(1);
      expect(await redelivery.redeliverOnce()).toBe(1);
    }
    expect(waits.map((wait) => wait / hour)).toEqual([0.5, 1, 2, 4, 8, 16, 24, 24]);
    expect(RESYNC_MAX_MS).toBe(24 * hour);
    expect((await outboxInvoices()).every((id) => id === waiting.id)).toBe(true);

    // A cap of two hours holds from the third resync; never below the resync delay itself.
    await pool.query('update gateway.invoices set next_resync_at = null, status_at = $2 where id = $1', [
      waiting.id,
      new Date(clock().getTime() - 900_001),
    ]);
    const capped = createOutboxRedelivery({
      pool,
      clock,
      afterMs: 600_000,
      resyncAfterMs: 900_000,
      resyncMaxMs: 2 * hour,
      batchSize: 100,
    });
    const cappedWaits: number[] = [];
    expect(await capped.redeliverOnce()).toBe(1);
    for (let round = 0; round < 4; round += 1) {
      const { rows } = await pool.query<{ next: Date }>(
        'select next_resync_at as next from gateway.invoices where id = $1',
        [waiting.id],
      );
      const wait = rows[0]!.next.getTime() - clock().getTime();
      cappedWaits.push(wait);
      clock.advance(wait + 1);
      expect(await capped.redeliverOnce()).toBe(1);
    }
    expect(cappedWaits.map((wait) => wait / hour)).toEqual([0.5, 1, 2, 2]);
  });
});
