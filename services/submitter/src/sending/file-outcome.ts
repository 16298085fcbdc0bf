import type { StsMessage } from '@sts/shared';
import { DeferJob } from '@sts/shared';
import { lookupStsCode } from '@sts/sts';
import { transition } from '../status/document-transitions.ts';
import { CAUSES, queueOutcomeOf } from './failure-outcome.ts';
import { type FileSendingDeps, type FileSteps, parseStsTime } from './file-steps.ts';
import { successorCredentialsOfFile } from './queued-successors.ts';

/**
 * After the upload: the outcome polled (`EsitoInvii`) until the file is processed, then the error
 * detail (`DettaglioErrori`) and the receipt (`RicevutaPdf`), each CSV row mapped back to its document.
 */
export function createFileOutcome(deps: FileSendingDeps, steps: FileSteps) {
  const { inTransaction, loadFile, documentsOf, moveFile, blockFile, openSession } = steps;
  return {
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
          for (const credentialId of await successorCredentialsOfFile(client, file.id))
            credentials.add(credentialId);
        });
        return [...credentials];
      } finally {
        await session.close();
      }
    },
  };
}
