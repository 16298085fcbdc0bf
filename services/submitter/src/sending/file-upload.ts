import { DeferJob } from '@sts/shared';
import { CAUSES, queueOutcomeOf } from './failure-outcome.ts';
import { type FileSendingDeps, type FileSteps, ownerOf } from './file-steps.ts';

/** `file.send`: the upload of a ready 730 file (`inviaFileMtom`), once per send attempt. */
export function createFileUpload(deps: FileSendingDeps, steps: FileSteps) {
  const { inTransaction, loadFile, moveFile, blockFile, openSession } = steps;
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
  };
}
