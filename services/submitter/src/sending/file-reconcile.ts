import { DeferJob } from '@sts/shared';
import { isStillProcessing } from '@sts/sts';
import { queueOutcomeOf } from './failure-outcome.ts';
import { type FileSendingDeps, type FileSteps, parseStsTime } from './file-steps.ts';

/** `send.reconcile` of a 730 file whose upload answer was lost. */
export function createFileReconcile(deps: FileSendingDeps, steps: FileSteps) {
  const { inTransaction, loadFile, moveFile, blockFile, openSession } = steps;
  return {
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
  };
}
