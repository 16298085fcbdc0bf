import { randomUUID } from 'node:crypto';
import type { Clock, JobProducer, Pool, StsMessage } from '@sts/shared';
import { DeferJob, inTransaction as withTransaction } from '@sts/shared';
import {
  type DocumentId,
  type DocumentRules,
  type EncryptedTaxCode,
  type ExpenseDocument,
  encryptSender,
  type SanitelEncryptor,
  type StsMessage as StsAnswerMessage,
} from '@sts/sts';
import type { PoolClient } from 'pg';
import { senderOf } from '../dispatch/dispatch-service.ts';
import type { DocumentState } from '../documents/documents-table.ts';
import { transition } from '../status/document-transitions.ts';
import { blocksCredential, type CredentialAccess } from './credential-access.ts';
import { CAUSES, queueOutcomeOf } from './failure-outcome.ts';
import type { ProofSink } from './file-sending.ts';
import { successorCredentialOf } from './queued-successors.ts';
import type { Sessions, StsSession } from './sts-sessions.ts';

export interface DocumentSendingDeps {
  pool: Pool;
  clock: Clock;
  sessions: Sessions;
  credentials: Pick<CredentialAccess, 'reportFailure' | 'forget'>;
  proofs: Pick<ProofSink, 'put'>;
  producer: Pick<JobProducer<'submitter'>, 'enqueue'>;
  encryptors: Record<'test' | 'production', SanitelEncryptor>;
  rulesFor(environment: 'test' | 'production'): DocumentRules;
}

interface Row {
  invoiceId: string;
  tenantId: string;
  credentialId: string;
  operation: string;
  state: DocumentState;
  document: ExpenseDocument<EncryptedTaxCode>;
  submissionId: string | null;
}

const ROW = `invoice_id as "invoiceId", tenant_id as "tenantId", credential_id as "credentialId", operation, state,
  document, submission_id as "submissionId"`;

/** The STS's messages in our terms: E/S codes are errors, W warnings, the rest information. */
export const messagesOf = (messages: readonly StsAnswerMessage[]): StsMessage[] =>
  messages
    .filter((message) => message.code !== '')
    .map((message) => {
      const type = (message.type || message.code[0] || '').toUpperCase();
      const kind =
        type === 'W'
          ? ('warning' as const)
          : type === 'E' || type === 'S'
            ? ('error' as const)
            : ('info' as const);
      return { code: message.code, kind, text: message.description };
    });

/**
 * The single-document service: one call per operation, the answer on the spot. A send begins with
 * a compare-and-set to `submitting`; a lost answer makes the document `uncertain` and hands it to
 * reconciliation (`InterrogazionePuntuale`), never to a blind resend; a resend answered "already
 * present" (S017) counts as accepted.
 */
