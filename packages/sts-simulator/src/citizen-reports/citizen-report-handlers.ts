import { createZipArchive, isCalendarDate } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import type { DocumentArchive, StoredDocument } from '../documents/document-archive.ts';
import { MESSAGES, SIMULATOR_MESSAGES } from '../documents/document-messages.ts';
import { FIELD } from '../protocol/field-names.ts';
import { checkCaller, fromCents, queryResponse, totalsByType } from '../queries/query-handlers.ts';
import { readDocumentId } from '../single-document/sync-document-reader.ts';
import {
  type OperationHandler,
  requestChild,
  requestNamespace,
  requestText,
  responseWriter,
} from '../soap/soap-call.ts';
import { isoDate } from '../time/rome-time.ts';
import type { CitizenReport, CitizenReportStore, ReportedLine } from './citizen-report-store.ts';

/**
 * The citizen-report services (`WS_Segnalazioni_Cittadino`, docs/protocol.md §1.10), answering from
 * the reports seeded through the admin API, for the owners the caller may act for (the pincode and
 * owner checks of every query service). No source shows an answer of these services: everything is
 * built from the XSD, in the query services' manner (inferred) — `esitoChiamata` 0 with the data and
 * message `0`, 1 with WS96 when there is nothing, 1 with the credential code when the caller is
 * refused. `DettaglioSegnalazione`: the document as the simulator holds it (or as the report gave
 * it), the reports on the whole document, and its expense lines with what was reported on each.
 * `ReportSegnalazioni`: a zip with `report.csv` (Latin-1, `;`) of the reports filed in the period,
 * one row per thing reported; the columns are the simulator's, the real layout being unpublished.
 */

interface Deps {
  archive: DocumentArchive;
  decryptor: FieldDecryptor;
  reports: CitizenReportStore;
}

/** The document a report is about, as the simulator holds it (its active refunds too), if it does. */
function heldDocument(archive: DocumentArchive, owner: string, report: CitizenReport) {
  const stored = archive.find(owner, report.documentId);
  if (!stored) return undefined;
  const refunds = stored.refunds
    .map((key) => archive.findByKey(owner, key))
    .filter((refund): refund is StoredDocument => refund?.status === 'active');
  return {
    stored,
    totals: totalsByType(stored.lines),
    refundedTotals: totalsByType(refunds.flatMap((refund) => refund.lines)),
  };
}

const joined = (first: string | undefined, second: string | undefined) =>
  [first, second].filter((value) => value).join(' | ') || undefined;

/** The held totals per expense type, with what was reported on each; reported types they lack are added. */
function reportedLines(held: Map<string, number> | undefined, reported: ReportedLine[]): ReportedLine[] {
  const lines = new Map<string, ReportedLine>();
  for (const [type, cents] of held ?? []) lines.set(type, { expenseType: type, amount: fromCents(cents) });
  for (const line of reported) {
    const current = lines.get(line.expenseType) ?? {
      expenseType: line.expenseType,
      ...(line.amount ? { amount: line.amount } : {}),
    };
    const amountReport = joined(current.amountReport, line.amountReport);
    const expenseTypeReport = joined(current.expenseTypeReport, line.expenseTypeReport);
    lines.set(line.expenseType, {
      ...current,
      ...(amountReport ? { amountReport } : {}),
      ...(expenseTypeReport ? { expenseTypeReport } : {}),
    });
  }
  return [...lines.values()];
}

/** Payment date, protocol, file and sending date: the held document's, else the newest report's. */
function documentData(held: ReturnType<typeof heldDocument>, reports: CitizenReport[]) {
  if (held) {
    return {
      paymentDate: held.stored.paymentDate,
      protocol: held.stored.protocol,
      fileName: held.stored.fileName,
      sentOn: isoDate(new Date(held.stored.receivedAt)),
    };
  }
  const given = [...reports].reverse();
  const first = (field: 'paymentDate' | 'protocol' | 'fileName' | 'sentOn') =>
    given.find((report) => report.document?.[field])?.document?.[field];
  return {
    paymentDate: first('paymentDate'),
    protocol: first('protocol'),
    fileName: first('fileName'),
    sentOn: first('sentOn'),
  };
}

