import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import {
  createJobProducer,
  createLogger,
  createPool,
  createRedis,
  type DocumentStatusEvent,
  JOB_CATALOGUE,
  type Pool,
  type Redis,
  STATUS_EVENTS_PER_JOB,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAccounts } from '../../../test-support/index.ts';
import { insertInvoiceRow } from '../../../test-support/invoice-rows.ts';
import { buildApp } from '../../app.ts';

/**
 * A measurement, not a test (skipped unless STATUS_BENCH_EVENTS is set): how fast the gateway applies
 * status events. STATUS_BENCH_EVENTS / 4 invoices, four events each (queued, submitting, submitted,
 * accepted, in that order across all invoices, as a 730 file's documents move), put in the
 * `document-status` queue as the submitter's relay would (jobs of `STATUS_EVENTS_PER_JOB`); then the gateway's workers start
 * (GATEWAY_STATUS_CONCURRENCY, default 16) and the time until every event is in
 * `invoice_history` is printed.
 *   STATUS_BENCH_EVENTS=50000 TESTKIT_MODES=local pnpm exec vitest run services/gateway/src/invoices/status/status-throughput.test.ts
 */
const EVENTS = Number(process.env.STATUS_BENCH_EVENTS ?? 0);
const CONCURRENCY = Number(process.env.GATEWAY_STATUS_CONCURRENCY ?? 16);

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe.runIf(EVENTS > 0)('status events applied by the gateway (measurement)', () => {
  let pool: Pool;
  let redis: Redis;
  let blocking: Redis;
  const clock = testClock('2026-03-02T12:00:00Z');

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-status-bench', max: 20 });
    redis = createRedis(redisDatabase.url, 'gateway-status-bench');
    blocking = createRedis(redisDatabase.url, 'gateway-status-bench-workers', { blocking: true });
  });
  afterAll(async () => {
    await pool.end();
    redis.disconnect();
    blocking.disconnect();
  });

  it(`applies ${EVENTS} events`, { timeout: 3_600_000 }, async () => {
    const { tenants } = gatewayAccounts(pool, clock);
    const tenantId = (await tenants.create({ name: 'Clinica Misura' })).tenant.id;
    const invoices: string[] = [];
    for (let i = 0; i < EVENTS / 4; i += 100) {
      const rows = await Promise.all(
        Array.from({ length: Math.min(100, EVENTS / 4 - i) }, () => insertInvoiceRow(pool, { tenantId })),
      );
      invoices.push(...rows.map((row) => row.id));
    }
    const statuses = ['queued', 'submitting', 'submitted', 'accepted'] as const;
    const events: DocumentStatusEvent[] = statuses.flatMap((status, index) =>
      invoices.map((invoiceId) => ({
        eventId: randomUUID(),
        tenantId,
        invoiceId,
        status,
        sequence: index + 1,
        at: new Date(Date.parse('2026-03-02T10:00:00Z') + index * 60_000).toISOString(),
        ...(status === 'accepted' ? { protocol: '26030211354512345' } : {}),
      })),
    );
    const producer = createJobProducer({ service: 'submitter', connection: redis });
    const enqueueStart = performance.now();
    const jobs: { events: DocumentStatusEvent[] }[] = [];
    for (let i = 0; i < events.length; i += STATUS_EVENTS_PER_JOB) {
      jobs.push({ events: events.slice(i, i + STATUS_EVENTS_PER_JOB) });
    }
    for (let i = 0; i < jobs.length; i += 10)
      await producer.enqueueMany('document.status', jobs.slice(i, i + 10));
    const enqueueMs = performance.now() - enqueueStart;
    await producer.close();
    // One job's hash as Redis keeps it (the payload is most of it), per event it carries.
    const firstJob = JOB_CATALOGUE['document.status'].jobId(jobs[0]!);
    const jobBytes = Number(
      await redis.call('memory', 'usage', `bull:document-status:${firstJob}`, 'samples', '0'),
    );
    const queueBytes = Number(
      await redis.call('info', 'memory').then((info) => /used_memory:(\d+)/.exec(String(info))?.[1]),
    );

    const logger = createLogger({ name: 'gateway', level: 'warn' });
    const app = buildApp({
      logger,
      pool,
      redis,
      clock,
      workers: { connection: blocking, concurrency: CONCURRENCY },
    });
    const start = performance.now();
    await app.ready();
    const count = async () =>
      (await pool.query<{ n: number }>('select count(*)::int as n from gateway.invoice_history')).rows[0]!.n;
    let applied = await count();
    while (applied < events.length && performance.now() - start < 3_000_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      applied = await count();
    }
    const seconds = (performance.now() - start) / 1000;
    await app.close();
    console.log(
      JSON.stringify({
        events: events.length,
        applied,
        concurrency: CONCURRENCY,
        enqueueSeconds: +(enqueueMs / 1000).toFixed(1),
        redisUsedMemoryMB: +(queueBytes / 1e6).toFixed(1),
        jobBytes,
        jobBytesPerEvent: Math.round(jobBytes / jobs[0]!.events.length),
        applySeconds: +seconds.toFixed(1),
        eventsPerSecond: Math.round(applied / seconds),
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        loadavg: loadavg().map((x) => +x.toFixed(2)),
        at: new Date().toISOString(),
      }),
    );
    expect(applied).toBe(events.length);
  });
});
