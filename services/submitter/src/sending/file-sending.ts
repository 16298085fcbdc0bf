import type { Clock, JobProducer, Logger, Pool, StsMessage } from '@sts/shared';
import { DeferJob, romeTime } from '@sts/shared';
import { isStillProcessing, lookupStsCode, type UploadOwner } from '@sts/sts';
import type { PoolClient } from 'pg';
import { transition } from '../status/document-transitions.ts';
import type { CredentialAccess, CredentialProfile } from './credential-access.ts';
import { blocksCredential } from './credential-access.ts';
import { CAUSES, queueOutcomeOf } from './failure-outcome.ts';
import type { Sessions, StsSession } from './sts-sessions.ts';

/** The proof store as sending uses it (services/submitter/src/proofs/). */
export interface ProofSink {
  put(
    tenantId: string,
    proof: {
      kind: string;
      protocol?: string;
      fileId?: string;
      invoiceId?: string;
      contentType: string;
      bytes: Buffer;
    },
    options?: { client?: PoolClient },
  ): Promise<{ id: string }>;
  get(tenantId: string, id: string): Promise<{ bytes: Buffer } | undefined>;
}

export interface FileSendingDeps {
  pool: Pool;
  clock: Clock;
  logger: Pick<Logger, 'warn' | 'info'>;
  sessions: Sessions;
  credentials: Pick<CredentialAccess, 'reportFailure' | 'forget'>;
  proofs: ProofSink;
  producer: Pick<JobProducer<'submitter'>, 'enqueue'>;
  /** The first outcome poll waits this long after the upload (the STS processes files in minutes). */
  firstPollDelayMs: number;
}

interface FileRow {
  id: string;
  tenantId: string;
  credentialId: string;
  state: string;
  fileName: string;
  documentCount: number;
  zipProofId: string | null;
  protocol: string | null;
  stsReceivedAt: string | null;
  pollRound: number;
  sendAttempt: number;
  sentAt: Date | null;
}

const FILE_COLUMNS = `id, tenant_id as "tenantId", credential_id as "credentialId", state, file_name as "fileName",
  document_count as "documentCount", zip_proof_id as "zipProofId", protocol, sts_received_at as "stsReceivedAt",
  poll_round as "pollRound", send_attempt as "sendAttempt", sent_at as "sentAt"`;

/**
 * `dd-MM-yyyy HH:mm:ss` as the STS writes it, Italian civil time (CET in winter, CEST in summer), as
 * a Date. (A fixed +01:00 put every summer time an hour late: a lost upload's reconciliation then
 * never found it near the send, and sent the zip again.)
 */
export const parseStsTime = (text: string | null): Date | undefined => {
  const match = text && /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return undefined;
  const civil = `${match[3]}-${match[2]}-${match[1]}T${match[4]}:${match[5]}:${match[6]}`;
  const summer = new Date(`${civil}+02:00`);
  if (Number.isNaN(summer.getTime())) return undefined;
  const back = romeTime(summer);
  return `${back.year}-${back.month}-${back.day}T${back.hour}:${back.minute}:${back.second}` === civil
    ? summer
    : new Date(`${civil}+01:00`);
};

export function ownerOf(profile: Pick<CredentialProfile, 'owner'>): UploadOwner {
  const owner = profile.owner;
  if (owner.kind === 'professional') return { taxCode: owner.taxCode };
  return {
    ...(owner.regionCode ? { regionCode: owner.regionCode } : {}),
    ...(owner.aslCode ? { aslCode: owner.aslCode } : {}),
    ...(owner.ssaCode ? { ssaCode: owner.ssaCode } : {}),
    ...(owner.taxCode ? { taxCode: owner.taxCode } : {}),
  };
}

/**
 * A 730 file's life at the STS: the upload (`inviaFileMtom`), the outcome polled (`EsitoInvii`) until
 * the file is processed, then the error detail (`DettaglioErrori`) and the receipt (`RicevutaPdf`),
 * each CSV row mapped back to its document. Every answer is kept as proof. States move with
 * compare-and-set, in the transaction that records what the STS said; follow-up jobs are enqueued
 * after the commit (their ids are deterministic, and the sweeper re-enqueues what a crash lost).
 */
