import { randomUUID } from 'node:crypto';
import { type Clock, inTransaction, type Pool } from '@sts/shared';
import {
  type DocumentRules,
  type EncryptedTaxCode,
  type ExpenseDocument,
  packPrecompilataFiles,
  type SanitelEncryptor,
  type Sender,
  validateEncryptedDocument,
} from '@sts/sts';
import type { PoolClient } from 'pg';
import {
  blocksCredential,
  type CredentialAccess,
  type CredentialProfile,
} from '../sending/credential-access.ts';
import { transition } from '../status/document-transitions.ts';

type Document = ExpenseDocument<EncryptedTaxCode>;

export interface DispatchOptions {
  /** A batch credential's documents leave once the oldest has waited this long… */
  flushIntervalMs: number;
  /** …or once this many are waiting (about one full 5 MB file). */
  fileTargetDocuments: number;
  /** `auto` credentials send one by one below this many waiting documents, in files above. */
  autoRealtimeBelow: number;
  /** Documents looked at per dispatch round. */
  maxDocumentsPerRound: number;
  /** Single sends of one credential assigned at once (the rest wait their turn, fairly). */
  realtimeWindow: number;
  /** Every zip is strictly smaller than this (the STS's limit is 5 MB). */
  maxZipBytes: number;
}

export interface DispatchDeps {
  pool: Pool;
  clock: Clock;
  credentials: Pick<CredentialAccess, 'profileOf'>;
  encryptors: Record<'test' | 'production', SanitelEncryptor>;
  rulesFor(environment: 'test' | 'production'): DocumentRules;
  proofs: {
    put(
      tenantId: string,
      proof: { kind: 'sent-zip'; fileId: string; contentType: string; bytes: Buffer },
      options: { client: PoolClient },
    ): Promise<{ id: string }>;
  };
  options: DispatchOptions;
}

/** What one dispatch round decided, for the caller to enqueue after the commit. */
export interface DispatchResult {
  files: string[];
  submissions: string[];
  blocked: number;
  /** Documents still waiting for their batch (not old enough, not enough of them). */
  waiting: number;
  /** When that batch is due by age: the caller asks for a round then. */
  dueInMs?: number;
}

interface Eligible {
  invoiceId: string;
  document: Document;
  receivedAt: Date;
}

/**
 * Dispatches a credential's queued documents that may go now (the operation before each, on the same
 * document, is final): by the credential's sending mode, one single-document send each (`assigned`
 * with a submission id), or zipped 730 files (`assigned` to a file, the zip kept as proof), when the
 * batch is big enough or its oldest document has waited long enough. A credential that cannot be used
 * blocks its queued documents. Documents are claimed with `FOR UPDATE SKIP LOCKED`, so two rounds
 * for one credential (two replicas) never take the same document.
 */
