import { createHash } from 'node:crypto';
import {
  type DocumentId,
  type DocumentNotice,
  type DocumentRules,
  type EncryptedTaxCode,
  type ExpenseDocument,
  encryptTaxCode,
  type SanitelEncryptor,
  validateDocumentId,
  validateExpenseDocument,
} from '@sts/sts';
import type { SenderCredential } from './credential-directory.ts';
import { documentKey } from './document-keys.ts';
import type { EventProblem, InvoiceEvent } from './invoice-event.ts';
import type { PatientHasher } from './patient-privacy.ts';

export type Environment = SenderCredential['environment'];

/** What preparing an event needs: the tenant's credentials and, per environment, rules and keys. */
export interface PreparationContext {
  tenantId: string;
  credentials: readonly SenderCredential[];
  encryptors: Record<Environment, SanitelEncryptor>;
  patientHasher: PatientHasher;
  /** The validation rules for documents sent with a credential of this environment today. */
  rulesFor(environment: Environment): DocumentRules;
}

/** An event ready to be stored: validated, its credential chosen, its patient encrypted. */
export interface PreparedEvent {
  operation: InvoiceEvent['operation'];
  credential: SenderCredential;
  id: DocumentId;
  /** The document's own identity key, and for a refund the refunded document's. */
  documentKey: string;
  refundedKey?: string;
  /** The validated document, patient encrypted; absent for a cancellation given by id only. */
  document?: ExpenseDocument<EncryptedTaxCode>;
  patientHash?: Buffer;
  /** Same event, same hash: a retry is recognised without the patient's codice fiscale stored. */
  contentHash: Buffer;
  notices?: DocumentNotice[];
}

const prefixed = (prefix: string, path: string) => [prefix, path].filter(Boolean).join('.');

/**
 * Validates an event against everything the STS would reject (packages/sts), picks its credential,
 * and encrypts the patient's codice fiscale with the SanitelCF certificate of the credential's
 * environment. The plaintext codice fiscale stays in this function's locals: what it returns holds
 * only the ciphertext and the keyed hash.
 */
export function prepareEvent(
  event: InvoiceEvent,
  context: PreparationContext,
  prefix = '',
): { ok: true; prepared: PreparedEvent } | { ok: false; problems: EventProblem[] } {
  const documentPath = prefixed(prefix, 'document');
  const vatNumber = (event.document.id as { vatNumber?: unknown } | undefined)?.vatNumber;
  const chosen = chooseCredential(event, vatNumber, context.credentials, prefix);
  if (!chosen.ok) {
    // Without a credential, the document's own problems are still worth telling (strict rules).
    const checked = validateExpenseDocument(
      { ...event.document, operation: event.operation } as never,
      context.rulesFor('production'),
    );
    const documentProblems = checked.ok ? [] : toProblems(documentPath, checked.violations);
    return { ok: false, problems: [...documentProblems, ...chosen.problems] };
  }
  const credential = chosen.credential;
  const rules = context.rulesFor(credential.environment);

  // A cancellation needs only the id; with more, the whole document is checked as for the others.
  const onlyId = event.operation === 'cancel' && Object.keys(event.document).every((key) => key === 'id');
  if (onlyId) {
    const checked = validateDocumentId(event.document.id as DocumentId, rules);
    if (!checked.ok) return { ok: false, problems: toProblems(documentPath, checked.violations) };
    return {
      ok: true,
      prepared: {
        operation: 'cancel',
        credential,
        id: checked.value,
        documentKey: documentKey(context.tenantId, checked.value),
        contentHash: hashOf({ operation: 'cancel', credentialId: credential.id, id: checked.value }),
      },
    };
  }

  const checked = validateExpenseDocument({ ...event.document, operation: event.operation } as never, rules);
  if (!checked.ok) return { ok: false, problems: toProblems(documentPath, checked.violations) };
  const plain = checked.value;
  let patient: ExpenseDocument['patient'] = { kind: 'opposed' };
  let patientHash: Buffer | undefined;
  if (plain.patient.kind === 'identified') {
    patient = {
      kind: 'identified',
      taxCode: encryptTaxCode(context.encryptors[credential.environment], plain.patient.taxCode),
    };
    patientHash = context.patientHasher.hash(plain.patient.taxCode);
  }
  const document: ExpenseDocument = { ...plain, patient };
  const forHash = {
    ...plain,
    patient: patientHash ? { kind: 'identified', hash: patientHash.toString('hex') } : patient,
  };
  return {
    ok: true,
    prepared: {
      operation: plain.operation,
      credential,
      id: plain.id,
      documentKey: documentKey(context.tenantId, plain.id),
      ...(plain.refundedDocumentId
        ? { refundedKey: documentKey(context.tenantId, plain.refundedDocumentId) }
        : {}),
      document,
      ...(patientHash ? { patientHash } : {}),
      contentHash: hashOf({ operation: plain.operation, credentialId: credential.id, document: forHash }),
      ...(checked.notices?.length ? { notices: checked.notices } : {}),
    },
  };
}

type Violation = { path: string; code: string; message: string; hint: string; stsCode?: string };
const toProblems = (documentPath: string, violations: readonly Violation[]): EventProblem[] =>
  violations.map((violation) => ({
    field: prefixed(documentPath, violation.path),
    rule: violation.code,
    message: violation.message,
    hint: violation.hint,
    ...(violation.stsCode ? { stsCode: violation.stsCode } : {}),
  }));

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest();

function chooseCredential(
  event: InvoiceEvent,
  vatNumber: unknown,
  credentials: readonly SenderCredential[],
  prefix: string,
): { ok: true; credential: SenderCredential } | { ok: false; problems: EventProblem[] } {
  const field = prefixed(prefix, 'credentialId');
  const refuse = (rule: string, message: string, hint: string) => ({
    ok: false as const,
    problems: [{ field, rule, message, hint }],
  });
  if (event.credentialId !== undefined) {
    const credential = credentials.find((candidate) => candidate.id === event.credentialId);
    if (!credential) {
      return refuse(
        'credential.unknown',
        'No credential of this tenant has this id.',
        'Use the id of one of your credentials (GET /v1/credentials).',
      );
    }
    if (
      typeof vatNumber === 'string' &&
      credential.vatNumbers.length > 0 &&
      !credential.vatNumbers.includes(vatNumber)
    ) {
      return refuse(
        'credential.vat-number',
        "The credential does not send documents for the document's VAT number.",
        'Add the VAT number to the credential (PATCH /v1/credentials/{id}), or use the credential that has it.',
      );
    }
    return { ok: true, credential };
  }
  const candidates = credentials.filter((candidate) =>
    typeof vatNumber === 'string' ? candidate.vatNumbers.includes(vatNumber) : false,
  );
  if (candidates.length === 1) return { ok: true, credential: candidates[0]! };
  if (candidates.length === 0) {
    return refuse(
      'credential.none-for-vat-number',
      "None of the tenant's credentials sends documents for the document's VAT number.",
      'Give credentialId, or add the VAT number to the credential that sends for it.',
    );
  }
  return refuse(
    'credential.ambiguous',
    `${candidates.length} of the tenant's credentials send documents for this VAT number.`,
    'Say which one with credentialId.',
  );
}
