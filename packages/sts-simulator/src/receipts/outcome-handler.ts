import type { Clock } from '@sts/shared';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import {
  MESSAGES,
  processingStatusText,
  SIMULATOR_MESSAGES,
  statusCallText,
} from '../documents/document-messages.ts';
import { FIELD } from '../protocol/field-names.ts';
import { type OperationHandler, responseWriter } from '../soap/soap-call.ts';
import { formatDashedTimestamp, isoDate, parseDashedDate } from '../time/rome-time.ts';
import type { UploadProcessor } from '../uploads/upload-processor.ts';
import type { UploadRecord, UploadStore } from '../uploads/upload-store.ts';
import { readReceiptInput, receiptResponse } from './receipt-call.ts';

/**
 * `EsitoInvii` (RIC15 §2.5–2.6): the processing status of the caller's uploads, by `protocollo` or by
 * a `dataInizio`–`dataFine` range (dd-mm-yyyy, inclusive, on the reception date in Italy); not both.
 */
export function createOutcomeHandler(options: {
  uploads: UploadStore;
  processor: UploadProcessor;
  decryptor: FieldDecryptor;
  clock: Clock;
}): OperationHandler {
  return (call) => {
    const request = readReceiptInput(call, options.decryptor);
    const negative = (message = MESSAGES.nothingFound) =>
      receiptResponse(call, { outcome: 1, description: statusCallText(1), negatives: [message] });
    if (request.pincodeProblem) return negative(request.pincodeProblem);

    const protocol = request.text(FIELD.protocol);
    const from = request.text(FIELD.fromDate);
    const to = request.text(FIELD.toDate);
    const mine = (record: UploadRecord | undefined) => record?.username === call.user.username;

    let found: UploadRecord[];
    if (protocol !== undefined) {
      if (from !== undefined || to !== undefined) return negative(SIMULATOR_MESSAGES.badQuery);
      const record = options.uploads.get(protocol);
      found = record && mine(record) ? [record] : [];
    } else {
      const fromDay = from === undefined ? undefined : parseDashedDate(from);
      const toDay = to === undefined ? undefined : parseDashedDate(to);
      if (!fromDay || !toDay || fromDay > toDay) return negative(SIMULATOR_MESSAGES.badQuery);
      found = options.uploads
        .list()
        .filter((record) => {
          if (!mine(record)) return false;
          const day = isoDate(new Date(record.receivedAt));
          return day >= fromDay && day <= toDay;
        })
        .sort((a, b) => a.protocol.localeCompare(b.protocol));
    }
    if (found.length === 0) return negative();

    const now = options.clock();
    const w = responseWriter(call);
    const details = found
      .map((record) => {
        const status = options.processor.statusOf(record, now);
        const result = record.state === 'processed' ? record.result : undefined;
        return w.node(
          FIELD.positive,
          w.leaf(FIELD.protocol, record.protocol) +
            w.leaf(FIELD.sentAt, formatDashedTimestamp(new Date(record.receivedAt))) +
            w.leaf(FIELD.status, status) +
            w.leaf(FIELD.description, processingStatusText(status)) +
            w.leaf(FIELD.sentCount, result?.sent ?? 0) +
            w.leaf(FIELD.acceptedCount, result?.accepted ?? 0) +
            w.leaf(FIELD.warningCount, result?.warnings ?? 0) +
            w.leaf(FIELD.errorCount, result?.errors ?? 0),
        );
      })
      .join('');
    return receiptResponse(call, { outcome: 0, description: statusCallText(0), positives: details });
  };
}
