import { type Clock, inTransaction, type JobProducer, type Logger, type Pool } from '@sts/shared';
import type { FlushTrigger } from '../jobs/flush-trigger.ts';
import type { CredentialAccess } from '../sending/credential-access.ts';
import { CAUSES } from '../sending/failure-outcome.ts';
import { transition } from '../status/document-transitions.ts';
import { type ReconcileQueue, requestReconcile, SWEEPER_POLICY } from './reconcile-job.ts';
import { reconcileUncertain } from './uncertain-sends.ts';

export interface SweeperOptions {
  /** A send still `submitting` after this long lost its worker (crash): it is reconciled. */
  stuckAfterMs: number;
  /** A file ready, or a document assigned, this long without progress gets its job enqueued again. */
  idleAfterMs: number;
}

/**
 * The credentials (with their tenant) that have documents in a state: a loose index scan over the
 * partial index `documents_waiting_credentials` (state, credential_id, tenant_id), one index probe
 * per credential, instead of reading every queued row (a sweep runs every few seconds, and an import
 * can queue hundreds of thousands). The state is a literal so the planner can use the partial index.
 */
const credentialsWith = (state: 'queued' | 'blocked') => `
  with recursive pairs as (
    (select credential_id, tenant_id from submitter.documents
      where state = '${state}' order by credential_id, tenant_id limit 1)
    union all
    select next.credential_id, next.tenant_id
      from pairs, lateral (
        select credential_id, tenant_id from submitter.documents
         where state = '${state}' and (credential_id, tenant_id) > (pairs.credential_id, pairs.tenant_id)
         order by credential_id, tenant_id limit 1) next
  )
  select tenant_id as "tenantId", credential_id as "credentialId" from pairs`;

/**
 * Recovery is code: what a crash, a lost job or a missed event left half-done is found here and set
 * going again, at start and then every few seconds, by any replica (every step is idempotent: job
 * ids are deterministic, state changes are compare-and-set).
 *
 * - sends `submitting` for too long (their worker died mid-call) become `uncertain` and are
 *   reconciled: asked of the STS, never resent blindly;
 * - ready files and assigned documents without a job get it again;
 * - received files get their current outcome poll again;
 * - blocked documents whose credential can be used again are queued again;
 * - every credential with documents that may go gets a dispatch round.
 */
