import { randomUUID } from 'node:crypto';
import type { DocumentId } from '@sts/sts';
import { documentKey } from '../documents/document-archive.ts';

/**
 * The reports citizens file about documents sent in their name ("segnalazioni", docs/protocol.md
 * §1.10), as tests and operators seed them through the admin API: the real STS takes them from the
 * citizens' portal, which the simulator does not have. Each is about one document of one owner (the
 * archive's owner key) and is filed on one day, the day `ReportSegnalazioni`'s period is about
 * (inferred). Whether the simulator holds the document or not, the report is kept as given.
 */

export interface ReportedLine {
  expenseType: string;
  /** Two decimals; used when the simulator does not hold the document (else its own totals are). */
  amount?: string;
  /** `segnalazioneImporto`: what the citizen said about the amount. */
  amountReport?: string;
  /** `segnalazioneTipoVoceSpesa`: what the citizen said about the expense type. */
  expenseTypeReport?: string;
}

export interface CitizenReport {
  id: string;
  /** Owner key of the archive (`cf:…` or `office:…`). */
  owner: string;
  documentId: DocumentId;
  /** `YYYY-MM-DD`, Italian civil date. */
  filedOn: string;
  /** `listaSegnalazioniDocumento/segnalazione`: remarks on the whole document. */
  reports: string[];
  lines: ReportedLine[];
  refundedLines: ReportedLine[];
  /** What to answer of a document the simulator does not hold (a held document's own data win). */
  document?: { paymentDate?: string; protocol?: string; fileName?: string; sentOn?: string };
}

export interface CitizenReportStore {
  add(report: Omit<CitizenReport, 'id'>): CitizenReport;
  /** An owner's reports on one document, in filing order. */
  forDocument(owner: string, id: DocumentId): CitizenReport[];
  /** An owner's reports filed from `from` to `to` (`YYYY-MM-DD`, both included), in filing order. */
  filedBetween(owner: string, from: string, to: string): CitizenReport[];
  list(): CitizenReport[];
  remove(id: string): boolean;
  clear(): void;
  /** Restoring persisted state. */
  put(id: string, report: CitizenReport | undefined): void;
}

export function createCitizenReportStore(
  options: { onChange?: (id: string, report: CitizenReport | undefined) => void } = {},
): CitizenReportStore {
  const reports = new Map<string, CitizenReport>();
  const inOrder = () => [...reports.values()];
  return {
    add(input) {
      const report = { ...input, id: randomUUID() };
      reports.set(report.id, report);
      options.onChange?.(report.id, report);
      return report;
    },
    forDocument: (owner, id) =>
      inOrder().filter(
        (report) => report.owner === owner && documentKey(report.documentId) === documentKey(id),
      ),
    filedBetween: (owner, from, to) =>
      inOrder().filter((report) => report.owner === owner && report.filedOn >= from && report.filedOn <= to),
    list: inOrder,
    remove(id) {
      if (!reports.delete(id)) return false;
      options.onChange?.(id, undefined);
      return true;
    },
    clear: () => reports.clear(),
    put(id, report) {
      if (report) reports.set(id, report);
      else reports.delete(id);
    },
  };
}