export function createDocumentSending(deps: DocumentSendingDeps) {
  const inTransaction = <T>(work: (client: PoolClient) => Promise<T>): Promise<T> =>
    withTransaction(deps.pool, work);

  const move = (
    row: Row,
    from: DocumentState[],
    to: DocumentState,
    extra: Partial<Parameters<typeof transition>[1]> = {},
  ) =>
    inTransaction((client) =>
      transition(client, { invoiceIds: [row.invoiceId], from, to, at: deps.clock(), ...extra }),
    );

  async function openSession(row: Row, purpose: string): Promise<StsSession | undefined> {
    const opened = await deps.sessions.open(row.tenantId, row.credentialId, purpose);
    if (opened.ok) return opened.session;
    if (opened.paced) throw new DeferJob(opened.retryAfterMs, 'pacing');
    if (!blocksCredential(opened)) throw new Error(`credentials service unavailable (${opened.reason})`);
    await move(row, ['assigned', 'uncertain'], 'blocked', { cause: CAUSES.credential });
    return undefined;
  }

  async function block(
    row: Row,
    session: StsSession,
    report: Parameters<CredentialAccess['reportFailure']>[1]['failure'],
    from: DocumentState[],
  ) {
    await deps.credentials.reportFailure(row.credentialId, {
      tenantId: row.tenantId,
      leaseId: session.lease.leaseId,
      failure: report,
    });
    deps.credentials.forget(row.credentialId);
    await move(row, from, 'blocked', { cause: CAUSES.credential });
  }

  /** Accepted, with warnings, or rejected, from the single-document answer. */
  async function settle(
    row: Row,
    from: DocumentState[],
    answer: { outcome: string; protocol?: string; messages: StsAnswerMessage[]; alreadyPresent: boolean },
    proof: unknown,
  ) {
    const messages = messagesOf(answer.messages);
    const to: DocumentState =
      answer.alreadyPresent || answer.outcome === 'accepted'
        ? messages.some((m) => m.kind === 'warning') && !answer.alreadyPresent
          ? 'accepted_with_warnings'
          : 'accepted'
        : answer.outcome === 'accepted-with-warnings'
          ? 'accepted_with_warnings'
          : 'rejected';
    await inTransaction(async (client) => {
      await deps.proofs.put(
        row.tenantId,
        {
          kind: 'single-document-answer',
          invoiceId: row.invoiceId,
          ...(answer.protocol ? { protocol: answer.protocol } : {}),
          contentType: 'application/json',
          bytes: Buffer.from(JSON.stringify(proof)),
        },
        { client },
      );
      await transition(client, {
        invoiceIds: [row.invoiceId],
        from,
        to,
        at: deps.clock(),
        cause: answer.alreadyPresent
          ? 'already-present'
          : to === 'rejected'
            ? CAUSES.rejected
            : CAUSES.accepted,
        ...(answer.protocol ? { protocol: answer.protocol } : {}),
        messages,
      });
    });
  }

  /** The owner, its codice fiscale encrypted, checked by the rules of the credential's environment. */
  const senderFor = (session: StsSession) =>
    encryptSender(
      senderOf(session.profile),
      deps.encryptors[session.profile.environment],
      deps.rulesFor(session.profile.environment),
    );

  const withSuccessor = async (row: Row) => {
    const successor = await successorCredential(row);
    return { credentialId: row.credentialId, ...(successor ? { successor } : {}) };
  };

  /** The credential of the queued operation that follows this one on the same document, if any. */
  const successorCredential = (row: Row) => successorCredentialOf(deps.pool, row.invoiceId);

  return {
    /**
     * `document.send`: one operation of one document, once. Returns the credential of the next
     * operation on the same document when this one became final and that one is waiting.
     */
    async send(submissionId: string): Promise<{ credentialId: string; successor?: string } | undefined> {
      const { rows } = await deps.pool.query<Row>(
        `select ${ROW} from submitter.documents where submission_id = $1`,
        [submissionId],
      );
      const row = rows[0];
      if (!row || row.state !== 'assigned') return;
      const session = await openSession(row, `send document ${row.invoiceId}`);
      if (!session) return;
      try {
        // Built before the claim: a sender or document we cannot write must not leave it `submitting`.
        const sender = senderFor(session);
        const claimed = await move(row, ['assigned'], 'submitting');
        if (claimed.length === 0) return;
        const answer = await session.client.sendDocument({
          encryptedPincode: session.lease.encryptedPincode!,
          sender,
          document: row.document,
        });
        if (answer.ok) {
          await settle(row, ['submitting'], answer.value, answer.value);
          return withSuccessor(row);
        }
        const outcome = queueOutcomeOf(answer.failure);
        switch (outcome.kind) {
          case 'retry':
            await move(row, ['submitting'], 'assigned');
            if (outcome.retryAfterMs) throw new DeferJob(outcome.retryAfterMs, outcome.reason);
            throw new Error(`document ${row.invoiceId} not sent for now: ${outcome.reason}`);
          case 'reconcile':
            await move(row, ['submitting'], 'uncertain', { cause: CAUSES.answerLost });
            await deps.producer.enqueue('send.reconcile', {
              tenantId: row.tenantId,
              target: 'submission',
              targetId: submissionId,
              attempt: 1,
            });
            return;
          case 'block':
            await block(row, session, outcome.report, ['submitting']);
            return;
          case 'reject':
            await move(row, ['submitting'], 'rejected', {
              cause: CAUSES.rejected,
              messages: outcome.messages,
            });
            return withSuccessor(row);
        }
      } finally {
        await session.close();
      }
    },

    /**
     * `send.reconcile` of a single-document send: ask the STS whether it holds the document as the
     * operation left it. Held (or, for a cancellation, gone): the send arrived, the document is
     * accepted. Not: it is given a new submission and sent again (S017 then still means accepted).
     */
    async reconcile(submissionId: string): Promise<void> {
      const { rows } = await deps.pool.query<Row>(
        `select ${ROW} from submitter.documents where submission_id = $1`,
        [submissionId],
      );
      const row = rows[0];
      if (!row || row.state !== 'uncertain') return;
      const session = await openSession(row, `reconcile document ${row.invoiceId}`);
      if (!session) return;
      try {
        const sender = senderFor(session);
        const answer = await session.client.queryDocument({
          encryptedPincode: session.lease.encryptedPincode!,
          sender,
          documentId: row.document.id as DocumentId,
        });
        if (!answer.ok) {
          const outcome = queueOutcomeOf(answer.failure);
          if (outcome.kind === 'block') return block(row, session, outcome.report, ['uncertain']);
          if (outcome.kind === 'retry' && outcome.retryAfterMs)
            throw new DeferJob(outcome.retryAfterMs, outcome.reason);
          throw new Error(`document ${row.invoiceId} not reconciled yet: ${outcome.kind}`);
        }
        const arrived = arrivedAsSent(row, answer.value);
        await deps.proofs.put(row.tenantId, {
          kind: 'reconcile-answer',
          invoiceId: row.invoiceId,
          contentType: 'application/json',
          bytes: Buffer.from(JSON.stringify(answer.value)),
        });
        if (arrived) {
          await move(row, ['uncertain'], 'accepted', {
            cause: 'reconciled',
            ...(answer.value.document?.protocol ? { protocol: answer.value.document.protocol } : {}),
          });
          return;
        }
        // Not there: send again, under a new submission (a new job id).
        const next = randomUUID();
        await move(row, ['uncertain'], 'assigned', { cause: 'reconciled-resend', submissionId: next });
        await deps.producer.enqueue('document.send', { tenantId: row.tenantId, submissionId: next });
      } finally {
        await session.close();
      }
    },
  };
}

