import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createJobProducer, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expenseDocument, queueJobs, takeIn } from '../../test-support/documents.ts';
import type { DocumentState } from '../documents/documents-table.ts';
import { transition } from '../status/document-transitions.ts';
import { createUncertainDocuments } from './uncertain-documents.ts';

const run = promisify(execFile);
const database = useTestDatabase();
const redisDatabase = useTestRedis();
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const QUEUE = 'send-reconcile';

describe('uncertain documents: listed, and reconciled on demand without doubling a job', () => {
  let pool: Pool;
  let redis: Redis;
  let blocking: Redis;
  const clock = testClock('2026-01-15T09:00:00Z');
  const tenantId = randomUUID();
  const fileCredential = randomUUID();
  const singleCredential = randomUUID();
  let counter = 0;
  let fileId: string;
  let fileDocuments: string[];
  let single: { id: string; submissionId: string };
  let later: { id: string; submissionId: string };
  let settled: string;

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
  /** A single send whose answer was lost. */
  async function uncertainSingle(credentialId: string) {
    const [id] = (await queued(credentialId, 1)) as [string];
    const submissionId = randomUUID();
    await move([id], ['queued'], 'assigned', { submissionId });
    await move([id], ['assigned'], 'submitting');
    await move([id], ['submitting'], 'uncertain', { cause: 'answer-lost' });
    return { id, submissionId };
  }

  /** Runs the reconcile queue with `process` until `count` jobs have settled (completed or failed). */
  async function work(process: () => Promise<void>, count: number) {
    const worker = new Worker(QUEUE, process, { connection: blocking, autorun: false });
    let settledJobs = 0;
    const done = new Promise<void>((resolve) => {
      const one = () => {
        settledJobs += 1;
        if (settledJobs === count) resolve();
      };
      // Every attempt's end: a failure that will be retried too.
      worker.on('failed', one);
      worker.on('completed', one);
    });
    void worker.run();
    await done;
    await worker.close();
  }

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'uncertain-documents-test' });
    redis = createRedis(redisDatabase.url, 'uncertain-documents-test');
    blocking = createRedis(redisDatabase.url, 'uncertain-documents-worker', { blocking: true });
    // A 730 file sent twice, its second upload's answer lost: the file and its documents uncertain.
    fileId = randomUUID();
    await pool.query(
      `insert into submitter.files (id, tenant_id, credential_id, state, file_name, document_count, zip_bytes,
              send_attempt, sent_at, created_at, updated_at)
       values ($1, $2, $3, 'uncertain', 'f.zip', 2, 1000, 2, $4, $4, $4)`,
      [fileId, tenantId, fileCredential, clock()],
    );
    fileDocuments = await queued(fileCredential, 2);
    await move(fileDocuments, ['queued'], 'assigned', { fileId });
    await move(fileDocuments, ['assigned'], 'uncertain', { cause: 'answer-lost' });
    clock.advance(60_000);
    single = await uncertainSingle(singleCredential);
    clock.advance(1_000);
    later = await uncertainSingle(singleCredential);
    [settled] = (await queued(singleCredential, 1)) as [string];
    clock.advance(239_000);
  });
  afterAll(async () => {
    await pool.end();
    redis.disconnect();
    blocking.disconnect();
  });

  it('lists each uncertain send with its credential, age and attempts, and counts per credential', async () => {
    const uncertain = createUncertainDocuments({ pool, redis, clock });
    try {
      const report = await uncertain.list();
      expect(report.sends).toEqual([
        expect.objectContaining({
          target: 'file',
          targetId: fileId,
          credentialId: fileCredential,
          tenantId,
          documents: 2,
          sendAttempt: 2,
          ageSeconds: 300,
          reconcile: { jobId: `reconcile-file-${fileId}-2`, state: 'none', attempts: 0 },
        }),
        expect.objectContaining({
          target: 'submission',
          targetId: single.submissionId,
          invoiceId: single.id,
          credentialId: singleCredential,
          documents: 1,
          sendAttempt: 1,
          ageSeconds: 240,
        }),
        expect.objectContaining({ target: 'submission', invoiceId: later.id }),
      ]);
      expect(report.perCredential).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ credentialId: fileCredential, documents: 2, files: 1, singleSends: 0 }),
          expect.objectContaining({ credentialId: singleCredential, documents: 2, files: 0, singleSends: 2 }),
        ]),
      );
      expect((await uncertain.list({ credentialId: fileCredential })).sends).toHaveLength(1);
    } finally {
      await uncertain.close();
    }
  });

  it('enqueues what is missing, runs now what waits for a retry, re-drives what failed, never doubles', async () => {
    // The file's reconcile job used up its attempts; the single send's failed once and waits its backoff.
    const oneAttempt = createJobProducer({
      service: 'submitter',
      connection: redis,
      retryOverrides: {
        'send.reconcile': { attempts: 1, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } },
      },
    });
    await oneAttempt.enqueue('send.reconcile', { tenantId, target: 'file', targetId: fileId, attempt: 2 });
    await oneAttempt.close();
    const catalogue = createJobProducer({ service: 'submitter', connection: redis });
    await catalogue.enqueue('send.reconcile', {
      tenantId,
      target: 'submission',
      targetId: single.submissionId,
      attempt: 1,
    });
    await catalogue.close();
    await work(async () => {
      throw new Error('the STS answered 503');
    }, 2);

    const uncertain = createUncertainDocuments({ pool, redis, clock });
    try {
      const listed = await uncertain.list();
      expect(listed.sends.map((send) => send.reconcile)).toEqual([
        { jobId: `reconcile-file-${fileId}-2`, state: 'failed', attempts: 1, reason: 'the STS answered 503' },
        expect.objectContaining({ state: 'delayed', attempts: 1 }),
        { jobId: `reconcile-submission-${later.submissionId}-1`, state: 'none', attempts: 0 },
      ]);

      const first = await uncertain.reconcile();
      expect(first.requested.map((send) => [send.targetId, send.action, send.reconcile.state])).toEqual([
        [fileId, 'retried', 'waiting'],
        [single.submissionId, 'promoted', 'waiting'],
        [later.submissionId, 'enqueued', 'waiting'],
      ]);
      // Asked again: all three are queued already, and stay one job each.
      const again = await uncertain.reconcile();
      expect(again.requested.map((send) => send.action)).toEqual([
        'already-queued',
        'already-queued',
        'already-queued',
      ]);
      expect((await queueJobs(redis, QUEUE)).map((job) => job.state)).toEqual([
        'waiting',
        'waiting',
        'waiting',
      ]);
    } finally {
      await uncertain.close();
    }
  });

  it('queues again a job that finished while its send was still uncertain', async () => {
    await work(async () => {}, 3);
    const uncertain = createUncertainDocuments({ pool, redis, clock });
    try {
      const report = await uncertain.reconcile({ invoiceIds: [later.id] });
      expect(report.requested).toEqual([
        expect.objectContaining({
          targetId: later.submissionId,
          action: 'enqueued',
          reconcile: expect.objectContaining({ state: 'waiting', attempts: 0 }),
        }),
      ]);
      expect(report.skipped).toEqual([]);
    } finally {
      await uncertain.close();
    }
  });

  it('the CLI lists and reconciles as JSON; a named document that is not uncertain exits 1, bad ids exit 2', async () => {
    const env = { ...process.env, DATABASE_URL: database.url, REDIS_URL: redisDatabase.url };
    const listed = await run(process.execPath, [CLI, 'documents', 'uncertain', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toMatchObject({
      sends: [{ targetId: fileId }, { targetId: single.submissionId }, { targetId: later.submissionId }],
    });
    const text = await run(
      process.execPath,
      [CLI, 'documents', 'uncertain', '--credential', fileCredential],
      {
        env,
      },
    );
    expect(text.stdout).toContain(`file ${fileId} (2 documents) credential ${fileCredential}`);
    expect(text.stdout).toContain(`${fileCredential} (tenant ${tenantId}): 2 documents uncertain`);

    // The file's documents name the file (whose last job finished: queued again); a document that
    // is not uncertain is refused with its state.
    const refused = await run(
      process.execPath,
      [CLI, 'documents', 'reconcile', '--document', fileDocuments[1]!, settled, '--json'],
      { env },
    ).catch((error: { code: number; stdout: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect(JSON.parse(refused.stdout)).toMatchObject({
      requested: [{ target: 'file', targetId: fileId, action: 'enqueued' }],
      skipped: [{ invoiceId: settled, state: 'queued' }],
    });
    const one = await run(
      process.execPath,
      [CLI, 'documents', 'reconcile', '--credential', singleCredential],
      {
        env,
      },
    );
    expect(one.stdout).toContain(`enqueued: document ${single.id}`);
    expect(one.stdout).toContain(`already-queued: document ${later.id}`);
    expect((await queueJobs(redis, QUEUE)).map((job) => job.state)).toEqual([
      'waiting',
      'waiting',
      'waiting',
    ]);

    const bad = await run(process.execPath, [CLI, 'documents', 'reconcile', '--credential', 'nope'], {
      env,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('--credential must be a UUID');
  });
});
