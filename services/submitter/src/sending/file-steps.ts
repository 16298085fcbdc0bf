import type { Clock, JobProducer, Logger, Pool, StsMessage } from '@sts/shared';
import { DeferJob, romeTime, inTransaction as withTransaction } from '@sts/shared';
import type { UploadOwner } from '@sts/sts';
import type { PoolClient } from 'pg';
import { transition } from '../status/document-transitions.ts';
import type { CredentialAccess, CredentialProfile } from './credential-access.ts';
import { blocksCredential } from './credential-access.ts';
import { CAUSES } from './failure-outcome.ts';
import type { Sessions, StsSession } from './sts-sessions.ts';

/**
 * What the steps of a 730 file's life share (file-upload.ts, file-outcome.ts, file-reconcile.ts):
 * the file's row, moving it and its documents together by compare-and-set, blocking it when its
 * credential fails, and opening an STS session for it.
 */

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

export interface FileRow {
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

export function createFileSteps(deps: FileSendingDeps) {
  const inTransaction = <T>(work: (client: PoolClient) => Promise<T>): Promise<T> =>
    withTransaction(deps.pool, work);

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

  return { inTransaction, loadFile, documentsOf, moveFile, blockFile, openSession };
}

export type FileSteps = ReturnType<typeof createFileSteps>;
