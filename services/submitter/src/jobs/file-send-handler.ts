import type { JobHandler } from '@sts/shared';
import type { FileSending } from '../sending/file-sending.ts';

/** `file.send`: upload one 730 file (a send of an older attempt than the file's current one is ignored). */
export function createFileSendHandler(deps: { files: Pick<FileSending, 'send'> }): JobHandler<'file.send'> {
  return (payload) => deps.files.send(payload.fileId, payload.attempt);
}
