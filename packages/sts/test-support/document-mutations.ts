import type { PlainExpenseDocument, Sender } from '../src/documents/expense-document.ts';

/**
 * One-change mutations that turn a valid document (or sender) into an invalid one, each with the
 * violation it must produce. Applied to a deep copy of a valid input.
 */
export interface Mutation {
  name: string;
  apply(input: { document: PlainExpenseDocument; sender: Sender }): void;
  path: string;
  code: string;
  /** False when the encrypted document cannot show the problem (the patient's check character). */
  visibleWhenEncrypted: boolean;
}

const nextLetter = (char: string) => String.fromCharCode(((char.charCodeAt(0) - 65 + 1) % 26) + 65);

/** Makes the document an insert paid after issue, so date mutations have one cause only. */
const plainInsert = (document: PlainExpenseDocument, issueDate: string, paymentDate: string) => {
  document.operation = 'insert';
  delete document.refundedDocumentId;
  delete document.paidInAdvance;
  document.id.issueDate = issueDate;
  document.paymentDate = paymentDate;
};

const mutation = (
  name: string,
  path: string,
  code: string,
  apply: Mutation['apply'],
  visibleWhenEncrypted = true,
): Mutation => ({ name, path, code, apply, visibleWhenEncrypted });

export const MUTATIONS: readonly Mutation[] = [
  mutation(
    'patient codice fiscale with a wrong check character',
    'patient.taxCode',
    'document.tax-code.check-character',
    ({ document }) => {
      const taxCode = document.patient.kind === 'identified' ? document.patient.taxCode : 'RSSMRA85T10A562S';
      document.patient = { kind: 'identified', taxCode: taxCode.slice(0, 15) + nextLetter(taxCode[15]!) };
    },
    false,
  ),
  mutation(
    'opposition with a codice fiscale',
    'patient.taxCode',
    'document.patient.opposed-with-tax-code',
    ({ document }) => {
      document.patient = { kind: 'opposed', taxCode: 'RSSMRA85T10A562S' } as never;
    },
  ),
  mutation('amount zero', 'lines[0].amount', 'document.amount.not-positive', ({ document }) => {
    document.lines[0]!.amount = '0.00';
  }),
  mutation('amount 100000.00', 'lines[0].amount', 'document.amount.too-large', ({ document }) => {
    document.lines[0]!.amount = '100000.00';
  }),
  mutation('amount with three decimals', 'lines[0].amount', 'document.amount.decimals', ({ document }) => {
    document.lines[0]!.amount = `${document.lines[0]!.amount}1`;
  }),
  mutation('amount with a comma', 'lines[0].amount', 'document.amount.format', ({ document }) => {
    document.lines[0]!.amount = document.lines[0]!.amount.replace('.', ',');
  }),
  mutation('both VAT rate and nature', 'lines[0]', 'document.vat.both', ({ document }) => {
    document.lines[0] = { ...document.lines[0]!, vatRate: '10.00', vatNature: 'N1' };
  }),
  mutation('neither VAT rate nor nature', 'lines[0]', 'document.vat.missing', ({ document }) => {
    delete document.lines[0]!.vatRate;
    delete document.lines[0]!.vatNature;
  }),
  mutation('VAT rate above 100', 'lines[0].vatRate', 'document.vat-rate.range', ({ document }) => {
    delete document.lines[0]!.vatNature;
    document.lines[0]!.vatRate = '100.01';
  }),
  mutation(
    'VAT rate with three decimals',
    'lines[0].vatRate',
    'document.vat-rate.decimals',
    ({ document }) => {
      delete document.lines[0]!.vatNature;
      document.lines[0]!.vatRate = '10.001';
    },
  ),
  mutation('unknown VAT nature', 'lines[0].vatNature', 'document.vat-nature.unknown', ({ document }) => {
    delete document.lines[0]!.vatRate;
    document.lines[0]!.vatNature = 'N8';
  }),
  mutation(
    'sub-code nature on a receipt',
    'lines[0].vatNature',
    'document.vat-nature.receipt',
    ({ document }) => {
      document.documentType = 'receipt';
      delete document.lines[0]!.vatRate;
      document.lines[0]!.vatNature = 'N2.1';
    },
  ),
  mutation(
    'intramoenia with FC',
    'lines[0].expenseTypeFlag',
    'document.expense-type-flag.intramoenia',
    ({ document }) => {
      document.lines[0]!.expenseType = 'FC';
      document.lines[0]!.expenseTypeFlag = 'intramoenia';
    },
  ),
  mutation(
    'emergency ticket with SR',
    'lines[0].expenseTypeFlag',
    'document.expense-type-flag.emergency-ticket',
    ({ document }) => {
      document.lines[0]!.expenseType = 'SR';
      document.lines[0]!.expenseTypeFlag = 'emergency-ticket';
    },
  ),
  mutation(
    'unknown expense type',
    'lines[0].expenseType',
    'document.expense-type.unknown',
    ({ document }) => {
      document.lines[0]!.expenseType = 'XX' as never;
    },
  ),
  mutation('no lines', 'lines', 'document.lines.missing', ({ document }) => {
    document.lines = [];
  }),
  mutation(
    'refund without the refunded document',
    'refundedDocumentId',
    'document.refunded-id.missing',
    ({ document }) => {
      document.operation = 'refund';
      delete document.refundedDocumentId;
      document.paymentDate = document.id.issueDate;
    },
  ),
  mutation(
    'refunded document on an insert',
    'refundedDocumentId',
    'document.refunded-id.unexpected',
    ({ document }) => {
      document.refundedDocumentId ??= { ...document.id };
      document.operation = 'insert';
    },
  ),
  mutation(
    'refund paid after its issue date',
    'paymentDate',
    'document.payment-date.refund',
    ({ document }) => {
      document.operation = 'refund';
      document.refundedDocumentId = { ...document.id, number: 'ORIG1' };
      document.id.issueDate = '2021-06-15';
      document.paymentDate = '2021-06-16';
    },
  ),
  mutation(
    'payment before issue without advance',
    'paymentDate',
    'document.payment-date.before-issue',
    ({ document }) => plainInsert(document, '2021-06-15', '2021-06-14'),
  ),
  mutation(
    'paid in advance but paid after issue',
    'paidInAdvance',
    'document.paid-in-advance.after-issue',
    ({ document }) => {
      plainInsert(document, '2021-06-15', '2021-06-20');
      document.paidInAdvance = true;
    },
  ),
  mutation('issue date 2013-12-31', 'id.issueDate', 'document.issue-date.too-early', ({ document }) => {
    document.id.issueDate = '2013-12-31';
  }),
  mutation('payment date 2014-12-31', 'paymentDate', 'document.payment-date.too-early', ({ document }) => {
    plainInsert(document, '2014-06-01', '2014-12-31');
  }),
  mutation(
    'issue date 29 February of a common year',
    'id.issueDate',
    'document.issue-date.format',
    ({ document }) => {
      document.id.issueDate = '2023-02-29';
    },
  ),
  mutation('device 0', 'id.device', 'document.device.range', ({ document }) => {
    document.id.device = 0;
  }),
  mutation('device 1000', 'id.device', 'document.device.range', ({ document }) => {
    document.id.device = 1000;
  }),
  mutation('number with a space', 'id.number', 'document.number.format', ({ document }) => {
    document.id.number = `${document.id.number.slice(0, 10)} 1`;
  }),
  mutation('number of 21 characters', 'id.number', 'document.number.length', ({ document }) => {
    document.id.number = document.id.number.padEnd(21, '0').slice(0, 21).padStart(21, '0');
  }),
  mutation(
    'VAT number with a wrong check digit',
    'id.vatNumber',
    'document.vat-number.check-digit',
    ({ document }) => {
      const vat = document.id.vatNumber;
      document.id.vatNumber = vat.slice(0, 10) + String((Number(vat[10]) + 1) % 10);
    },
  ),
  mutation('document type missing', 'documentType', 'document.document-type.missing', ({ document }) => {
    delete document.documentType;
    for (const line of document.lines) {
      if (line.vatNature && line.vatNature.length > 2) line.vatNature = 'N4';
    }
  }),
  mutation(
    'traceable payment missing',
    'traceablePayment',
    'document.traceable-payment.missing',
    ({ document }) => {
      delete document.traceablePayment;
      document.lines[0]!.expenseType = 'SR';
      delete document.lines[0]!.expenseTypeFlag;
      if (document.paymentDate < '2020-01-01') {
        plainInsert(document, '2022-03-01', '2022-03-01');
      }
    },
  ),
  mutation(
    'sender region code of 2 characters',
    'sender.regionCode',
    'sender.region-code.format',
    ({ sender }) => {
      Object.assign(sender, { kind: 'structure', regionCode: '13', aslCode: '204', ssaCode: '78909' });
    },
  ),
  mutation('sender SSA code of 7 characters', 'sender.ssaCode', 'sender.ssa-code.format', ({ sender }) => {
    Object.assign(sender, { kind: 'structure', regionCode: '130', aslCode: '204', ssaCode: '1234567' });
  }),
  mutation(
    'sender codice fiscale with a wrong check character',
    'sender.taxCode',
    'sender.tax-code.check-character',
    ({ sender }) => {
      Object.assign(sender, { kind: 'professional', taxCode: 'RSSMRA85T10A562T' });
    },
  ),
];