export function createFileSending(deps: FileSendingDeps) {
  const inTransaction = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await deps.pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };

  const loadFile = async (fileId: string): Promise<FileRow | undefined> =>
    (await deps.pool.query<FileRow>(`select ${FILE_COLUMNS} from submitter.files where id = $1`, [fileId]))
      .rows[0];

  const documentsOf = async (client: PoolClient, fileId: string) =>
    (
      await client.query<{ invoiceId: string; document: { id: Record<string, unknown> } }>(
        'select invoice_id as "invoiceId", document from submitter.documents where file_id = $1',
        [fileId],
      )
    ).rows;

  /** Moves the file and its documents together. */
  async function moveFile(
    client: PoolClient,
    file: FileRow,
    change: {
      from: string[];
      to: string;
      docsFrom: Parameters<typeof transition>[1]['from'];
      docsTo: Parameters<typeof transition>[1]['to'];
      cause?: string;
      protocol?: string;
      messages?: StsMessage[];
      set?: Record<string, unknown>;
    },
  ): Promise<boolean> {
    const now = deps.clock();
    const sets = Object.entries(change.set ?? {});
    const { rowCount } = await client.query(
      `update submitter.files set state = $3, updated_at = $4${sets.map(([column], i) => `, ${column} = $${i + 5}`).join('')}
        where id = $1 and state = any($2::text[])`,
      [file.id, change.from, change.to, now, ...sets.map(([, value]) => value)],
    );
    if (!rowCount) return false;
    const docs = await documentsOf(client, file.id);
    await transition(client, {
      invoiceIds: docs.map((doc) => doc.invoiceId),
      from: change.docsFrom,
      to: change.docsTo,
      at: now,
      ...(change.cause !== undefined ? { cause: change.cause } : {}),
      ...(change.protocol ? { protocol: change.protocol } : {}),
      ...(change.messages ? { messages: change.messages } : {}),
    });
    return true;
  }

  async function blockFile(
    file: FileRow,
    session: StsSession | undefined,
    report?: Parameters<CredentialAccess['reportFailure']>[1]['failure'],
  ) {
    if (report && session) {
      await deps.credentials.reportFailure(file.credentialId, {
        tenantId: file.tenantId,
        leaseId: session.lease.leaseId,
        failure: report,
      });
    }
    deps.credentials.forget(file.credentialId);
    await inTransaction((client) =>
      moveFile(client, file, {
        from: ['ready', 'submitting'],
        to: 'blocked',
        docsFrom: ['assigned', 'submitting'],
        docsTo: 'blocked',
        cause: CAUSES.credential,
        set: { submitting_since: null },
      }),
    );
  }

  /** Opens a session, or defers the job (paced), blocks (credential), or throws (service down). */
  async function openSession(file: FileRow, purpose: string): Promise<StsSession | undefined> {
    const opened = await deps.sessions.open(file.tenantId, file.credentialId, purpose);
    if (opened.ok) return opened.session;
    if (opened.paced) throw new DeferJob(opened.retryAfterMs, 'pacing');
    if (!blocksCredential(opened)) throw new Error(`credentials service unavailable (${opened.reason})`);
    return undefined;
  }

  return {
    /** `file.send`: upload a ready file once. */
    async send(fileId: string, attempt: number): Promise<void> {
      const file = await loadFile(fileId);
      if (!file || file.state !== 'ready' || attempt < file.sendAttempt) return;
      const session = await openSession(file, `send file ${file.id}`);
      if (!session) return blockFile(file, undefined);
      try {
        const claimed = await inTransaction((client) =>
          moveFile(client, file, {
            from: ['ready'],
            to: 'submitting',
            docsFrom: ['assigned'],
            docsTo: 'submitting',
            set: { submitting_since: deps.clock(), sent_at: deps.clock() },
          }),
        );
        if (!claimed) return;
        const zip = await deps.proofs.get(file.tenantId, file.zipProofId!);
        if (!zip) throw new Error(`the zip of file ${file.id} is missing from the proof store`);
        const answer = await session.client.uploadFile({
          fileName: file.fileName,
          zip: zip.bytes,
          encryptedPincode: session.lease.encryptedPincode!,
          owner: ownerOf(session.profile),
        });
        if (answer.ok) {
          const receipt = answer.value;
          await inTransaction(async (client) => {
            await deps.proofs.put(
              file.tenantId,
              {
                kind: 'upload-answer',
                fileId: file.id,
                protocol: receipt.protocol,
                contentType: 'application/json',
                bytes: Buffer.from(JSON.stringify(receipt)),
              },
              { client },
            );
            await moveFile(client, file, {
              from: ['submitting'],
              to: 'received',
              docsFrom: ['submitting'],
              docsTo: 'submitted',
              protocol: receipt.protocol,
              cause: null as unknown as string,
              set: {
                protocol: receipt.protocol,
                sts_received_at: receipt.receivedAt,
                submitting_since: null,
                poll_round: 0,
              },
            });
          });
          await deps.producer.enqueue(
            'outcome.poll',
            { tenantId: file.tenantId, fileId: file.id, round: 0 },
            { delayMs: deps.firstPollDelayMs },
          );
          return;
        }
        const outcome = queueOutcomeOf(answer.failure);
        switch (outcome.kind) {
          case 'retry':
            await inTransaction((client) =>
              moveFile(client, file, {
                from: ['submitting'],
                to: 'ready',
                docsFrom: ['submitting'],
                docsTo: 'assigned',
                set: { submitting_since: null },
              }),
            );
            if (outcome.retryAfterMs)
              throw new DeferJob(outcome.retryAfterMs, `STS asked to wait (${outcome.reason})`);
            throw new Error(`upload of file ${file.id} failed for now: ${outcome.reason}`);
          case 'reconcile':
            await inTransaction((client) =>
              moveFile(client, file, {
                from: ['submitting'],
                to: 'uncertain',
                docsFrom: ['submitting'],
                docsTo: 'uncertain',
                cause: CAUSES.answerLost,
              }),
            );
            await deps.producer.enqueue('send.reconcile', {
              tenantId: file.tenantId,
              target: 'file',
              targetId: file.id,
              attempt: file.sendAttempt,
            });
            return;
          case 'block':
            return blockFile(file, session, outcome.report);
          case 'reject':
            await inTransaction((client) =>
              moveFile(client, file, {
                from: ['submitting'],
                to: 'rejected',
                docsFrom: ['submitting'],
                docsTo: 'rejected',
                cause: CAUSES.rejected,
                messages: outcome.messages,
                set: { submitting_since: null },
              }),
            );
            return;
        }
      } finally {
        await session.close();
      }
    },

    /** `outcome.poll`: ask `EsitoInvii` about a received file; again later until it is processed. */
    async poll(fileId: string, round: number): Promise<void> {
      const file = await loadFile(fileId);
      if (!file || file.state !== 'received' || !file.protocol) return;
      const session = await openSession(file, `outcome of ${file.protocol}`);
      if (!session) return blockFile(file, undefined);
      try {
        const uploadedAt = parseStsTime(file.stsReceivedAt);
        const answer = await session.client.getOutcomes({
          encryptedPincode: session.lease.encryptedPincode!,
          protocol: file.protocol,
          attempt: round + 1,
          ...(uploadedAt ? { uploadedAt } : {}),
        });
        if (!answer.ok) {
          const outcome = queueOutcomeOf(answer.failure);
          if (outcome.kind === 'block') return blockFile(file, session, outcome.report);
          if (outcome.kind === 'retry' && outcome.retryAfterMs)
            throw new DeferJob(outcome.retryAfterMs, outcome.reason);
          // Asking is harmless: a lost answer or a refusal is asked again with backoff.
          throw new Error(`outcome of ${file.protocol} not read: ${outcome.kind}`);
        }
        const result = answer.value;
        await deps.proofs.put(file.tenantId, {
          kind: 'outcome-answer',
          fileId: file.id,
          protocol: file.protocol,
          contentType: 'application/json',
          bytes: Buffer.from(JSON.stringify(result)),
        });
        const upload = result.uploads.find((candidate) => candidate.protocol === file.protocol);
        if (result.notReady || !upload) {
          const wait = result.notReady ? result.wait.retryAfterMs : 60_000;
          if (result.notReady && result.wait.overdue)
            deps.logger.warn(
              { fileId: file.id, protocol: file.protocol, round },
              'file outcome overdue at the STS',
            );
          await deps.pool.query(
            'update submitter.files set poll_round = $2, outcome = $3, updated_at = $4 where id = $1',
            [file.id, round + 1, JSON.stringify(result), deps.clock()],
          );
          await deps.producer.enqueue(
            'outcome.poll',
            { tenantId: file.tenantId, fileId: file.id, round: round + 1 },
            { delayMs: wait },
          );
          return;
        }
        await deps.pool.query('update submitter.files set outcome = $2, updated_at = $3 where id = $1', [
          file.id,
          JSON.stringify(upload),
          deps.clock(),
        ]);
        if (upload.state === 5 || upload.state === 9) {
          // The whole file was refused (at reception or in processing): every document is rejected.
          const messages: StsMessage[] = [
            { code: String(upload.state), kind: 'error', text: upload.description },
            ...result.notices.map((notice) => ({
              code: notice.code,
              kind: 'error' as const,
              text: notice.description,
            })),
          ];
          await inTransaction((client) =>
            moveFile(client, file, {
              from: ['received'],
              to: 'rejected',
              docsFrom: ['submitted'],
              docsTo: 'rejected',
              cause: CAUSES.rejected,
              messages,
            }),
          );
          return;
        }
        await deps.producer.enqueue('receipt.fetch', { tenantId: file.tenantId, fileId: file.id });
      } finally {
        await session.close();
      }
    },

    /**
     * `send.reconcile` of a file whose upload answer was lost: `EsitoInvii` over the days around the
     * send lists the uploads; one with the file's document count, sent within minutes of ours and
     * not known under another file, is ours (it arrived: its protocol is adopted and polled). None:
     * it did not arrive, and the same zip goes again. More than one: asked again later, never guessed.
     */
    async reconcile(fileId: string): Promise<void> {
      const file = await loadFile(fileId);
      if (!file || file.state !== 'uncertain') return;
      const session = await openSession(file, `reconcile file ${file.id}`);
      if (!session) return blockFile(file, undefined);
      try {
        const sentAt = file.sentAt ?? deps.clock();
        const day = (offset: number) =>
          new Date(sentAt.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
        const answer = await session.client.getOutcomes({
          encryptedPincode: session.lease.encryptedPincode!,
          from: day(-1),
          to: day(1),
        });
        if (!answer.ok) {
          const outcome = queueOutcomeOf(answer.failure);
          if (outcome.kind === 'block') return blockFile(file, session, outcome.report);
          if (outcome.kind === 'retry' && outcome.retryAfterMs)
            throw new DeferJob(outcome.retryAfterMs, outcome.reason);
          throw new Error(`file ${file.id} not reconciled yet: ${outcome.kind}`);
        }
        await deps.proofs.put(file.tenantId, {
          kind: 'reconcile-answer',
          fileId: file.id,
          contentType: 'application/json',
          bytes: Buffer.from(JSON.stringify(answer.value)),
        });
        const { rows: known } = await deps.pool.query<{ protocol: string }>(
          'select protocol from submitter.files where credential_id = $1 and protocol is not null and id <> $2',
          [file.credentialId, file.id],
        );
        const knownProtocols = new Set(known.map((row) => row.protocol));
        const nearby = answer.value.uploads.filter((upload) => {
          const at = parseStsTime(upload.sentAt);
          const near = at
            ? at.getTime() >= sentAt.getTime() - 120_000 && at.getTime() <= sentAt.getTime() + 900_000
            : false;
          return near && !knownProtocols.has(upload.protocol);
        });
        const candidates = nearby.filter((upload) => upload.sent === file.documentCount);
        if (candidates.length > 1)
          throw new Error(`file ${file.id}: ${candidates.length} uploads could be it; asking again later`);
        const found = candidates[0];
        // An upload still queued or being processed has no document count yet (0): it may be ours.
        // Sending the zip again would make its documents arrive twice; asked again once it is done.
        if (!found && nearby.some((upload) => isStillProcessing(upload.state)))
          throw new DeferJob(
            answer.value.notReady ? answer.value.wait.retryAfterMs : 30_000,
            `file ${file.id}: an upload near its send is still being processed`,
          );
        if (found) {
          await inTransaction((client) =>
            moveFile(client, file, {
              from: ['uncertain'],
              to: 'received',
              docsFrom: ['uncertain'],
              docsTo: 'submitted',
              protocol: found.protocol,
              cause: 'reconciled',
              set: {
                protocol: found.protocol,
                sts_received_at: found.sentAt,
                submitting_since: null,
                poll_round: 0,
              },
            }),
          );
          await deps.producer.enqueue('outcome.poll', { tenantId: file.tenantId, fileId: file.id, round: 0 });
          return;
        }
        await inTransaction((client) =>
          moveFile(client, file, {
            from: ['uncertain'],
            to: 'ready',
            docsFrom: ['uncertain'],
            docsTo: 'assigned',
            cause: 'reconciled-resend',
            set: { submitting_since: null, send_attempt: file.sendAttempt + 1 },
          }),
        );
        // A new job id (the attempt): BullMQ still remembers the first send's job under the old one.
        await deps.producer.enqueue('file.send', {
          tenantId: file.tenantId,
          fileId: file.id,
          attempt: file.sendAttempt + 1,
        });
      } finally {
        await session.close();
      }
    },

    /** `receipt.fetch`: the error detail and the receipt of a processed file; documents become final. */
    async fetchReceipt(fileId: string): Promise<string[]> {
      const file = await loadFile(fileId);
      if (!file || file.state !== 'received' || !file.protocol) return [];
      const session = await openSession(file, `receipt of ${file.protocol}`);
      if (!session) {
        await blockFile(file, undefined);
        return [];
      }
      try {
        const protocol = file.protocol;
        const query = { encryptedPincode: session.lease.encryptedPincode!, protocol, lastKnownState: 2 };
        const detail = await session.client.getErrorDetail(query);
        if (!detail.ok) throw new Error(`error detail of ${protocol} not read: ${detail.failure.kind}`);
        const pdf = await session.client.getPdfReceipt(query);
        if (!pdf.ok) throw new Error(`receipt of ${protocol} not read: ${pdf.failure.kind}`);
        for (const value of [detail.value, pdf.value]) {
          if (!value.available && value.notReady)
            throw new DeferJob(value.wait.retryAfterMs, 'receipt not ready');
        }
        const csv = detail.value.available
          ? Buffer.concat(detail.value.csvFiles.map((file) => file.content))
          : undefined;
        const receipt = pdf.value.available ? pdf.value.pdf : undefined;
        const errors = detail.value.available ? detail.value.errors : [];
        const byDocument = new Map<string, StsMessage[]>();
        for (const error of errors) {
          const key = `${error.vatNumber}|${error.issueDate}|${Number(error.device)}|${error.number}`;
          const lookup = lookupStsCode(error.code, 'message', { text: error.description });
          const kind = lookup.class === 'warning' ? ('warning' as const) : ('error' as const);
          byDocument.set(key, [
            ...(byDocument.get(key) ?? []),
            { code: error.code, kind, text: error.description },
          ]);
        }
        const credentials = new Set<string>();
        await inTransaction(async (client) => {
          if (csv)
            await deps.proofs.put(
              file.tenantId,
              {
                kind: 'error-detail-csv',
                fileId: file.id,
                protocol,
                contentType: 'text/csv; charset=iso-8859-1',
                bytes: csv,
              },
              { client },
            );
          if (receipt)
            await deps.proofs.put(
              file.tenantId,
              {
                kind: 'receipt-pdf',
                fileId: file.id,
                protocol,
                contentType: 'application/pdf',
                bytes: receipt,
              },
              { client },
            );
          const { rowCount } = await client.query(
            `update submitter.files set state = 'completed', updated_at = $2 where id = $1 and state = 'received'`,
            [file.id, deps.clock()],
          );
          if (!rowCount) return;
          const docs = await documentsOf(client, file.id);
          const groups = {
            accepted: [] as string[],
            accepted_with_warnings: new Map<string, StsMessage[]>(),
            rejected: new Map<string, StsMessage[]>(),
          };
          for (const doc of docs) {
            const id = doc.document.id as {
              vatNumber: string;
              issueDate: string;
              device: number;
              number: string;
            };
            const messages = byDocument.get(`${id.vatNumber}|${id.issueDate}|${id.device}|${id.number}`);
            // S017 alone: the STS already holds this document (an earlier send of it arrived).
            if (!messages || messages.every((message) => message.code.toUpperCase() === 'S017'))
              groups.accepted.push(doc.invoiceId);
            else if (messages.some((message) => message.kind === 'error'))
              groups.rejected.set(doc.invoiceId, messages);
            else groups.accepted_with_warnings.set(doc.invoiceId, messages);
          }
          const at = deps.clock();
          await transition(client, {
            invoiceIds: groups.accepted,
            from: ['submitted'],
            to: 'accepted',
            at,
            cause: CAUSES.accepted,
          });
          for (const [invoiceId, messages] of groups.accepted_with_warnings) {
            await transition(client, {
              invoiceIds: [invoiceId],
              from: ['submitted'],
              to: 'accepted_with_warnings',
              at,
              cause: CAUSES.accepted,
              messages,
            });
          }
          for (const [invoiceId, messages] of groups.rejected) {
            await transition(client, {
              invoiceIds: [invoiceId],
              from: ['submitted'],
              to: 'rejected',
              at,
              cause: CAUSES.rejected,
              messages,
            });
          }
          // Documents whose next operation may now go: their credentials get a dispatch round.
          const { rows } = await client.query<{ credentialId: string }>(
            `select distinct n.credential_id as "credentialId"
               from submitter.documents d
               join submitter.documents n on n.tenant_id = d.tenant_id and n.chain_key = d.chain_key
                                          and n.chain_sequence = d.chain_sequence + 1
              where d.file_id = $1 and n.state = 'queued'`,
            [file.id],
          );
          for (const row of rows) credentials.add(row.credentialId);
        });
        return [...credentials];
      } finally {
        await session.close();
      }
    },
  };
}

export type FileSending = ReturnType<typeof createFileSending>;
