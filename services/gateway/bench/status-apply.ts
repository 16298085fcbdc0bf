/**
 * How fast the gateway applies status events (docs/benchmarks.md, "Status events in batches").
 *
 * Starts Postgres and Redis as the testkit does (TESTKIT_MODES, default `local`: the machine's
 * binaries, fsync off) and runs the gateway's migrations. Then --events / 4 invoices, four events
 * each (queued, submitting, submitted, accepted, in that order across all invoices, as a 730 file's
 * documents move), are put in the `document-status` queue as the submitter's relay would (jobs of
 * `STATUS_EVENTS_PER_JOB`); Redis's memory is read with the queue full; then the gateway's workers
 * start in this process (`buildApp` with `workers`, --concurrency of them) and the time until every
 * event is in `invoice_history` is printed, with events/s. Jobs run side by side, so an event can be
 * skipped as stale (a later one of its invoice applied first): the wait then ends when the queue is
 * empty, and the events not in `invoice_history` are counted. Nothing is asserted. Everything is
 * stopped at the end.
 *
 *   node services/gateway/bench/status-apply.ts [--events 50000] [--concurrency 16]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  createJobProducer,
  createLogger,
  createPool,
  createRedis,
  type DocumentStatusEvent,
  JOB_CATALOGUE,
  type Pool,
  type Redis,
  runMigrations,
  STATUS_EVENTS_PER_JOB,
} from '@sts/shared';
import { startTestStack, type TestStack, testClock } from '@sts/testkit';
import { Queue } from 'bullmq';
import { buildApp } from '../src/app.ts';
import { gatewayMigrations } from '../src/db/migrations.ts';
import { gatewayAccounts } from '../test-support/index.ts';
import { insertInvoiceRow } from '../test-support/invoice-rows.ts';

/** How long the workers get to apply everything before the figures are printed as they are. */
const APPLY_LIMIT_MS = 3_000_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '50000' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  const requested = Number(values.events);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(requested) || requested < 4) throw new Error('--events must be an integer >= 4');
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error('--concurrency must be a positive integer');
  }
  const invoiceCount = Math.floor(requested / 4);

  printMachine();
  const stack = await startTestStack({ ...process.env, TESTKIT_MODES: process.env.TESTKIT_MODES ?? 'local' });
  const resources: { pool?: Pool; redis?: Redis; blocking?: Redis } = {};
  const stopAll = once(async () => {
    if (resources.pool) await endPool(resources.pool);
    resources.redis?.disconnect();
    resources.blocking?.disconnect();
    await stack.stop();
    console.log('stopped: Postgres, Redis');
  });
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    console.log(`servers: ${stack.describe()}`);
    await measure(stack, resources, { invoiceCount, concurrency });
  } finally {
    await stopAll();
  }
}

