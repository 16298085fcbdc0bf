import { createFileOutcome } from './file-outcome.ts';
import { createFileReconcile } from './file-reconcile.ts';
import { createFileSteps, type FileSendingDeps } from './file-steps.ts';
import { createFileUpload } from './file-upload.ts';

export { type FileSendingDeps, ownerOf, type ProofSink, parseStsTime } from './file-steps.ts';

/**
 * A 730 file's life at the STS: the upload (`inviaFileMtom`), the outcome polled (`EsitoInvii`) until
 * the file is processed, then the error detail (`DettaglioErrori`) and the receipt (`RicevutaPdf`),
 * each CSV row mapped back to its document. Every answer is kept as proof. States move with
 * compare-and-set, in the transaction that records what the STS said; follow-up jobs are enqueued
 * after the commit (their ids are deterministic, and the sweeper re-enqueues what a crash lost).
 */
export function createFileSending(deps: FileSendingDeps) {
  const steps = createFileSteps(deps);
  return {
    ...createFileUpload(deps, steps),
    ...createFileOutcome(deps, steps),
    ...createFileReconcile(deps, steps),
  };
}

export type FileSending = ReturnType<typeof createFileSending>;
