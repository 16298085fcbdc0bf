import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testInvoiceDeps } from '../test-support/invoice-deps.ts';
import { CLINIC_VAT_NUMBER, invoiceEvent, patientTaxCode } from '../test-support/invoice-events.ts';
import { buildApp } from './app.ts';
import { createDatabase } from './db/database.ts';
import { createTenantService } from './tenants/tenant-service.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * The patient's codice fiscale arrives in clear and must go nowhere in clear: not into any gateway
 * table, not into a log line (at the most verbose level), not into any Redis key or value (the
 * relay's jobs included), not into an error answer. Every route that takes it is driven here, with
 * good and bad input, then everything is swept for every codice fiscale sent.
 */
describe('no plaintext codice fiscale anywhere', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  const logLines: string[] = [];
  const deps = testInvoiceDeps({ relay: { intervalMs: 20, batchSize: 50, redeliverAfterMs: 600_000 } });
  let key: string;
  const sent: string[] = [];
  const answers: string[] = [];

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-privacy-sweep' });
    redis = createRedis(redisDatabase.url, 'gateway-privacy-sweep');
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ name: 'gateway', level: 'trace', destination });
    app = buildApp({
      logger,
      pool,
      redis,
      clock: testClock('2026-12-07T10:00:00Z'),
      patientHasher: deps.patientHasher,
      invoices: deps.invoices,
    });
    await app.ready();
    const created = await createTenantService({
      db: createDatabase(pool),
      clock: testClock('2026-12-07T10:00:00Z'),
    }).create({ name: 'Sweep clinic' });
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

  const send = async (
    url: string,
    payload: string,
    contentType = 'application/json',
    idempotencyKey?: string,
  ) => {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': contentType,
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      payload,
    });
    answers.push(response.body);
    return response;
  };

  it('sends events every way, good and bad, then finds no codice fiscale in tables, logs, Redis or answers', async () => {
    const event = (n: number, extra: Record<string, unknown> = {}) => {
      sent.push(patientTaxCode(n));
      return invoiceEvent(n, { document: extra });
    };
    expect(
      (await send('/v1/invoices', JSON.stringify(event(1)), 'application/json', randomUUID())).statusCode,
    ).toBe(202);
    expect((await send('/v1/invoices', JSON.stringify(event(1)))).statusCode).toBe(200);
    // Invalid events that carry a codice fiscale: their problems must not repeat it.
    expect(
      (await send('/v1/invoices', JSON.stringify(event(2, { paymentDate: 'yesterday' })))).statusCode,
    ).toBe(422);
    expect((await send('/v1/invoices', JSON.stringify(event(3, { lines: [] })))).statusCode).toBe(422);
    const wrongTaxCode = 'RSSMRA8XA01H501Z';
    sent.push(wrongTaxCode);
    expect(
      (
        await send(
          '/v1/invoices',
          JSON.stringify(
            invoiceEvent(4, { document: { patient: { kind: 'identified', taxCode: wrongTaxCode } } }),
          ),
        )
      ).statusCode,
    ).toBe(422);
    const truncated = `{"operation":"insert","document":{"patient":{"taxCode":"${patientTaxCode(5)}"`;
    expect((await send('/v1/invoices', truncated)).statusCode).toBe(400);
    sent.push(patientTaxCode(5));
    const batch = { events: [event(10), event(11, { paymentDate: 'bad' }), event(12)] };
    expect(
      (await send('/v1/invoices/batch', JSON.stringify(batch), 'application/json', randomUUID())).statusCode,
    ).toBe(200);
    const lines = [event(20), event(21), event(22, { lines: 'none' })].map((e) => JSON.stringify(e));
    lines.push(`{"broken": "${patientTaxCode(23)}"`);
    sent.push(patientTaxCode(23));
    expect(
      (await send('/v1/invoices/batch', `${lines.join('\n')}\n`, 'application/x-ndjson', randomUUID()))
        .statusCode,
    ).toBe(200);

    // The relay has moved the outbox into BullMQ.
    for (let i = 0; i < 200; i++) {
      const { rows } = await pool.query('select count(*)::int as n from gateway.outbox');
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect((await pool.query('select count(*)::int as n from gateway.outbox')).rows[0].n).toBe(0);

    const tables = (
      await pool.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'gateway' and table_type = 'BASE TABLE'",
      )
    ).rows.map((row) => row.table_name);
    expect(tables).toEqual(expect.arrayContaining(['invoices', 'outbox', 'idempotency_keys']));
    const tableText: string[] = [];
    for (const table of tables) {
      const { rows } = await pool.query(`select row_to_json(t)::text as row from gateway."${table}" t`);
      tableText.push(...rows.map((row: { row: string }) => row.row));
    }
    expect((await pool.query('select count(*)::int as n from gateway.invoices')).rows[0].n).toBe(5);

    const redisText: string[] = [];
    const keys = await redis.keys('*');
    expect(keys.some((name) => name.includes('documents-accepted'))).toBe(true);
    for (const name of keys) {
      redisText.push(name);
      const type = await redis.type(name);
      if (type === 'string') redisText.push(String(await redis.get(name)));
      else if (type === 'hash') redisText.push(JSON.stringify(await redis.hgetall(name)));
      else if (type === 'list') redisText.push(JSON.stringify(await redis.lrange(name, 0, -1)));
      else if (type === 'set') redisText.push(JSON.stringify(await redis.smembers(name)));
      else if (type === 'zset') redisText.push(JSON.stringify(await redis.zrange(name, '0', '-1')));
      else if (type === 'stream') redisText.push(JSON.stringify(await redis.xrange(name, '-', '+')));
    }
    // The sweep looked at real job data: the encrypted documents are there.
    expect(redisText.join('\n')).toContain('encrypted');
    expect(logLines.length).toBeGreaterThan(10);

    const everywhere = {
      tables: tableText.join('\n'),
      redis: redisText.join('\n'),
      logs: logLines.join(''),
      answers: answers.join('\n'),
    };
    for (const taxCode of sent) {
      for (const [where, text] of Object.entries(everywhere)) {
        expect(text.includes(taxCode), `${taxCode} found in ${where}`).toBe(false);
      }
    }
  });
});