export function createSweeper(deps: {
  pool: Pool;
  clock: Clock;
  logger: Pick<Logger, 'info' | 'warn'>;
  producer: Pick<JobProducer<'submitter'>, 'enqueue'>;
  /** The `send-reconcile` queue: an uncertain send's job is looked at before it is queued again. */
  reconcileQueue: ReconcileQueue;
  flush: FlushTrigger;
  credentials: Pick<CredentialAccess, 'profileOf'>;
  options: SweeperOptions;
}) {
  const { pool, options } = deps;

  async function reconcileStuck(now: Date) {
    const before = new Date(now.getTime() - options.stuckAfterMs);
    const { rows: files } = await pool.query<{ id: string; tenantId: string; sendAttempt: number }>(
      `select id, tenant_id as "tenantId", send_attempt as "sendAttempt" from submitter.files
        where state = 'submitting' and submitting_since < $1`,
      [before],
    );
    for (const file of files) {
      await inTransaction(pool, async (client) => {
        const { rowCount } = await client.query(
          `update submitter.files set state = 'uncertain', updated_at = $2 where id = $1 and state = 'submitting'`,
          [file.id, now],
        );
        if (rowCount) {
          const { rows } = await client.query<{ invoiceId: string }>(
            'select invoice_id as "invoiceId" from submitter.documents where file_id = $1',
            [file.id],
          );
          await transition(client, {
            invoiceIds: rows.map((row) => row.invoiceId),
            from: ['submitting'],
            to: 'uncertain',
            at: now,
            cause: CAUSES.answerLost,
          });
        }
      });
      deps.logger.warn({ fileId: file.id }, 'a file send outlived its worker: reconciling it');
      await deps.producer.enqueue('send.reconcile', {
        tenantId: file.tenantId,
        target: 'file',
        targetId: file.id,
        attempt: file.sendAttempt,
      });
    }
    const { rows: documents } = await pool.query<{
      invoiceId: string;
      tenantId: string;
      submissionId: string;
    }>(
      `select invoice_id as "invoiceId", tenant_id as "tenantId", submission_id as "submissionId" from submitter.documents
        where state = 'submitting' and file_id is null and submission_id is not null and submitting_since < $1`,
      [before],
    );
    for (const document of documents) {
      await inTransaction(pool, async (client) => {
        await transition(client, {
          invoiceIds: [document.invoiceId],
          from: ['submitting'],
          to: 'uncertain',
          at: now,
          cause: CAUSES.answerLost,
        });
      });
      deps.logger.warn(
        { invoiceId: document.invoiceId },
        'a document send outlived its worker: reconciling it',
      );
      await deps.producer.enqueue('send.reconcile', {
        tenantId: document.tenantId,
        target: 'submission',
        targetId: document.submissionId,
        attempt: 1,
      });
    }
    return files.length + documents.length;
  }

  async function requeueIdle(now: Date) {
    const before = new Date(now.getTime() - options.idleAfterMs);
    const { rows: ready } = await pool.query<{ id: string; tenantId: string; sendAttempt: number }>(
      `select id, tenant_id as "tenantId", send_attempt as "sendAttempt" from submitter.files where state = 'ready' and updated_at < $1`,
      [before],
    );
    for (const file of ready)
      await deps.producer.enqueue('file.send', {
        tenantId: file.tenantId,
        fileId: file.id,
        attempt: file.sendAttempt,
      });
    const { rows: received } = await pool.query<{ id: string; tenantId: string; pollRound: number }>(
      `select id, tenant_id as "tenantId", poll_round as "pollRound" from submitter.files where state = 'received' and updated_at < $1`,
      [before],
    );
    for (const file of received)
      await deps.producer.enqueue('outcome.poll', {
        tenantId: file.tenantId,
        fileId: file.id,
        round: file.pollRound,
      });
    const { rows: assigned } = await pool.query<{ tenantId: string; submissionId: string }>(
      `select tenant_id as "tenantId", submission_id as "submissionId" from submitter.documents
        where state = 'assigned' and file_id is null and submission_id is not null and updated_at < $1`,
      [before],
    );
    for (const document of assigned)
      await deps.producer.enqueue('document.send', {
        tenantId: document.tenantId,
        submissionId: document.submissionId,
      });
    // Sends whose answer was lost, and whose reconcile job was lost too (Redis lost it, or its
    // enqueue failed after the state change) or completed while the send was not (yet) uncertain:
    // reconciled again, or they stay uncertain forever. A failed job is left to operators, a
    // delayed one to its backoff (SWEEPER_POLICY).
    await reconcileUncertain(
      {
        pool,
        enqueue: (payload) =>
          requestReconcile({ queue: deps.reconcileQueue, producer: deps.producer }, payload, SWEEPER_POLICY),
      },
      { updatedBefore: before },
    );
  }

  async function unblock(now: Date) {
    const { rows } = await pool.query<{ tenantId: string; credentialId: string }>(credentialsWith('blocked'));
    for (const { tenantId, credentialId } of rows) {
      const profile = await deps.credentials.profileOf(credentialId, tenantId);
      if (profile.ok) await resumeCredential(tenantId, credentialId, now);
    }
  }

  /** A credential usable again: its blocked documents and files go back to where they were. */
  async function resumeCredential(tenantId: string, credentialId: string, now: Date) {
    const { files, inFiles, loose } = await inTransaction(pool, async (client) => {
      // A new send attempt: the file's last `file.send` job ran while it was blocked and completed
      // (BullMQ keeps it a day), so a job under the same id would be no job at all.
      const { rows: files } = await client.query<{ id: string; sendAttempt: number }>(
        `update submitter.files set state = 'ready', send_attempt = send_attempt + 1, updated_at = $2
          where credential_id = $1 and state = 'blocked'
         returning id, send_attempt as "sendAttempt"`,
        [credentialId, now],
      );
      const { rows: inFiles } = await client.query<{ invoiceId: string }>(
        `select invoice_id as "invoiceId" from submitter.documents where credential_id = $1 and state = 'blocked' and file_id = any($2::uuid[])`,
        [credentialId, files.map((file) => file.id)],
      );
      await transition(client, {
        invoiceIds: inFiles.map((row) => row.invoiceId),
        from: ['blocked'],
        to: 'assigned',
        at: now,
        cause: 'credential-usable',
      });
      const { rows: loose } = await client.query<{ invoiceId: string }>(
        `select invoice_id as "invoiceId" from submitter.documents where credential_id = $1 and state = 'blocked'`,
        [credentialId],
      );
      // Single sends and documents not yet in a file start again from the queue (a new submission).
      await transition(client, {
        invoiceIds: loose.map((row) => row.invoiceId),
        from: ['blocked'],
        to: 'queued',
        at: now,
        cause: 'credential-usable',
        submissionId: null,
        fileId: null,
      });
      return { files, inFiles, loose };
    });
    for (const file of files)
      await deps.producer.enqueue('file.send', { tenantId, fileId: file.id, attempt: file.sendAttempt });
    if (loose.length > 0 || files.length > 0) {
      deps.logger.info(
        { credentialId, documents: inFiles.length + loose.length },
        'credential usable again: its documents resume',
      );
    }
    await deps.flush(tenantId, credentialId);
  }

  /**
   * A credential that turned unusable (its event, or a failed call): nothing more goes with it. Its
   * waiting documents and ready files become `blocked` at once (documents being sent finish their
   * call; a failure then blocks them too).
   */
  async function blockCredential(credentialId: string, cause: string, now: Date) {
    const moved = await inTransaction(pool, async (client) => {
      await client.query(
        `update submitter.files set state = 'blocked', updated_at = $2 where credential_id = $1 and state = 'ready'`,
        [credentialId, now],
      );
      const { rows } = await client.query<{ invoiceId: string }>(
        `select invoice_id as "invoiceId" from submitter.documents
          where credential_id = $1 and state in ('queued', 'assigned')
            and (file_id is null or file_id in (select id from submitter.files where state = 'blocked'))`,
        [credentialId],
      );
      return transition(client, {
        invoiceIds: rows.map((row) => row.invoiceId),
        from: ['queued', 'assigned'],
        to: 'blocked',
        at: now,
        cause,
      });
    });
    return moved.length;
  }

  async function flushWaiting() {
    const { rows } = await pool.query<{ tenantId: string; credentialId: string }>(credentialsWith('queued'));
    for (const row of rows) await deps.flush(row.tenantId, row.credentialId);
  }

  return {
    resumeCredential,
    blockCredential,
    /** One pass of every recovery step. */
    async sweep(): Promise<void> {
      const now = deps.clock();
      await reconcileStuck(now);
      await requeueIdle(now);
      await unblock(now);
      await flushWaiting();
    },
  };
}

export type Sweeper = ReturnType<typeof createSweeper>;
