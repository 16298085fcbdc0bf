import type { JobHandler } from '@sts/shared';
import type { FileSending } from '../sending/file-sending.ts';

/** `outcome.poll`: ask how a received file is doing; the next round is enqueued until it is processed. */
export function createOutcomePollHandler(deps: {
  files: Pick<FileSending, 'poll'>;
}): JobHandler<'outcome.poll'> {
  return (payload) => deps.files.poll(payload.fileId, payload.round);
}
