import { createZipArchive } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import { type DocumentMessage, MESSAGES, SIMULATOR_MESSAGES } from '../documents/document-messages.ts';
import { FIELD } from '../protocol/field-names.ts';
import { type OperationHandler, responseWriter } from '../soap/soap-call.ts';
import { slashedDate } from '../time/rome-time.ts';
import type { UploadRecord, UploadStore } from '../uploads/upload-store.ts';
import { splitOffice } from '../users/simulator-user.ts';
import { type ReceiptReadiness, readReceiptInput, receiptNotReady, receiptResponse } from './receipt-call.ts';

/**
 * `DettaglioErrori` (RIC15 §2.3–2.4, §3.5): a zip holding `errori-<protocollo>.csv`, Latin-1,
 * `;`-separated, one row per document error or warning, with the header of the real 2016 file copied
 * exactly (spaces after the separators, the empty column after DOCUMENTO FISCALE NUMERO, dates
 * dd/mm/yyyy; packages/sts/kit/error-tables). Nothing to give is a negative outcome: WS37 for a rejected file
 * (observed), WS96 for a file without errors or an unknown protocol, WS95 while processing, WS15 while
 * the receipt is not ready yet (`receiptNotReady`).
 */

export const ERROR_DETAIL_CSV_HEADER =
  'CF PROPRIETARIO; COD REGIONE; COD ASL; COD SSA; PARTITA IVA; DATA EMISSIONE; DOCUMENTO FISCALE DISPOSITIVO; DOCUMENTO FISCALE NUMERO;; TIPO SPESA; CODICE ERRORE; DESCRIZIONE ERRORE';

/** `;` and line breaks cannot appear inside a field of this CSV (it has no quoting). */
const field = (value: string | number) => String(value).replace(/[;\r\n]+/g, ' ');

export function errorDetailCsv(record: UploadRecord): Buffer {
  const office = splitOffice(record.owner.office);
  const lines = [ERROR_DETAIL_CSV_HEADER];
  for (const row of record.result?.rows ?? []) {
    lines.push(
      [
        record.owner.taxCode ?? '',
        office.regionCode,
        office.aslCode,
        office.ssaCode,
        row.vatNumber,
        slashedDate(row.issueDate),
        row.device,
        row.number,
        '',
        row.expenseType,
        row.code,
        row.text,
      ]
        .map(field)
        .join(';'),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

export function createErrorDetailHandler(
  options: {
    uploads: UploadStore;
    decryptor: FieldDecryptor;
  } & ReceiptReadiness,
): OperationHandler {
  return (call) => {
    const request = readReceiptInput(call, options.decryptor);
    const negative = (message: DocumentMessage) =>
      receiptResponse(call, { outcome: 1, negatives: [message] });
    if (request.pincodeProblem) return negative(request.pincodeProblem);
    const protocol = request.text(FIELD.protocol);
    if (protocol === undefined) return negative(SIMULATOR_MESSAGES.badQuery);
    const record = options.uploads.get(protocol);
    if (!record || record.username !== call.user.username) return negative(MESSAGES.nothingFound);
    if (receiptNotReady(call, record, options)) return negative(MESSAGES.receiptNotReady);
    if (record.state !== 'processed') return negative(SIMULATOR_MESSAGES.notYetProcessed);
    if (record.result!.status === 5) return negative(MESSAGES.fileRejected);
    if (record.result!.rows.length === 0) return negative(MESSAGES.nothingFound);

    const zip = createZipArchive(`errori-${record.protocol}.csv`, errorDetailCsv(record));
    const w = responseWriter(call);
    return receiptResponse(call, {
      outcome: 0,
      positives: w.node(FIELD.positive, w.leaf(FIELD.csv, zip.toString('base64'))),
    });
  };
}
