import { gatewayAccounts, invoiceEvent, vatNumber } from '@sts/gateway/testing';
import { createPool, createRedis, type Pool } from '@sts/shared';
import { useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential as createTestCredential, gatewayApi, simulatorAdmin } from '../support/clients.ts';
import { type Stack, startStack } from '../support/stack.ts';
import { type RestartableRedis, startRestartableRedis } from './restartable-redis.ts';

const database = useTestDatabase();

/** Invoice inserts posted (plus their updates and cancellations); PIPELINE_FAULT_EVENTS=2000 for a bigger run. */
const EVENTS = Number(process.env.PIPELINE_FAULT_EVENTS ?? 120);
/** How many times the submitter is SIGKILLed while documents are being sent. */
const KILLS = Number(process.env.PIPELINE_FAULT_KILLS ?? 3);
/**
 * `aof` (default): Redis keeps its data across the restart, as production must run it (docs/decisions.md,
 * "The pipeline under faults"). `volatile`: nothing persisted, the restart empties Redis; documents
 * whose `documents.accepted` job, or statuses whose `document.status` job, was in Redis then are lost
 * (a known gap: redis-loss-gap.test.ts).
 */
const REDIS_PERSISTENCE = process.env.PIPELINE_FAULT_REDIS === 'volatile' ? 'none' : 'aof';
/** How long every event may take to become final, from the first post. */
const FINAL_WITHIN_MS = Number(process.env.PIPELINE_FAULT_DEADLINE_MS ?? 150_000 + EVENTS * 150);

