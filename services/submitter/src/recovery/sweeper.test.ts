import { randomUUID } from 'node:crypto';
import { createJobProducer, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  documentRows,
  expenseDocument,
  outboxEvents,
  queueJobs,
  takeIn,
} from '../../test-support/documents.ts';
import type { DocumentState } from '../documents/documents-table.ts';
import { createFlushTrigger } from '../jobs/flush-trigger.ts';
import type { CredentialAccess, CredentialRefusal } from '../sending/credential-access.ts';
import { transition } from '../status/document-transitions.ts';
import { createSweeper } from './sweeper.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const STUCK_AFTER_MS = 180_000;
const IDLE_AFTER_MS = 60_000;
const QUEUES = ['send-reconcile', 'file-send', 'outcome-poll', 'document-send', 'batch-flush'];

describe('sweeper', () => {
  let pool: Pool;
  let redis: Redis;
  let blocking: Redis;
  const clock = testClock('2026-01-15T09:00:00Z');
  const tenantId = randomUUID();
  let counter = 0;
  /** The credentials service's boundary: which credentials are usable now (the rest: `unusable`). */
  const usable = new Set<string>();
  const credentials: Pick<CredentialAccess, 'profileOf'> = {
    profileOf: async (credentialId) =>
      usable.has(credentialId)
        ? ({ ok: true, profile: { credentialId } } as Awaited<ReturnType<CredentialAccess['profileOf']>>)
        : ({ ok: false, reason: 'unusable' } satisfies CredentialRefusal),
  };
  let sweeper: ReturnType<typeof createSweeper>;
  let reconcileQueue: Queue;

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'submitter-sweeper-test' });
    redis = createRedis(redisDatabase.url, 'submitter-sweeper-test');
    blocking = createRedis(redisDatabase.url, 'submitter-sweeper-test-worker', { blocking: true });
    const producer = createJobProducer({ service: 'submitter', connection: redis });
    reconcileQueue = new Queue('send-reconcile', { connection: redis });
    sweeper = createSweeper({
      pool,
      clock,
      logger: { info: () => {}, warn: () => {} },
      producer,
      reconcileQueue,
      flush: createFlushTrigger({ producer, clock }),
      credentials,
      options: { stuckAfterMs: STUCK_AFTER_MS, idleAfterMs: IDLE_AFTER_MS },
    });
  });
  afterAll(async () => {
    await reconcileQueue.close();
    await pool.end();
    redis.disconnect();
    blocking.disconnect();
  });
  beforeEach(async () => {
    for (const name of QUEUES) {
      const queue = new Queue(name, { connection: redis });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await pool.query('delete from submitter.status_outbox');
    await pool.query(`update submitter.documents set state = 'accepted'`);
    await pool.query(`update submitter.files set state = 'completed'`);
  });

  async function move(invoiceIds: string[], from: DocumentState[], to: DocumentState, extra = {}) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await transition(client, { invoiceIds, from, to, at: clock(), ...extra });
      await client.query('commit');
    } finally {
      client.release();
    }
  }
  const queued = (credentialId: string, count: number) =>
    takeIn(
      { pool, clock },
      tenantId,
      Array.from({ length: count }, () => ({ credentialId, document: expenseDocument(counter++) })),
    );
  /** A single send, assigned (and, with `submitting`, begun now). */
  async function singleSend(credentialId: string, submitting = false) {
    const [id] = (await queued(credentialId, 1)) as [string];
    const submissionId = randomUUID();
    await move([id], ['queued'], 'assigned', { submissionId });
    if (submitting) await move([id], ['assigned'], 'submitting');
    return { id, submissionId };
  }
  /** A file of `count` documents in `state`, its documents in `documentState`, last changed now. */
  async function file(
    credentialId: string,
    state: string,
    documentState: DocumentState,
    extra: { sendAttempt?: number; pollRound?: number } = {},
  ) {
    const fileId = randomUUID();
    await pool.query(
      `insert into submitter.files (id, tenant_id, credential_id, state, file_name, document_count, zip_bytes,
              send_attempt, poll_round, submitting_since, created_at, updated_at)
       values ($1, $2, $3, $4, 'f.zip', 2, 1000, $5, $6, case when $4 = 'submitting' then $7::timestamptz end, $7, $7)`,
      [fileId, tenantId, credentialId, state, extra.sendAttempt ?? 1, extra.pollRound ?? 0, clock()],
    );
    const ids = await queued(credentialId, 2);
    await move(ids, ['queued'], 'assigned', { fileId });
    if (documentState !== 'assigned') {
      await pool.query('update submitter.documents set state = $2 where invoice_id = any($1::uuid[])', [
        ids,
        documentState,
      ]);
    }
    return { fileId, ids };
  }
  const fileState = async (fileId: string) =>
    (await pool.query<{ state: string }>('select state from submitter.files where id = $1', [fileId]))
      .rows[0]!.state;
  const jobs = async (queue: string) =>
    (await queueJobs(redis, queue)).map(({ id, data, state }) => ({ id, data, state }));

  it('a single send left `submitting` past stuckAfterMs becomes uncertain and gets a send.reconcile job', async () => {
    const credentialId = randomUUID();
    const stuck = await singleSend(credentialId, true);
    clock.advance(STUCK_AFTER_MS - 1000);
    const recent = await singleSend(credentialId, true);
    clock.advance(1001);
    await pool.query('delete from submitter.status_outbox');
    await sweeper.sweep();

    const rows = await documentRows(pool, [stuck.id, recent.id]);
    expect(rows.get(stuck.id)).toMatchObject({
      state: 'uncertain',
      cause: 'answer-lost',
      submittingSince: null,
    });
    expect(rows.get(recent.id)!.state).toBe('submitting');
    expect((await outboxEvents(pool)).map((event) => [event.invoiceId, event.status])).toEqual([
      [stuck.id, 'uncertain'],
    ]);
    expect(await jobs('send-reconcile')).toEqual([
      {
        id: `reconcile-submission-${stuck.submissionId}-1`,
        data: { tenantId, target: 'submission', targetId: stuck.submissionId, attempt: 1 },
        state: 'waiting',
      },
    ]);
  });

  it('a file left `submitting` becomes uncertain with its documents and gets a send.reconcile job of its attempt', async () => {
    const credentialId = randomUUID();
    const stuck = await file(credentialId, 'submitting', 'submitting', { sendAttempt: 2 });
    clock.advance(STUCK_AFTER_MS + 1);
    await pool.query('delete from submitter.status_outbox');
    await sweeper.sweep();
    // A second pass finds nothing more to do.
    await sweeper.sweep();

    expect(await fileState(stuck.fileId)).toBe('uncertain');
    const rows = await documentRows(pool, stuck.ids);
    expect([...rows.values()].map((row) => [row.state, row.cause])).toEqual(
      Array(2).fill(['uncertain', 'answer-lost']),
    );
    expect(await outboxEvents(pool)).toHaveLength(2);
    expect(await jobs('send-reconcile')).toEqual([
      {
        id: `reconcile-file-${stuck.fileId}-2`,
        data: { tenantId, target: 'file', targetId: stuck.fileId, attempt: 2 },
        state: 'waiting',
      },
    ]);
  });

  it('ready and received files and assigned single sends idle past idleAfterMs get their jobs again', async () => {
    const credentialId = randomUUID();
    const ready = await file(credentialId, 'ready', 'assigned', { sendAttempt: 3 });
    const received = await file(credentialId, 'received', 'submitted', { pollRound: 4 });
    const single = await singleSend(credentialId);
    clock.advance(IDLE_AFTER_MS + 1);
    const fresh = await file(credentialId, 'ready', 'assigned');
    await pool.query('delete from submitter.status_outbox');
    await sweeper.sweep();
    await sweeper.sweep();

    expect(await jobs('file-send')).toEqual([
      {
        id: `file-send-${ready.fileId}-3`,
        data: { tenantId, fileId: ready.fileId, attempt: 3 },
        state: 'waiting',
      },
    ]);
    expect(await jobs('outcome-poll')).toEqual([
      {
        id: `outcome-poll-${received.fileId}-4`,
        data: { tenantId, fileId: received.fileId, round: 4 },
        state: 'waiting',
      },
    ]);
    expect(await jobs('document-send')).toEqual([
      {
        id: `document-send-${single.submissionId}`,
        data: { tenantId, submissionId: single.submissionId },
        state: 'waiting',
      },
    ]);
    expect((await jobs('file-send')).some((job) => job.data.fileId === fresh.fileId)).toBe(false);
    expect(await outboxEvents(pool)).toEqual([]);
  });

  it('gives every credential with queued documents a dispatch round', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    await queued(first, 2);
    await queued(second, 1);
    await sweeper.sweep();
    const flushes = await jobs('batch-flush');
    expect(flushes.map((job) => job.data.credentialId).sort()).toEqual([first, second].sort());
  });

  it('blockCredential blocks waiting documents and ready files at once, not sends under way', async () => {
    const credentialId = randomUUID();
    const [waiting] = (await queued(credentialId, 1)) as [string];
    const single = await singleSend(credentialId);
    const ready = await file(credentialId, 'ready', 'assigned');
    const sending = await file(credentialId, 'submitting', 'submitting');
    await pool.query('delete from submitter.status_outbox');

    expect(await sweeper.blockCredential(credentialId, 'credential-unusable', clock())).toBe(4);
    const rows = await documentRows(pool, [waiting, single.id, ...ready.ids, ...sending.ids]);
    for (const id of [waiting, single.id, ...ready.ids])
      expect(rows.get(id)).toMatchObject({ state: 'blocked', cause: 'credential-unusable' });
    for (const id of sending.ids) expect(rows.get(id)!.state).toBe('submitting');
    expect(await fileState(ready.fileId)).toBe('blocked');
    expect(await fileState(sending.fileId)).toBe('submitting');
    expect((await outboxEvents(pool)).map((event) => event.status)).toEqual(Array(4).fill('blocked'));
  });

  it('resumeCredential: blocked files go again (a new file.send job), loose documents are queued again', async () => {
    const credentialId = randomUUID();
    const [waiting] = (await queued(credentialId, 1)) as [string];
    const single = await singleSend(credentialId);
    const blockedFile = await file(credentialId, 'ready', 'assigned');
    // The file's job ran while the credential was blocked and completed (nothing sent), as file.send does.
    const producer = createJobProducer({ service: 'submitter', connection: redis });
    await producer.enqueue('file.send', { tenantId, fileId: blockedFile.fileId, attempt: 1 });
    const worker = new Worker('file-send', null, { connection: blocking });
    const job = (await worker.getNextJob('test-token'))!;
    await job.moveToCompleted('blocked', 'test-token', false);
    await worker.close();
    await producer.close();
    await sweeper.blockCredential(credentialId, 'credential-unusable', clock());
    await pool.query('delete from submitter.status_outbox');

    clock.advance(1000);
    await sweeper.resumeCredential(tenantId, credentialId, clock());
    expect(await fileState(blockedFile.fileId)).toBe('ready');
    const rows = await documentRows(pool, [waiting, single.id, ...blockedFile.ids]);
    for (const id of blockedFile.ids)
      expect(rows.get(id)).toMatchObject({ state: 'assigned', fileId: blockedFile.fileId });
    for (const id of [waiting, single.id])
      expect(rows.get(id)).toMatchObject({
        state: 'queued',
        submissionId: null,
        fileId: null,
        cause: 'credential-usable',
      });
    const events = await outboxEvents(pool);
    expect(events.map((event) => event.status)).toEqual(Array(4).fill('queued'));

    // The file gets a job that will send it: waiting, of an attempt file.send does not ignore.
    const { rows: after } = await pool.query<{ sendAttempt: number }>(
      'select send_attempt as "sendAttempt" from submitter.files where id = $1',
      [blockedFile.fileId],
    );
    const sendJobs = (await jobs('file-send')).filter((job) => job.state === 'waiting');
    expect(sendJobs).toHaveLength(1);
    expect(sendJobs[0]!.data).toMatchObject({ fileId: blockedFile.fileId, attempt: after[0]!.sendAttempt });
    expect((await jobs('batch-flush')).map((job) => job.data.credentialId)).toEqual([credentialId]);
  });

  it('the sweep resumes a credential usable again, and leaves one still unusable blocked', async () => {
    const [back, still] = [randomUUID(), randomUUID()];
    const [resumed] = (await queued(back, 1)) as [string];
    const [kept] = (await queued(still, 1)) as [string];
    await sweeper.blockCredential(back, 'credential-unusable', clock());
    await sweeper.blockCredential(still, 'credential-unusable', clock());
    usable.add(back);
    await sweeper.sweep();
    const rows = await documentRows(pool, [resumed, kept]);
    expect(rows.get(resumed)!.state).toBe('queued');
    expect(rows.get(kept)!.state).toBe('blocked');
  });

  it('a single send left uncertain past idleAfterMs (its reconcile job lost) gets its send.reconcile job again', async () => {
    const credentialId = randomUUID();
    const lost = await singleSend(credentialId, true);
    await move([lost.id], ['submitting'], 'uncertain', { cause: 'answer-lost' });
    clock.advance(IDLE_AFTER_MS - 1000);
    const recent = await singleSend(credentialId, true);
    await move([recent.id], ['submitting'], 'uncertain', { cause: 'answer-lost' });
    clock.advance(1001);
    await sweeper.sweep();

    expect(await jobs('send-reconcile')).toEqual([
      {
        id: `reconcile-submission-${lost.submissionId}-1`,
        data: { tenantId, target: 'submission', targetId: lost.submissionId, attempt: 1 },
        state: 'waiting',
      },
    ]);
  });

  it('an uncertain send whose reconcile job completed gets a new one; one whose job failed is left failed', async () => {
    const credentialId = randomUUID();
    const completed = await singleSend(credentialId, true);
    const failed = await singleSend(credentialId, true);
    // Both reconcile jobs ran before the sends turned uncertain (again): one completed, one used up
    // its attempts. BullMQ keeps them under their ids, so a plain enqueue would be no job at all.
    const oneAttempt = createJobProducer({
      service: 'submitter',
      connection: redis,
      retryOverrides: {
        'send.reconcile': { attempts: 1, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } },
      },
    });
    for (const send of [completed, failed])
      await oneAttempt.enqueue('send.reconcile', {
        tenantId,
        target: 'submission',
        targetId: send.submissionId,
        attempt: 1,
      });
    await oneAttempt.close();
    const worker = new Worker('send-reconcile', null, { connection: blocking });
    for (let n = 0; n < 2; n++) {
      const job = (await worker.getNextJob('test-token'))!;
      if (job.data.targetId === completed.submissionId)
        await job.moveToCompleted('done', 'test-token', false);
      else await job.moveToFailed(new Error('the STS answered 503'), 'test-token', false);
    }
    await worker.close();
    for (const send of [completed, failed])
      await move([send.id], ['submitting'], 'uncertain', { cause: 'answer-lost' });
    clock.advance(IDLE_AFTER_MS + 1000);
    await sweeper.sweep();

    const byId = new Map((await jobs('send-reconcile')).map((job) => [job.id, job]));
    expect(byId.get(`reconcile-submission-${completed.submissionId}-1`)).toEqual({
      id: `reconcile-submission-${completed.submissionId}-1`,
      data: { tenantId, target: 'submission', targetId: completed.submissionId, attempt: 1 },
      state: 'waiting',
    });
    // Left to operators (`jobs failed`, `documents uncertain`, `documents reconcile`): no loop.
    expect(byId.get(`reconcile-submission-${failed.submissionId}-1`)?.state).toBe('failed');
    expect(byId.size).toBe(2);
  });
});
