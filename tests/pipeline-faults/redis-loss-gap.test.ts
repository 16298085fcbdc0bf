import { gatewayAccounts, invoiceEvent, vatNumber } from '@sts/gateway/testing';
import { createPool, createRedis, type Pool } from '@sts/shared';
import { useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayApi, postCredential, simulatorAdmin as simulatorAdminOf } from '../support/clients.ts';
import { type Stack, startStack } from '../support/stack.ts';
import { type RestartableRedis, startRestartableRedis } from './restartable-redis.ts';

const DOCTOR = { username: 'RLTMRA80A01H501U', password: 'Realtime.Pw.1', pincode: '7310486296' };
const VAT = vatNumber('0987654321');
const FINAL = ['accepted', 'accepted_with_warnings', 'rejected'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Redis is the only hand-over between the gateway and the submitter, both ways: the gateway's outbox
 * relay deletes its rows once their `documents.accepted` jobs are in Redis, and the submitter's status
 * relay its rows once their `document.status` jobs are. A Redis that loses its data (no persistence,
 * restarted or wiped) loses those jobs. The gateway then relays again every event still `received`
 * after `GATEWAY_REDELIVER_AFTER_MS`, and every event under way whose status has not changed for
 * `GATEWAY_RESYNC_AFTER_MS` (src/outbox/outbox-redelivery.ts); the submitter takes each document once
 * and answers one it already holds by announcing its current status again, which the gateway applies
 * if it had missed it (docs/decisions.md, "Statuses lost with Redis's data"). The first test (found by
 * the fault test, failing before the redelivery) loses documents, the second statuses.
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
      env: { gateway: { GATEWAY_REDELIVER_AFTER_MS: '3000', GATEWAY_RESYNC_AFTER_MS: '2000' } },
    });
    pool = createPool({ url: database.url, applicationName: 'redis-loss-gap-test' });
    key = (await gatewayAccounts(pool).tenants.create({ name: 'Clinica Senza Redis' })).firstKey.key;
    const credential = await postCredential(api, {
      doctor: DOCTOR,
      vatNumber: VAT,
      sendingMode: 'realtime',
      extra: { pacing: { maxInFlight: 1, requestsPerMinute: 600 } },
    });
    expect(credential.status, credential.text).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
    await redis?.stop();
  });

  const api = gatewayApi(
    () => stack.urls.gateway,
    () => key,
  );
  const simulatorAdmin = simulatorAdminOf(() => stack);

  it('still delivers documents whose documents.accepted job was in Redis when it lost its data', async () => {
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

  it('still brings the gateway to the final status of documents whose status jobs were in Redis when it lost its data', async () => {
    // Each single send takes 2 s: the gateway hears `queued` long before any final status.
    expect(
      (await simulatorAdmin('POST', '/faults', { kind: 'latency', operation: 'insert', latencyMs: 2000 }))
        .status,
    ).toBe(201);
    // A webhook endpoint nobody answers: what counts is what the gateway records for it.
    const hook = await api('POST', '/v1/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['submission.completed'],
    });
    expect(hook.status, hook.text).toBe(201);

    const lines = [11, 12, 13, 14, 15].map((n) => {
      const base = invoiceEvent(n);
      return JSON.stringify({
        operation: 'insert',
        document: { ...base.document, id: { ...base.document.id, vatNumber: VAT } },
      });
    });
    const sent = await api('POST', '/v1/invoices/batch', `${lines.join('\n')}\n`, 'application/x-ndjson');
    expect(sent.status, sent.text).toBe(200);
    const ids = (sent.json.items as { invoice: { id: string } }[]).map((item) => item.invoice.id);
    const gatewayStatuses = async () =>
      (
        await pool.query<{ status: string }>(
          'select status from gateway.invoices where id = any($1::uuid[])',
          [ids],
        )
      ).rows.map((row) => row.status);

    // The gateway hears every document `queued`, then goes down: the statuses after wait in Redis.
    for (let waited = 0; waited < 20_000; waited += 50) {
      if ((await gatewayStatuses()).every((status) => status !== 'received')) break;
      await sleep(50);
    }
    expect((await gatewayStatuses()).filter((status) => status === 'received')).toEqual([]);
    await stack.kill('gateway');
    const submitterDone = async () => {
      const { rows } = await pool.query<{ final: number; outbox: number }>(
        `select (select count(*)::int from submitter.documents
                  where invoice_id = any($1::uuid[]) and state in ('accepted', 'accepted_with_warnings', 'rejected')) as final,
                (select count(*)::int from submitter.status_outbox) as outbox`,
        [ids],
      );
      return rows[0]!.final === ids.length && rows[0]!.outbox === 0;
    };
    for (let waited = 0; waited < 60_000 && !(await submitterDone()); waited += 200) await sleep(200);
    expect(await submitterDone()).toBe(true);

    // Every final status is in Redis now, as a document.status job; Redis loses everything.
    const wipe = createRedis(redis.url, 'redis-loss-gap-wipe');
    await wipe.flushall();
    wipe.disconnect();
    const before = await gatewayStatuses();
    expect(before).toHaveLength(ids.length);
    expect(before.filter((status) => FINAL.includes(status))).toEqual([]);
    const { rows: submitterBefore } = await pool.query(
      'select invoice_id, state, state_sequence, updated_at from submitter.documents order by invoice_id',
    );

    // The gateway comes back: nothing would ever tell it, but its resync asks the submitter again.
    await stack.start('gateway');
    let open: string[] = [];
    for (let waited = 0; waited < 60_000; waited += 250) {
      open = (await gatewayStatuses()).filter((status) => !FINAL.includes(status));
      if (open.length === 0) break;
      await sleep(250);
    }
    expect({ open, statuses: before.length }).toEqual({ open: [], statuses: ids.length });
    // One submission.completed per document; the submitter's documents untouched, none sent again.
    const { rows: completed } = await pool.query<{ invoiceId: string }>(
      `select body::jsonb->'data'->>'invoiceId' as "invoiceId" from gateway.webhook_deliveries
        where event_type = 'submission.completed'`,
    );
    expect(completed.map((row) => row.invoiceId).sort()).toEqual([...ids].sort());
    const { rows: submitterAfter } = await pool.query(
      'select invoice_id, state, state_sequence, updated_at from submitter.documents order by invoice_id',
    );
    expect(submitterAfter).toEqual(submitterBefore);
  }, 150_000);
});
