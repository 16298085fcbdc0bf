import { romeTime } from '@sts/shared';
import { createZipArchive } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import type { DocumentArchive, StoredDocument, StoredLine } from '../documents/document-archive.ts';
import {
  type DocumentMessage,
  MESSAGES,
  SIMULATOR_MESSAGES,
  uploadCodeMessage,
} from '../documents/document-messages.ts';
import { FIELD, OPERATION_LETTER } from '../protocol/field-names.ts';
import { readDocumentId } from '../single-document/sync-document-reader.ts';
import { checkOwner, checkPincode } from '../soap/caller-checks.ts';
import {
  type OperationHandler,
  requestChild,
  requestNamespace,
  requestText,
  responseElement,
  responseWriter,
  type SoapCall,
} from '../soap/soap-call.ts';
import type { ElementWriter } from '../soap/xml-writer.ts';
import { isoDate } from '../time/rome-time.ts';

/**
 * The query services (docs/protocol.md §1.10). `InterrogazionePuntuale` finds a document stored by
 * either path (`nomeFile` is the zip's name or "SERVIZIO SINCRONO", `tipoInvio` the last operation,
 * totals per tipoSpesa, refunded totals from its refund documents); `ReportMensile` returns a zip with
 * `report.csv` of the owner's documents received in `annoMese`. Nothing found: esitoChiamata 1 with
 * WS96 (observed wording).
 */

export const toCents = (amount: string): number => {
  const [units = '0', decimals = ''] = amount.split('.');
  return Number(units) * 100 + Number(decimals.padEnd(2, '0').slice(0, 2));
};
export const fromCents = (cents: number): string =>
  `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

export function totalsByType(lines: StoredLine[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of lines)
    totals.set(line.expenseType, (totals.get(line.expenseType) ?? 0) + toCents(line.amount));
  return totals;
}

function messagesElement(w: ElementWriter, messages: DocumentMessage[]): string {
  return w.node(
    FIELD.messages,
    messages
      .map((message) =>
        w.node(
          FIELD.message,
          w.leaf(FIELD.code, message.code) +
            w.leaf(FIELD.description, message.text) +
            w.leaf(FIELD.messageType, message.code === MESSAGES.ok.code ? '' : message.type),
        ),
      )
      .join(''),
  );
}

/** A query answer: `esitoChiamata`, the body, then `listaMessaggi` (every query service's order). */
export function queryResponse(
  call: SoapCall,
  outcome: '0' | '1',
  body: string,
  messages: DocumentMessage[],
): string {
  const w = responseWriter(call);
  return responseElement(call, w.leaf(FIELD.callOutcome, outcome) + body + messagesElement(w, messages));
}

/** Pincode and owner checks shared by the query services; a problem answers esitoChiamata 1. */
export function checkCaller(
  call: SoapCall,
  decryptor: FieldDecryptor,
): { owner: string } | { problem: DocumentMessage } {
  const pincode = checkPincode(call.user, requestText(call, call.payload, FIELD.pincode), decryptor);
  if (pincode) return { problem: uploadCodeMessage(pincode) };
  const owner = checkOwner(call, FIELD.owner, decryptor, true);
  if (!owner.ok) return { problem: uploadCodeMessage(owner.code) };
  return { owner: owner.key };
}

export function createPointQueryHandler(options: {
  archive: DocumentArchive;
  decryptor: FieldDecryptor;
}): OperationHandler {
  return (call) => {
    const caller = checkCaller(call, options.decryptor);
    if ('problem' in caller) return queryResponse(call, '1', '', [caller.problem]);
    const id = readDocumentId(requestChild(call, call.payload, FIELD.documentId)!, requestNamespace(call));
    const stored = options.archive.find(caller.owner, id);
    if (!stored) return queryResponse(call, '1', '', [MESSAGES.nothingFound]);

    const w = responseWriter(call);
    const refunds = stored.refunds
      .map((key) => options.archive.findByKey(caller.owner, key))
      .filter((refund): refund is StoredDocument => refund?.status === 'active');
    const totals = (name: string, lines: StoredLine[]) =>
      [...totalsByType(lines)]
        .map(([type, cents]) =>
          w.node(name, w.leaf(FIELD.expenseType, type) + w.leaf(FIELD.amount, fromCents(cents))),
        )
        .join('');
    const body = w.node(
      FIELD.fiscalDocument,
      w.node(
        FIELD.documentId,
        w.leaf(FIELD.vatNumber, stored.id.vatNumber) +
          w.leaf(FIELD.issueDate, stored.id.issueDate) +
          w.node(
            FIELD.numberGroup,
            w.leaf(FIELD.device, stored.id.device) + w.leaf(FIELD.number, stored.id.number),
          ),
      ) +
        w.leaf(FIELD.paymentDate, stored.paymentDate) +
        totals(FIELD.expenseTotals, stored.lines) +
        totals(
          FIELD.refundedTotals,
          refunds.flatMap((refund) => refund.lines),
        ) +
        w.leaf(FIELD.protocol, stored.protocol) +
        w.leaf(FIELD.fileNameOut, stored.fileName) +
        w.leaf(FIELD.sentAt, isoDate(new Date(stored.receivedAt))) +
        w.leaf(FIELD.sendKind, OPERATION_LETTER[stored.lastOperation]),
    );
    return queryResponse(call, '0', body, [MESSAGES.ok]);
  };
}

/** Columns of `report.csv`: the real layout is not published, this one is the simulator's. */
export const MONTHLY_REPORT_HEADER =
  'PARTITA IVA;DATA EMISSIONE;DISPOSITIVO;NUMERO DOCUMENTO;DATA PAGAMENTO;TIPO SPESA;IMPORTO;TIPO INVIO;STATO;PROTOCOLLO;NOME FILE;DATA INVIO';

export function createMonthlyReportHandler(options: {
  archive: DocumentArchive;
  decryptor: FieldDecryptor;
}): OperationHandler {
  return (call) => {
    const caller = checkCaller(call, options.decryptor);
    if ('problem' in caller) return queryResponse(call, '1', '', [caller.problem]);
    const yearMonth = requestText(call, call.payload, FIELD.yearMonth) ?? '';
    const month = Number(yearMonth.slice(4, 6));
    if (!/^\d{6}$/.test(yearMonth) || month < 1 || month > 12)
      return queryResponse(call, '1', '', [SIMULATOR_MESSAGES.badQuery]);

    const rows: string[] = [];
    for (const document of options.archive.listOwner(caller.owner)) {
      const sent = romeTime(new Date(document.receivedAt));
      if (`${sent.year}${sent.month}` !== yearMonth) continue;
      for (const [type, cents] of totalsByType(document.lines)) {
        rows.push(
          [
            document.id.vatNumber,
            document.id.issueDate,
            document.id.device,
            document.id.number,
            document.paymentDate,
            type,
            fromCents(cents),
            OPERATION_LETTER[document.lastOperation],
            document.status === 'active' ? 'ATTIVO' : 'CANCELLATO',
            document.protocol,
            document.fileName,
            isoDate(new Date(document.receivedAt)),
          ].join(';'),
        );
      }
    }
    if (rows.length === 0) return queryResponse(call, '1', '', [MESSAGES.nothingFound]);
    const csv = Buffer.from(`${[MONTHLY_REPORT_HEADER, ...rows].join('\n')}\n`, 'latin1');
    const w = responseWriter(call);
    const zip = createZipArchive('report.csv', csv);
    return queryResponse(call, '0', w.leaf(FIELD.csvFile, zip.toString('base64')), [MESSAGES.ok]);
  };
}