export function createCitizenReportDetailHandler(options: Deps): OperationHandler {
  return (call) => {
    const caller = checkCaller(call, options.decryptor);
    if ('problem' in caller) return queryResponse(call, '1', '', [caller.problem]);
    const id = readDocumentId(requestChild(call, call.payload, FIELD.documentId)!, requestNamespace(call));
    const reports = options.reports.forDocument(caller.owner, id);
    if (reports.length === 0) return queryResponse(call, '1', '', [MESSAGES.nothingFound]);

    const held = heldDocument(options.archive, caller.owner, reports[0]!);
    const data = documentData(held, reports);
    const w = responseWriter(call);
    const optional = (name: string, value: string | undefined) => (value ? w.leaf(name, value) : '');
    const lineElements = (name: string, lines: ReportedLine[]) =>
      lines
        .map((line) =>
          w.node(
            name,
            w.leaf(FIELD.expenseType, line.expenseType) +
              optional(FIELD.amount, line.amount) +
              optional(FIELD.amountReport, line.amountReport) +
              optional(FIELD.expenseTypeReport, line.expenseTypeReport),
          ),
        )
        .join('');
    const texts = reports.flatMap((report) => report.reports);
    const body = w.node(
      FIELD.fiscalDocument,
      w.node(
        FIELD.documentId,
        w.leaf(FIELD.vatNumber, id.vatNumber) +
          w.leaf(FIELD.issueDate, id.issueDate) +
          w.node(FIELD.numberGroup, w.leaf(FIELD.device, id.device) + w.leaf(FIELD.number, id.number)),
      ) +
        optional(FIELD.paymentDate, data.paymentDate) +
        optional(FIELD.sentAt, data.sentOn) +
        optional(FIELD.protocol, data.protocol) +
        optional(FIELD.fileNameOut, data.fileName) +
        (texts.length > 0
          ? w.node(FIELD.documentReports, texts.map((text) => w.leaf(FIELD.documentReport, text)).join(''))
          : '') +
        lineElements(
          FIELD.reportedLines,
          reportedLines(
            held?.totals,
            reports.flatMap((report) => report.lines),
          ),
        ) +
        lineElements(
          FIELD.reportedRefundedLines,
          reportedLines(
            held?.refundedTotals,
            reports.flatMap((report) => report.refundedLines),
          ),
        ),
    );
    return queryResponse(call, '0', body, [MESSAGES.ok]);
  };
}

/** Columns of the simulator's `report.csv` for `ReportSegnalazioni` (the real layout is not published). */
export const CITIZEN_REPORT_LIST_HEADER =
  'DATA SEGNALAZIONE;PARTITA IVA;DATA EMISSIONE;DISPOSITIVO;NUMERO DOCUMENTO;DATA PAGAMENTO;PROTOCOLLO;OGGETTO;TIPO SPESA;IMPORTO;SEGNALAZIONE IMPORTO;SEGNALAZIONE TIPO SPESA;SEGNALAZIONE';

/** RFC 4180 quoting, with `;` as the separator. */
const csvField = (value: string | number | undefined) => {
  const text = value === undefined ? '' : String(value);
  return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export function createCitizenReportListHandler(options: Deps): OperationHandler {
  return (call) => {
    const caller = checkCaller(call, options.decryptor);
    if ('problem' in caller) return queryResponse(call, '1', '', [caller.problem]);
    const from = requestText(call, call.payload, FIELD.reportPeriodFrom) ?? '';
    const to = requestText(call, call.payload, FIELD.reportPeriodTo) ?? '';
    // Real calendar days (2024-13-45 is none), in order: then the strings compare as the dates do.
    if (!isCalendarDate(from) || !isCalendarDate(to) || from > to)
      return queryResponse(call, '1', '', [SIMULATOR_MESSAGES.badQuery]);

    const rows: string[] = [];
    for (const report of options.reports.filedBetween(caller.owner, from, to)) {
      const held = heldDocument(options.archive, caller.owner, report);
      const data = documentData(held, [report]);
      const row = (subject: string, line: ReportedLine | undefined, text: string | undefined) =>
        [
          report.filedOn,
          report.documentId.vatNumber,
          report.documentId.issueDate,
          report.documentId.device,
          report.documentId.number,
          data.paymentDate,
          data.protocol,
          subject,
          line?.expenseType,
          line?.amount,
          line?.amountReport,
          line?.expenseTypeReport,
          text,
        ]
          .map(csvField)
          .join(';');
      const amountOf = (line: ReportedLine, totals: Map<string, number> | undefined) => {
        const cents = totals?.get(line.expenseType);
        return cents === undefined ? line : { ...line, amount: fromCents(cents) };
      };
      for (const text of report.reports) rows.push(row('DOCUMENTO', undefined, text));
      for (const line of report.lines)
        rows.push(row('VOCE DI SPESA', amountOf(line, held?.totals), undefined));
      for (const line of report.refundedLines)
        rows.push(row('VOCE RIMBORSATA', amountOf(line, held?.refundedTotals), undefined));
    }
    if (rows.length === 0) return queryResponse(call, '1', '', [MESSAGES.nothingFound]);
    const csv = Buffer.from(`${[CITIZEN_REPORT_LIST_HEADER, ...rows].join('\n')}\n`, 'latin1');
    const zip = createZipArchive('report.csv', csv);
    return queryResponse(call, '0', responseWriter(call).leaf(FIELD.csvFile, zip.toString('base64')), [
      MESSAGES.ok,
    ]);
  };
}
