import { gatewayAccounts, invoiceEvent, vatNumber } from '@sts/gateway/testing';
import { createPool, type Pool } from '@sts/shared';
import { useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.ts';
import { type RestartableRedis, startRestartableRedis } from './restartable-redis.ts';

const DOCTOR = { username: 'RLTMRA80A01H501U', password: 'Realtime.Pw.1', pincode: '7310486296' };
const VAT = vatNumber('0987654321');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Redis is the only hand-over between the gateway and the submitter: the gateway's outbox relay
 * deletes its rows once their `documents.accepted` jobs are in Redis. A Redis that loses its data
 * (no persistence, restarted) loses those jobs; the gateway then relays again every event still
 * `received` after `GATEWAY_REDELIVER_AFTER_MS` (src/outbox/outbox-redelivery.ts), and the submitter
 * takes each document once. This test (found by the fault test, failing before the redelivery)
 * proves it with a Redis without persistence. Statuses lost the same way (the submitter's status
 * relay) are still a gap: Redis must keep its data (AOF) in production; docs/decisions.md.
 */
describe('a Redis that loses its data', () => {
  const database = useTestDatabase();
  let redis: RestartableRedis;
  let stack: Stack;
  let pool: Pool;
  let key: string;

  beforeAll(async () => {
    redis = await startRestartableRedis({ persistence: 'none' });
    stack = await startStack({
      databaseUrl: database.url,
      redisUrl: redis.url,
      simulatorUsers: [{ ...DOCTOR, kind: 'professional', owner: { vatNumber: VAT } }],
      env: { gateway: { GATEWAY_REDELIVER_AFTER_MS: '3000' } },
    });
    pool = createPool({ url: database.url, applicationName: 'redis-loss-gap-test' });
    key = (await gatewayAccounts(pool).tenants.create({ name: 'Clinica Senza Redis' })).firstKey.key;
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
    await redis?.stop();
  });

  const api = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${stack.urls.gateway}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
  };

  it('still delivers documents whose documents.accepted job was in Redis when it lost its data', async () => {
    const credential = await api('POST', '/v1/credentials?test=true', {
      label: 'Dr realtime',
      environment: 'test',
      kind: 'basic',
      user: DOCTOR.username,
      password: DOCTOR.password,
      pincode: DOCTOR.pincode,
      owner: { taxCode: DOCTOR.username },
      vatNumbers: [VAT],
      sendingMode: 'realtime',
      pacing: { maxInFlight: 1, requestsPerMinute: 600 },
    });
    expect(credential.status, credential.text).toBe(201);

    // The submitter is down: the gateway accepts the events and relays their jobs into Redis.
    await stack.kill('submitter');
    const lines = [1, 2, 3, 4, 5].map((n) => {
      const base = invoiceEvent(n);
      return JSON.stringify({
        operation: 'insert',
        document: { ...base.document, id: { ...base.document.id, vatNumber: VAT } },
      });
    });
    const sent = await api('POST', '/v1/invoices/batch', `${lines.join('\n')}\n`, 'application/x-ndjson');
    expect(sent.status, sent.text).toBe(200);
    for (let waited = 0; waited < 10_000; waited += 100) {
      const { rows } = await pool.query<{ count: string }>('select count(*) from gateway.outbox');
      if (Number(rows[0]!.count) === 0) break;
      await sleep(100);
    }

    // Redis loses its data; the submitter comes back.
    await redis.restart();
    await stack.start('submitter');

    let open = -1;
    for (let waited = 0; waited < 60_000; waited += 500) {
      const list = await api(
        'GET',
        '/v1/invoices?status=received,queued,submitting,submitted,uncertain,blocked',
      );
      open = list.json.items.length;
      if (open === 0) break;
      await sleep(500);
    }
    const { rows } = await pool.query<{ count: string }>('select count(*) from submitter.documents');
    // Relayed again after the delay: all five reached the submitter, once each, and are final.
    expect({ open, submitterDocuments: Number(rows[0]!.count) }).toEqual({ open: 0, submitterDocuments: 5 });
  }, 120_000);
});