const BATCH_DOCTOR = { username: 'BTCMRA80A01H501U', password: 'Batch.Pw.1', pincode: '7310486295' };
const REALTIME_DOCTOR = { username: 'RLTMRA80A01H501U', password: 'Realtime.Pw.1', pincode: '7310486296' };
const BATCH_VAT = vatNumber('0123456789');
const REALTIME_VAT = vatNumber('0987654321');
const OPEN = 'received,queued,submitting,submitted,uncertain,blocked';
/** The submitter's own queues: what it alone produces and consumes (the sweeper's to recover). */
const SUBMITTER_QUEUES = [
  'batch-flush',
  'file-send',
  'document-send',
  'outcome-poll',
  'receipt-fetch',
  'send-reconcile',
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (start: number, text: string) =>
  console.log(`[pipeline-faults +${((Date.now() - start) / 1000).toFixed(1)} s] ${text}`);

/**
 * The end-to-end run of tests/pipeline under faults (issue 12, acceptance): while invoice events
 * (inserts, then updates and cancellations of some) go through the gateway to the STS simulator, the
 * simulator answers 503s, resets connections, processes calls and drops their answers, and is slow;
 * the submitter is SIGKILLed mid-send several times and started again; Redis is restarted under the
 * running parts; and the submitter's own queued jobs are wiped once. Still: every event final with
 * its expected status, every document stored at the STS exactly once, nothing `uncertain` or
 * `blocked` left.
 */
describe('the pipeline under faults', () => {
  let redis: RestartableRedis;
  let stack: Stack;
  let pool: Pool;
  let key: string;

  beforeAll(async () => {
    redis = await startRestartableRedis({ persistence: REDIS_PERSISTENCE });
    stack = await startStack({
      databaseUrl: database.url,
      redisUrl: redis.url,
      simulatorUsers: [
        { ...BATCH_DOCTOR, kind: 'professional', owner: { vatNumber: BATCH_VAT } },
        { ...REALTIME_DOCTOR, kind: 'professional', owner: { vatNumber: REALTIME_VAT } },
      ],
      env: {
        submitter: {
          // Lost answers are told within 3 s; a send still `submitting` 8 s on outlived its worker.
          STS_RESPONSE_TIMEOUT_MS: '3000',
          SUBMITTER_STUCK_AFTER_MS: '8000',
          SUBMITTER_IDLE_AFTER_MS: '3000',
          SUBMITTER_SWEEP_INTERVAL_MS: '500',
          // A killed sender's in-flight slot frees itself at most this long after its last renewal.
          SUBMITTER_IN_FLIGHT_LEASE_MS: '5000',
        },
      },
    });
    pool = createPool({ url: database.url, applicationName: 'pipeline-faults-test' });
    key = (await gatewayAccounts(pool).tenants.create({ name: 'Clinica Guasti' })).firstKey.key;
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
  const admin = simulatorAdmin(() => stack);

  const createCredential = (
    doctor: typeof BATCH_DOCTOR,
    vat: string,
    sendingMode: string,
    extra: Record<string, unknown> = {},
  ) => createTestCredential(api, { doctor, vatNumber: vat, sendingMode, extra });

  const submitterStates = async () => {
    const { rows } = await pool.query<{ state: string; count: string }>(
      'select state, count(*) from submitter.documents group by state',
    );
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)])) as Record<string, number>;
  };
  const sendsInFlight = async () => {
    const { rows } = await pool.query<{ count: string }>(
      `select count(*) from submitter.documents where state = 'submitting'`,
    );
    return Number(rows[0]!.count);
  };
  const finalSince = async (since: Date) => {
    const { rows } = await pool.query<{ count: string }>(
      `select count(*) from submitter.documents
        where state in ('accepted', 'accepted_with_warnings', 'rejected') and updated_at > $1`,
      [since],
    );
    return Number(rows[0]!.count);
  };
  /** Waits (bounded) until a send is in flight, kills the submitter, starts it again. */
  const killMidSend = async (start: number, label: string) => {
    const until = Date.now() + 20_000;
    let inFlight = 0;
    for (;;) {
      inFlight = await sendsInFlight();
      if (inFlight > 0 || Date.now() >= until) break;
      await sleep(10);
    }
    await stack.kill('submitter');
    log(start, `${label}: submitter SIGKILLed with ${inFlight} document(s) submitting`);
    return inFlight;
  };
  /** Deletes every key of the submitter's own queues (a Redis that lost them), the submitter down. */
  const wipeSubmitterQueues = async () => {
    const client = createRedis(redis.url, 'pipeline-faults-wipe');
    let deleted = 0;
    try {
      for (const queue of SUBMITTER_QUEUES) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `bull:${queue}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) deleted += await client.del(...keys);
        } while (cursor !== '0');
      }
    } finally {
      client.disconnect();
    }
    return deleted;
  };

  it(
    'loses nothing and duplicates nothing while the submitter is killed, Redis restarts and the STS fails',
    async () => {
      const start = Date.now();
      await createCredential(BATCH_DOCTOR, BATCH_VAT, 'batch');
      await createCredential(REALTIME_DOCTOR, REALTIME_VAT, 'realtime', {
        pacing: { maxInFlight: 1, requestsPerMinute: 600 },
      });

      // The STS misbehaves. Sends (where exactly once is at stake) fail at random for the whole run:
      // 503s and resets before any work, lost answers after it, and a slow STS; the first sends of each
      // kind surely. The read-only calls (outcome, receipt, point query) fail once each: their jobs back
      // off by 30 s and more (the catalogue's policy), which at random would only stretch the run.
      const faults: Record<string, unknown>[] = [
        { kind: 'lost-answer', operation: 'upload', count: 1 },
        { kind: 'http-503', operation: 'upload', count: 1 },
        { kind: 'lost-answer', operation: 'insert', count: 2 },
        { kind: 'reset', operation: 'insert', count: 1 },
        { kind: 'http-503', operation: 'outcome', count: 1 },
        { kind: 'reset', operation: 'errorDetail', count: 1 },
        { kind: 'http-503', operation: 'pointQuery', count: 1 },
        { kind: 'latency', latencyMs: 400, probability: 0.3 },
      ];
      for (const operation of ['upload', 'insert', 'update', 'cancel'])
        faults.push(
          { kind: 'http-503', operation, probability: 0.1 },
          { kind: 'reset', operation, probability: 0.06 },
          { kind: 'lost-answer', operation, probability: 0.08 },
        );
      for (const fault of faults) {
        const added = await admin('POST', '/faults', fault);
        expect(added.status, added.text).toBe(201);
      }

      // Inserts: a third for the realtime credential, the rest batched; some paid in a closed year.
      const expected = new Map<string, { status: string }>();
      const inserts: { vat: string; n: number; document: Record<string, any> }[] = [];
      const rejected = new Set<number>();
      const lines: string[] = [];
      for (let n = 1; n <= EVENTS; n++) {
        const vat = n % 3 === 0 ? REALTIME_VAT : BATCH_VAT;
        const base = invoiceEvent(n);
        const document: Record<string, any> = {
          ...base.document,
          id: { ...base.document.id, vatNumber: vat },
        };
        if (n % 10 === 0) document.patient = { kind: 'opposed' };
        if (n % 17 === 0) {
          // Paid in 2023: the gateway lets a test credential's closed year through; the STS refuses it (S035).
          document.paymentDate = '2023-05-10';
          document.id = { ...document.id, issueDate: '2023-05-10' };
          rejected.add(n);
        } else inserts.push({ vat, n, document });
        lines.push(JSON.stringify({ operation: 'insert', document }));
      }
      const sent = await api('POST', '/v1/invoices/batch', `${lines.join('\n')}\n`, 'application/x-ndjson');
      expect(sent.status, sent.text).toBe(200);
      expect(sent.json.summary.rejected, sent.text).toBe(0);
      for (const item of sent.json.items)
        expected.set(item.invoice.id, { status: rejected.has(item.line) ? 'rejected' : 'accepted' });
      log(start, `${lines.length} inserts accepted by the gateway`);

      // Then updates (a new amount) and cancellations of some, while the inserts are being sent.
      const updated = new Set<number>();
      const cancelled = new Set<number>();
      const followUps: string[] = [];
      for (const { n, document } of inserts) {
        if (n % 4 === 1) {
          updated.add(n);
          followUps.push(
            JSON.stringify({
              operation: 'update',
              document: {
                ...document,
                lines: [{ expenseType: 'SR', amount: `${20 + (n % 50)}.50`, vatNature: 'N4' }],
              },
            }),
          );
        }
        if (n % 6 === 2 || n % 20 === 13) {
          cancelled.add(n);
          followUps.push(JSON.stringify({ operation: 'cancel', document: { id: document.id } }));
        }
      }
      const more = await api(
        'POST',
        '/v1/invoices/batch',
        `${followUps.join('\n')}\n`,
        'application/x-ndjson',
      );
      expect(more.status, more.text).toBe(200);
      expect(more.json.summary.rejected, more.text).toBe(0);
      for (const item of more.json.items) expected.set(item.invoice.id, { status: 'accepted' });
      log(start, `${updated.size} updates and ${cancelled.size} cancellations accepted by the gateway`);

      // The submitter killed mid-send, Redis restarted under the running parts, the submitter's own
      // jobs wiped once while it is down.
      const kills: number[] = [];
      for (let kill = 1; kill <= KILLS; kill++) {
        kills.push(await killMidSend(start, `kill ${kill}`));
        if (kill === KILLS) {
          const deleted = await wipeSubmitterQueues();
          log(start, `submitter's queues wiped (${deleted} Redis keys)`);
        }
        await sleep(300);
        await stack.start('submitter');
        log(start, `submitter up again; states ${JSON.stringify(await submitterStates())}`);
        if (kill === 1) {
          await sleep(1_500);
          await redis.restart({ downMs: 1_500 });
          log(start, `Redis restarted (${REDIS_PERSISTENCE === 'aof' ? 'AOF kept' : 'emptied'})`);
        }
        // Work must move between two kills, or the next one would kill an idle submitter.
        const restartedAt = new Date();
        const until = Date.now() + 12_000;
        while (Date.now() < until && (await finalSince(restartedAt)) < 3) await sleep(100);
      }

      // Every event final.
      let open = Number.POSITIVE_INFINITY;
      while (Date.now() - start < FINAL_WITHIN_MS) {
        const list = await api('GET', `/v1/invoices?status=${OPEN}&limit=1`);
        expect(list.status, list.text).toBe(200);
        open = list.json.items.length;
        if (open === 0) break;
        await sleep(500);
      }
      const states = await submitterStates();
      log(start, `open events: ${open}; submitter states ${JSON.stringify(states)}`);
      if (open > 0) {
        const { rows } = await pool.query(
          `select invoice_id, operation, state, cause, file_id, submission_id, chain_sequence, updated_at
           from submitter.documents where state not in ('accepted', 'accepted_with_warnings', 'rejected')
          order by updated_at limit 20`,
        );
        expect.fail(
          `still open after ${FINAL_WITHIN_MS} ms; submitter states ${JSON.stringify(states)}\n${JSON.stringify(rows, null, 1)}\n${stack.output('submitter').slice(-4000)}`,
        );
      }
      expect(
        Object.keys(states).filter(
          (state) => !['accepted', 'accepted_with_warnings', 'rejected'].includes(state),
        ),
      ).toEqual([]);

      // …each with its expected status.
      const mismatches: string[] = [];
      for (const [invoiceId, { status }] of expected) {
        const invoice = await api('GET', `/v1/invoices/${invoiceId}`);
        if (invoice.json?.status !== status)
          mismatches.push(`expected ${status}: ${invoice.text.slice(0, 800)}`);
      }
      expect(mismatches).toEqual([]);

      // Every document stored at the STS exactly once; updates and cancellations arrived.
      for (const { vat, n, document } of inserts) {
        const id = document.id;
        const counter = await admin(
          'GET',
          `/counters/document?vatNumber=${vat}&issueDate=${id.issueDate}&device=${id.device}&number=${encodeURIComponent(id.number)}`,
        );
        expect(counter.status, counter.text).toBe(200);
        // Stored once, and every operation received once: a send whose answer was lost is asked
        // about, never sent again blindly (a second arrival would be answered S017 or W010).
        expect(counter.json, `FT2026/${n}`).toMatchObject({
          stored: 1,
          received: { insert: 1, update: updated.has(n) ? 1 : 0, cancel: cancelled.has(n) ? 1 : 0 },
        });
      }
      const fired = (await admin('GET', '/faults')).json as { kind: string; fired: number }[];
      const firedByKind: Record<string, number> = {};
      for (const fault of fired) firedByKind[fault.kind] = (firedByKind[fault.kind] ?? 0) + fault.fired;
      log(
        start,
        `all final; kills with ${kills.join('/')} sends in flight; faults fired ${JSON.stringify(firedByKind)} (the counted ones removed themselves)`,
      );
      expect(kills.length).toBe(KILLS);
      expect(
        kills.filter((inFlight) => inFlight > 0).length,
        'kills that caught a send in flight',
      ).toBeGreaterThanOrEqual(Math.min(KILLS, 3));
    },
    FINAL_WITHIN_MS + 120_000,
  );
});