export type DocumentSending = ReturnType<typeof createDocumentSending>;

/**
 * Whether what the STS holds shows the operation arrived: a cancellation, the document gone or held
 * as cancelled (`tipoInvio` C: InterrogazionePuntuale still answers a cancelled document, with its
 * last operation); an insert or a refund, the document there; an update, the document there with the
 * update's payment date and totals per expense type (an update that did not arrive leaves the insert's).
 */
export function arrivedAsSent(
  row: { operation: string; document: ExpenseDocument<EncryptedTaxCode> },
  held: {
    found: boolean;
    document?: {
      paymentDate?: string;
      totals: { expenseType: string; amount: string }[];
      sendType?: string;
    };
  },
): boolean {
  if (row.operation === 'cancel') return !held.found || held.document?.sendType?.toUpperCase() === 'C';
  if (!held.found) return false;
  if (row.operation !== 'update') return true;
  const totals = new Map<string, number>();
  for (const line of row.document.lines) {
    totals.set(line.expenseType, (totals.get(line.expenseType) ?? 0) + Math.round(Number(line.amount) * 100));
  }
  const stored = held.document?.totals ?? [];
  const storedTotals = new Map(
    stored.map((total) => [total.expenseType, Math.round(Number(total.amount) * 100)]),
  );
  if (held.document?.paymentDate && held.document.paymentDate !== row.document.paymentDate) return false;
  return (
    totals.size === storedTotals.size &&
    [...totals].every(([type, cents]) => storedTotals.get(type) === cents)
  );
}