export function createDispatcher(deps: DispatchDeps) {
  const { options } = deps;

  async function claimEligible(client: PoolClient, credentialId: string): Promise<Eligible[]> {
    const { rows } = await client.query<Eligible>(
      `select d.invoice_id as "invoiceId", d.document, d.received_at as "receivedAt"
         from submitter.documents d
        where d.credential_id = $1 and d.state = 'queued'
          and (d.chain_sequence = 1 or exists (
                select 1 from submitter.documents p
                 where p.tenant_id = d.tenant_id and p.chain_key = d.chain_key
                   and p.chain_sequence = d.chain_sequence - 1
                   and p.state in ('accepted', 'accepted_with_warnings', 'rejected')))
        order by d.received_at, d.invoice_id
        limit $2
        for update of d skip locked`,
      [credentialId, options.maxDocumentsPerRound],
    );
    return rows;
  }

  async function dispatch(tenantId: string, credentialId: string): Promise<DispatchResult> {
    const result: DispatchResult = { files: [], submissions: [], blocked: 0, waiting: 0 };
    const access = await deps.credentials.profileOf(credentialId, tenantId);
    return inTransaction(deps.pool, async (client) => {
      if (!access.ok) {
        if (!blocksCredential(access))
          throw new Error(`credentials service unavailable: ${access.detail ?? access.reason}`);
        const { rows } = await client.query<{ invoiceId: string }>(
          `select invoice_id as "invoiceId" from submitter.documents where credential_id = $1 and state = 'queued'`,
          [credentialId],
        );
        const moved = await transition(client, {
          invoiceIds: rows.map((row) => row.invoiceId),
          from: ['queued'],
          to: 'blocked',
          at: deps.clock(),
          cause: `credential-${access.reason}`,
        });
        result.blocked = moved.length;
        return result;
      }
      const eligible = await claimEligible(client, credentialId);
      const profile = access.profile;
      const mode =
        profile.sendingMode === 'auto'
          ? eligible.length < options.autoRealtimeBelow
            ? 'realtime'
            : 'batch'
          : profile.sendingMode;
      if (mode === 'realtime') {
        // A window of single sends per credential, not its whole backlog: the send queue is shared
        // by every tenant, so a backlog of 100,000 must not stand between another tenant's document
        // and its send. Each send that ends asks for the next round (document-send-handler.ts).
        const { rows: inFlight } = await client.query<{ count: number }>(
          `select count(*)::int as count from submitter.documents
          where credential_id = $1 and file_id is null and state in ('assigned', 'submitting')`,
          [credentialId],
        );
        const room = Math.max(0, options.realtimeWindow - (inFlight[0]?.count ?? 0));
        for (const document of eligible.slice(0, room)) {
          const submissionId = randomUUID();
          await transition(client, {
            invoiceIds: [document.invoiceId],
            from: ['queued'],
            to: 'assigned',
            at: deps.clock(),
            submissionId,
          });
          result.submissions.push(submissionId);
        }
      } else {
        const oldest = eligible[0]?.receivedAt.getTime();
        const due =
          eligible.length >= options.fileTargetDocuments ||
          (oldest !== undefined && deps.clock().getTime() - oldest >= options.flushIntervalMs);
        if (due)
          result.files.push(...(await packFiles(client, tenantId, credentialId, profile, eligible, result)));
        else {
          result.waiting = eligible.length;
          if (oldest !== undefined)
            result.dueInMs = Math.max(0, oldest + options.flushIntervalMs - deps.clock().getTime());
        }
      }
      return result;
    });
  }

  /** Zips the eligible documents into files (each < 5 MB), keeps each zip as proof, assigns the documents. */
  async function packFiles(
    client: PoolClient,
    tenantId: string,
    credentialId: string,
    profile: CredentialProfile,
    eligible: readonly Eligible[],
    result: DispatchResult,
  ): Promise<string[]> {
    const rules = deps.rulesFor(profile.environment);
    const now = deps.clock();
    // A document the rules refuse today (a deadline passed since it was accepted) must not sink the
    // file: it is rejected on its own, with the rule's code, and the others go.
    const valid: Eligible[] = [];
    for (const candidate of eligible) {
      const checked = validateEncryptedDocument(candidate.document, rules);
      if (checked.ok) {
        valid.push(candidate);
        continue;
      }
      await transition(client, {
        invoiceIds: [candidate.invoiceId],
        from: ['queued'],
        to: 'rejected',
        at: now,
        cause: 'invalid-document',
        // A status message's code is at most 20 characters (documentStatusEventSchema): our own rules
        // without an STS code (`document.payment-date.before-issue` …) keep theirs in the text, or the
        // event could never be relayed.
        messages: checked.violations.slice(0, 20).map((violation) => ({
          code: violation.stsCode ?? 'invalid-document',
          kind: 'error' as const,
          text: `${violation.stsCode ? '' : `${violation.code} `}${violation.path}: ${violation.message}`,
        })),
      });
    }
    if (valid.length === 0) return [];
    const byDocumentId = new Map(valid.map((entry) => [idKey(entry.document.id), entry.invoiceId]));
    const fileIds: string[] = [];
    const stamp = now.toISOString().slice(0, 10).replaceAll('-', '');
    const files = packPrecompilataFiles(
      valid.map((entry) => entry.document),
      {
        sender: senderOf(profile),
        encryptor: deps.encryptors[profile.environment],
        rules,
        maxZipBytes: options.maxZipBytes,
        clock: deps.clock,
        fileName: (index) => {
          fileIds[index] ??= randomUUID();
          return `sts_${stamp}_${fileIds[index]!.replaceAll('-', '').slice(0, 20)}.zip`;
        },
      },
    );
    const made: string[] = [];
    let index = 0;
    for await (const file of files) {
      const fileId = fileIds[index++]!;
      const proof = await deps.proofs.put(
        tenantId,
        { kind: 'sent-zip', fileId, contentType: 'application/zip', bytes: file.bytes },
        { client },
      );
      await client.query(
        `insert into submitter.files (id, tenant_id, credential_id, state, file_name, document_count, zip_bytes,
                zip_proof_id, created_at, updated_at)
         values ($1, $2, $3, 'ready', $4, $5, $6, $7, $8, $8)`,
        [fileId, tenantId, credentialId, file.name, file.documentCount, file.size, proof.id, now],
      );
      const invoiceIds = file.documentIds.map((id) => byDocumentId.get(idKey(id))!);
      await transition(client, { invoiceIds, from: ['queued'], to: 'assigned', at: now, fileId });
      made.push(fileId);
    }
    result.waiting = 0;
    return made;
  }

  return { dispatch };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

const idKey = (id: { vatNumber: string; issueDate: string; device: number; number: string }) =>
  `${id.vatNumber}|${id.issueDate}|${id.device}|${id.number}`;

/** The credential's owner as the 730 file's `proprietario` (its codice fiscale encrypted by the packer). */
export function senderOf(profile: Pick<CredentialProfile, 'owner'>): Sender {
  const owner = profile.owner;
  if (owner.kind === 'professional') return { kind: 'professional', taxCode: owner.taxCode };
  return {
    kind: 'structure',
    regionCode: owner.regionCode ?? '',
    aslCode: owner.aslCode ?? '',
    ssaCode: owner.ssaCode ?? '',
    ...(owner.taxCode ? { taxCode: owner.taxCode } : {}),
  };
}
