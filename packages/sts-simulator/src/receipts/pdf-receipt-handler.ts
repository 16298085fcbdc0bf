import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import {
  type DocumentMessage,
  MESSAGES,
  processingStatusText,
  SIMULATOR_MESSAGES,
} from '../documents/document-messages.ts';
import { FIELD } from '../protocol/field-names.ts';
import { type OperationHandler, responseWriter } from '../soap/soap-call.ts';
import { formatDashedTimestamp } from '../time/rome-time.ts';
import type { UploadRecord, UploadStore } from '../uploads/upload-store.ts';
import { type PdfLine, writePdf } from './pdf-writer.ts';
import { type ReceiptReadiness, readReceiptInput, receiptNotReady, receiptResponse } from './receipt-call.ts';

/**
 * `RicevutaPdf` (RIC15 §2.1–2.2): a PDF summarising a processed upload. The layout of the real receipt
 * is not published; this one says plainly that it comes from the simulator. Not available while the
 * file is being processed (WS95, the simulator's code), while the receipt is not ready yet (WS15:
 * `receiptNotReady`) or for an unknown protocol (WS96).
 */

export function receiptPdf(record: UploadRecord, createdAt: Date): Buffer {
  const result = record.result!;
  const owner = [record.owner.taxCode, record.owner.office && `codice ufficio ${record.owner.office}`]
    .filter(Boolean)
    .join(' - ');
  const lines: PdfLine[] = [
    { text: 'SISTEMA TESSERA SANITARIA - 730 SPESE SANITARIE', bold: true, size: 14 },
    { text: 'Ricevuta di invio dei dati di spesa sanitaria', size: 12, gapBefore: 2 },
    { text: 'Documento prodotto dal simulatore: non ha valore di attestazione.', size: 9, gapBefore: 2 },
    { text: `Protocollo: ${record.protocol}`, bold: true, gapBefore: 14 },
    { text: `Nome file: ${record.fileName}` },
    { text: `Dimensione file: ${record.fileSize} byte` },
    { text: `Data accoglienza: ${formatDashedTimestamp(new Date(record.receivedAt))}` },
    { text: `Data elaborazione: ${formatDashedTimestamp(new Date(result.processedAt))}` },
    { text: `Utente inviante: ${record.username}` },
    { text: `Proprietario: ${owner || '-'}` },
    {
      text: `Esito: stato ${result.status} - ${processingStatusText(result.status)}`,
      bold: true,
      gapBefore: 10,
    },
    { text: `Documenti inviati: ${result.sent}` },
    { text: `Documenti accolti: ${result.accepted}` },
    { text: `Documenti con segnalazioni: ${result.warnings}` },
    { text: `Documenti scartati: ${result.errors}` },
  ];
  if (result.rejectionReason)
    lines.push({ text: `Motivo dello scarto: ${result.rejectionReason}`, gapBefore: 10 });
  if (result.rows.length > 0)
    lines.push({
      text: 'Il dettaglio degli errori e delle segnalazioni è disponibile con il servizio DettaglioErrori.',
      gapBefore: 10,
    });
  return writePdf({ title: `Ricevuta ${record.protocol}`, lines, createdAt });
}

export function createPdfReceiptHandler(
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
    const pdf = receiptPdf(record, options.clock());
    const w = responseWriter(call);
    return receiptResponse(call, {
      outcome: 0,
      positives: w.node(FIELD.positive, w.leaf(FIELD.pdf, pdf.toString('base64'))),
    });
  };
}
