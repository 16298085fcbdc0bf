import { OPERATIONS, type Operation } from '@sts/sts';

/**
 * An invoice event as a clinic's system posts it: the operation, the sender credential (optional
 * when the tenant has exactly one credential for the document's VAT number) and the document in the
 * English model of packages/sts (`ExpenseDocument`, the patient's codice fiscale in clear). A
 * cancellation may carry only the document's `id`: the gateway takes the rest from the document it
 * already holds.
 */
export interface InvoiceEvent {
  operation: Operation;
  credentialId?: string;
  document: Record<string, unknown>;
}

/** One thing wrong with an event: where (a JSON path in the event), the rule, what, and what to do. */
export interface EventProblem {
  field: string;
  rule: string;
  message: string;
  hint?: string;
  /** The STS code for the same problem, or ours for a rule of ours (the error catalogue). */
  stsCode?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The fields the model knows, per object. Anything else is refused: a misspelt optional field
 * (`traceablePayement`) would otherwise be dropped silently and the document sent without it.
 */
const KNOWN_FIELDS: Record<string, readonly string[]> = {
  event: ['operation', 'credentialId', 'document'],
  document: [
    'id',
    'operation',
    'refundedDocumentId',
    'paymentDate',
    'paidInAdvance',
    'patient',
    'traceablePayment',
    'documentType',
    'lines',
  ],
  id: ['vatNumber', 'issueDate', 'device', 'number'],
  patient: ['kind', 'taxCode'],
  line: ['expenseType', 'expenseTypeFlag', 'amount', 'vatRate', 'vatNature'],
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const at = (prefix: string, path: string) => (prefix && path ? `${prefix}.${path}` : prefix || path);

function unknownFields(
  value: unknown,
  kind: keyof typeof KNOWN_FIELDS,
  path: string,
  problems: EventProblem[],
): void {
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    if (KNOWN_FIELDS[kind]!.includes(key)) continue;
    problems.push({
      field: at(path, key.length > 60 ? `${key.slice(0, 60)}…` : key),
      rule: 'unknown-field',
      message: 'This field is not part of the invoice event model.',
      hint: `Remove it, or check its spelling: the fields here are ${KNOWN_FIELDS[kind]!.join(', ')}.`,
    });
  }
}

/**
 * Checks the envelope of one event and that no object of it has fields the model does not know; the
 * document's own rules are `validateExpenseDocument`'s (packages/sts). `prefix` is where the event
 * sits in the request (`events[3]`, or `` for a single event).
 */
export function parseInvoiceEvent(
  input: unknown,
  prefix = '',
): { ok: true; event: InvoiceEvent } | { ok: false; problems: EventProblem[] } {
  const problems: EventProblem[] = [];
  if (!isRecord(input)) {
    return {
      ok: false,
      problems: [
        {
          field: prefix || '(body)',
          rule: 'type',
          message: 'An invoice event is a JSON object.',
          hint: 'Send {"operation": …, "credentialId": …, "document": {…}}.',
        },
      ],
    };
  }
  unknownFields(input, 'event', prefix, problems);
  const { operation, credentialId, document } = input;
  if (!(OPERATIONS as readonly unknown[]).includes(operation)) {
    problems.push({
      field: at(prefix, 'operation'),
      rule: operation === undefined ? 'required' : 'enum',
      message: `The operation must be one of ${OPERATIONS.join(', ')}.`,
      hint: 'insert a new document, update it, refund it (a new document that refunds another) or cancel it.',
    });
  }
  if (credentialId !== undefined && (typeof credentialId !== 'string' || !UUID.test(credentialId))) {
    problems.push({
      field: at(prefix, 'credentialId'),
      rule: 'uuid',
      message: 'The credential id is not a uuid.',
      hint: 'Use the id of one of your credentials (GET /v1/credentials), or leave it out.',
    });
  }
  if (!isRecord(document)) {
    problems.push({
      field: at(prefix, 'document'),
      rule: document === undefined ? 'required' : 'type',
      message: 'The document is missing or not an object.',
      hint: 'Send the document in the model of the API documentation (id, paymentDate, patient, lines …).',
    });
  } else {
    const path = at(prefix, 'document');
    unknownFields(document, 'document', path, problems);
    unknownFields(document.id, 'id', at(path, 'id'), problems);
    unknownFields(document.refundedDocumentId, 'id', at(path, 'refundedDocumentId'), problems);
    unknownFields(document.patient, 'patient', at(path, 'patient'), problems);
    if (Array.isArray(document.lines)) {
      document.lines.forEach((line, index) => {
        unknownFields(line, 'line', at(path, `lines[${index}]`), problems);
      });
    }
    if (document.operation !== undefined && document.operation !== operation) {
      problems.push({
        field: at(path, 'operation'),
        rule: 'matches-event',
        message: "The document's operation differs from the event's.",
        hint: 'Leave document.operation out: the event says the operation.',
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    event: {
      operation: operation as Operation,
      ...(credentialId !== undefined ? { credentialId: credentialId as string } : {}),
      document: document as Record<string, unknown>,
    },
  };
}