async function measure(
  stack: TestStack,
  resources: { pool?: Pool; redis?: Redis; blocking?: Redis },
  options: { invoiceCount: number; concurrency: number },
): Promise<void> {
  const admin = createPool({ url: stack.postgresAdminUrl, max: 1, applicationName: 'gateway-status-bench' });
  await admin.query('create database gateway_status_bench');
  await admin.end();
  const databaseUrl = stack.postgresAdminUrl.replace(/\/[^/]*$/, '/gateway_status_bench');
  await runMigrations(databaseUrl, gatewayMigrations);
  const pool = createPool({ url: databaseUrl, applicationName: 'gateway-status-bench', max: 20 });
  resources.pool = pool;
  const redis = createRedis(stack.redisUrl, 'gateway-status-bench');
  resources.redis = redis;
  const blocking = createRedis(stack.redisUrl, 'gateway-status-bench-workers', { blocking: true });
  resources.blocking = blocking;
  const clock = testClock('2026-03-02T12:00:00Z');

  // The invoices, as the intake would have stored them.
  const { tenants } = gatewayAccounts(pool, clock);
  const tenantId = (await tenants.create({ name: 'Clinica Misura' })).tenant.id;
  const invoices: string[] = [];
  for (let i = 0; i < options.invoiceCount; i += 100) {
    const rows = await Promise.all(
      Array.from({ length: Math.min(100, options.invoiceCount - i) }, () =>
        insertInvoiceRow(pool, { tenantId }),
      ),
    );
    invoices.push(...rows.map((row) => row.id));
  }

  // Their status events, in the queue as the submitter's relay puts them.
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
  const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
  await producer.close();
  // One job's hash as Redis keeps it (the payload is most of it), per event it carries.
  const firstJob = JOB_CATALOGUE['document.status'].jobId(jobs[0]!);
  const jobBytes = Number(
    await redis.call('memory', 'usage', `bull:document-status:${firstJob}`, 'samples', '0'),
  );
  const usedMemory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
  console.log(
    `queued: ${int(events.length)} events (${int(invoices.length)} invoices x 4) in ${int(jobs.length)} jobs of up to ` +
      `${STATUS_EVENTS_PER_JOB}, enqueued in ${enqueueSeconds.toFixed(1)} s`,
  );
  console.log(
    `redis with the queue full: used_memory ${(usedMemory / 1e6).toFixed(1)} MB; one job ${int(jobBytes)} B, ` +
      `${int(jobBytes / jobs[0]!.events.length)} B per event`,
  );

  // The gateway's workers, and the time until every event is in invoice_history. Jobs run side by
  // side, so an invoice's later event can be applied before an earlier one, which is then skipped as
  // stale (by design) and never reaches invoice_history: the wait also ends when no job is left.
  const logger = createLogger({ name: 'gateway', level: 'warn' });
  const app = buildApp({
    logger,
    pool,
    redis,
    clock,
    workers: { connection: blocking, concurrency: options.concurrency },
  });
  const statusQueue = new Queue(JOB_CATALOGUE['document.status'].queue, { connection: redis });
  const jobCounts = () => statusQueue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  const count = async () =>
    (await pool.query<{ n: number }>('select count(*)::int as n from gateway.invoice_history')).rows[0]!.n;
  const start = performance.now();
  let seconds: number;
  let applied: number;
  let counts: Record<string, number>;
  try {
    await app.ready();
    let reported = start;
    for (;;) {
      counts = await jobCounts();
      // Counted after the jobs: a job is completed only once its transaction has committed.
      applied = await count();
      const left = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
      if (applied >= events.length || left === 0 || performance.now() - start >= APPLY_LIMIT_MS) break;
      if (performance.now() - reported >= 10_000) {
        reported = performance.now();
        console.log(
          `  t=${((reported - start) / 1000).toFixed(0)} s: ${int(applied)} events applied; ` +
            `document-status jobs ${JSON.stringify(counts)}`,
        );
      }
      await sleep(200);
    }
    seconds = (performance.now() - start) / 1000;
  } finally {
    await app.close();
    await statusQueue.close();
  }
  const left = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
  console.log(
    `applied: ${int(applied)} of ${int(events.length)} events in invoice_history after ${seconds.toFixed(1)} s ` +
      `with ${options.concurrency} workers: ${int(applied / seconds)} events/s`,
  );
  console.log(
    `jobs: ${int(counts.completed ?? 0)} completed, ${int(counts.failed ?? 0)} failed, ${int(left)} not run` +
      `${left > 0 ? ` (stopped after ${APPLY_LIMIT_MS / 1000} s)` : ''}; ` +
      `${int(events.length - applied)} events not in invoice_history` +
      `${applied < events.length && left === 0 && !counts.failed ? ' (stale: their job ran after a later event of the same invoices)' : ''}`,
  );
  console.log(`load average after: ${loadAverage()}`);
  if (process.env.TESTKIT_MODES === undefined || process.env.TESTKIT_MODES === 'local') {
    console.log('(Postgres as the testkit runs it: fsync, synchronous_commit and full_page_writes off.)');
  }
}

function printMachine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  const memory = Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s*(\d+)/)?.[1] ?? 0);
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 0;
  console.log(
    `machine: ${cores} logical CPUs (${cpu}), ${(memory / 1024 / 1024).toFixed(1)} GiB, Node ${process.version}, ` +
      `load average ${loadAverage()}, ${new Date().toISOString()}`,
  );
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const int = (value: number) => Math.round(value).toLocaleString('en-US');

/** `pool.end()` resolves before its connections have closed: waits for them, so Postgres stops after. */
async function endPool(pool: Pool): Promise<void> {
  const open = pool.totalCount;
  let closed = 0;
  const allClosed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      closed += 1;
      if (closed >= open) resolve();
    });
  });
  await pool.end().catch(() => {});
  await Promise.race([allClosed, sleep(5_000)]);
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

await main();
