import { STS_CODE_CATALOGUE, type StsCodeContext } from '@sts/sts';

/**
 * The messages the simulator attaches to documents and calls. Texts come from the @sts/sts catalogue
 * (official or observed wording) where the code is known; the codes the sources do not give are the
 * simulator's own, in ranges no source uses (S9xx, WS9x), so nobody mistakes them for real ones.
 */

export type MessageType = 'E' | 'W';

export interface DocumentMessage {
  code: string;
  text: string;
  type: MessageType;
}

function catalogueText(context: StsCodeContext, code: string): string {
  const entry = STS_CODE_CATALOGUE.find(
    (candidate) => candidate.context === context && candidate.code === code,
  );
  if (!entry) throw new Error(`code ${code} (${context}) is not in the @sts/sts catalogue`);
  return entry.text;
}

export const uploadResultText = (code: string): string => catalogueText('upload-result', code);
export const processingStatusText = (status: number): string =>
  catalogueText('processing-status', String(status));
export const statusCallText = (outcome: 0 | 1): string => catalogueText('status-call', String(outcome));

const fromCatalogue = (code: string, type: MessageType): DocumentMessage => ({
  code,
  text: catalogueText('message', code),
  type,
});

/** Official or observed codes. */
export const MESSAGES = {
  ok: { code: '0', text: catalogueText('message', '0'), type: 'W' as MessageType },
  patientTaxCodeInvalid: fromCatalogue('S011', 'E'),
  alreadyPresent: fromCatalogue('S017', 'E'),
  alreadyCancelled: fromCatalogue('W010', 'W'),
  /** A payment of a closed tax year (the wording is ours: the STS's is not published). */
  closedYear: fromCatalogue('S035', 'E'),
  /** Accepted after the deadline (observed wording). */
  late: fromCatalogue('W008', 'W'),
  /** An issue or payment date after the day of reception: our own code, no STS one is public. */
  futureDate: fromCatalogue('S909', 'E'),
  fileRejected: fromCatalogue('WS37', 'E'),
  /**
   * A receipt not ready yet: the code is unconfirmed (its @sts/sts catalogue entry) and the
   * description ours, as no wording is published.
   */
  receiptNotReady: fromCatalogue('WS15', 'E'),
  nothingFound: fromCatalogue('WS96', 'E'),
} as const;

/** The simulator's own codes (documented in the README: no source gives these). */
export const SIMULATOR_MESSAGES = {
  identifier: { code: 'S901', text: 'IDENTIFICATIVO DEL DOCUMENTO FISCALE FORMALMENTE ERRATO', type: 'E' },
  paymentDate: { code: 'S902', text: 'DATA DI PAGAMENTO NON CONGRUENTE', type: 'E' },
  patient: { code: 'S903', text: 'DATI DEL CITTADINO NON CONGRUENTI CON IL FLAG OPPOSIZIONE', type: 'E' },
  documentType: { code: 'S904', text: 'TIPO DOCUMENTO ASSENTE O ERRATO', type: 'E' },
  lines: { code: 'S905', text: 'VOCE DI SPESA FORMALMENTE ERRATA', type: 'E' },
  vat: { code: 'S906', text: 'ALIQUOTA IVA O NATURA IVA ASSENTE O ERRATA', type: 'E' },
  traceablePayment: { code: 'S907', text: 'PAGAMENTO TRACCIATO NON INDICATO', type: 'E' },
  refundLink: { code: 'S908', text: 'DATI DEL RIMBORSO NON CONGRUENTI', type: 'E' },
  other: { code: 'S999', text: 'DOCUMENTO FORMALMENTE ERRATO', type: 'E' },
  updateUnknown: { code: 'S920', text: 'DOCUMENTO DA VARIARE NON PRESENTE IN ARCHIVIO', type: 'E' },
  cancelUnknown: { code: 'S921', text: 'DOCUMENTO DA CANCELLARE NON PRESENTE IN ARCHIVIO', type: 'E' },
  refundOriginalUnknown: {
    code: 'S922',
    text: 'DOCUMENTO ORIGINALE DEL RIMBORSO NON PRESENTE IN ARCHIVIO',
    type: 'E',
  },
  linkedToRefund: {
    code: 'S923',
    text: 'DOCUMENTO COLLEGATO A UN RIMBORSO: È NECESSARIO CANCELLARE PRIMA IL RIMBORSO',
    type: 'E',
  },
  ownerMismatch: {
    code: 'S924',
    text: 'IL CF PROPRIETARIO NEL FILE NON CORRISPONDE AI DATI DI INVIO',
    type: 'E',
  },
  notYetProcessed: { code: 'WS95', text: 'ELABORAZIONE DEL FILE NON ANCORA CONCLUSA', type: 'E' },
  badQuery: { code: 'WS94', text: 'PARAMETRI DI RICERCA NON VALIDI', type: 'E' },
} as const satisfies Record<string, DocumentMessage>;

/** Upload result codes reused as call messages of the other services (the simulator's choice). */
export function uploadCodeMessage(code: string): DocumentMessage {
  return { code, text: uploadResultText(code), type: 'E' };
}

/**
 * Which code a validation violation of @sts/sts maps to: the STS code it names (the date rules: S035,
 * S909), else a simulator code by the violation code's field.
 */
export function messageForViolation(violationCode: string, stsCode?: string): DocumentMessage {
  if (stsCode === MESSAGES.closedYear.code) return MESSAGES.closedYear;
  if (stsCode === MESSAGES.futureDate.code) return MESSAGES.futureDate;
  const field = violationCode.split('.')[1] ?? '';
  switch (field) {
    case 'id':
    case 'vat-number':
    case 'issue-date':
    case 'device':
    case 'number':
      return SIMULATOR_MESSAGES.identifier;
    case 'payment-date':
      return violationCode === 'document.payment-date.refund'
        ? SIMULATOR_MESSAGES.refundLink
        : SIMULATOR_MESSAGES.paymentDate;
    case 'paid-in-advance':
      return SIMULATOR_MESSAGES.paymentDate;
    case 'patient':
      return SIMULATOR_MESSAGES.patient;
    case 'encrypted-tax-code':
      return MESSAGES.patientTaxCodeInvalid;
    case 'document-type':
      return SIMULATOR_MESSAGES.documentType;
    case 'lines':
    case 'line':
    case 'expense-type':
    case 'expense-type-flag':
    case 'amount':
      return SIMULATOR_MESSAGES.lines;
    case 'vat':
    case 'vat-rate':
    case 'vat-nature':
      return SIMULATOR_MESSAGES.vat;
    case 'traceable-payment':
      return SIMULATOR_MESSAGES.traceablePayment;
    case 'refunded-id':
      return SIMULATOR_MESSAGES.refundLink;
    default:
      return SIMULATOR_MESSAGES.other;
  }
}
