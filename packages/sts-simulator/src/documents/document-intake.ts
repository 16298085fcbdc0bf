import { checkTaxCode } from '@sts/shared';
import { type ExpenseDocument, validateEncryptedDocument } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import type { DocumentArchive, OperationSource } from './document-archive.ts';
import { type DocumentMessage, MESSAGES, messageForViolation } from './document-messages.ts';

/**
 * One document, from either path (a record of an uploaded file or a single-document call): the
 * patient's codice fiscale is decrypted and checked (S011), the @sts/sts business rules run on the
 * document (mapped to S-codes), then the archive applies the operation (S017 and friends).
 */

export interface DocumentOutcome {
  accepted: boolean;
  /** Accepted with W messages. */
  warning: boolean;
  messages: DocumentMessage[];
}

export interface IntakeContext {
  /** Archive owner key (see `ownerKey`). */
  owner: string;
  source: OperationSource;
  /** Public accredited structures need no `pagamentoTracciato`. */
  traceablePaymentExempt: boolean;
}

export interface DocumentIntake {
  process(document: ExpenseDocument, context: IntakeContext): DocumentOutcome;
}

/** From this payment date `tipoDocumento` (and the VAT fields) are required: DM 19/10/2020, spec v2.4. */
const DOCUMENT_TYPE_REQUIRED_FROM = '2021-01-01';

export function createDocumentIntake(options: {
  archive: DocumentArchive;
  decryptor: FieldDecryptor;
  /** Check the check character of patient codici fiscali; off accepts kit-style test codes. */
  strictTaxCodes: boolean;
}): DocumentIntake {
  const patientProblem = (document: ExpenseDocument): DocumentMessage | undefined => {
    if (document.patient.kind !== 'identified') return undefined;
    const decrypted = options.decryptor.decrypt(document.patient.taxCode.encrypted);
    if (decrypted.kind === 'failed') return MESSAGES.patientTaxCodeInvalid;
    if (decrypted.kind !== 'plain') return undefined;
    const check = checkTaxCode(decrypted.value, { allowKitTestIdentifiers: !options.strictTaxCodes });
    // The STS compares the code as sent: lower case or padding is a formally wrong code too.
    return check.ok && check.value === decrypted.value ? undefined : MESSAGES.patientTaxCodeInvalid;
  };

  return {
    process(document, context) {
      options.archive.noteReceived(document.id, document.operation);
      // A cancellation names the document and nothing else worth checking (the sync service sends only the id).
      if (document.operation !== 'cancel') {
        const messages: DocumentMessage[] = [];
        const patient = patientProblem(document);
        if (patient) messages.push(patient);
        const validation = validateEncryptedDocument(document, {
          allowKitTestIdentifiers: !options.strictTaxCodes,
          documentTypeRequired: document.paymentDate >= DOCUMENT_TYPE_REQUIRED_FROM,
          traceablePaymentExempt: context.traceablePaymentExempt,
        });
        if (!validation.ok) {
          for (const violation of validation.violations) {
            const message = messageForViolation(violation.code);
            if (!messages.some((existing) => existing.code === message.code)) messages.push(message);
          }
        }
        if (messages.length > 0) return { accepted: false, warning: false, messages };
      }
      const result = options.archive.apply(context.owner, document, context.source);
      return {
        accepted: result.accepted,
        warning: result.accepted && result.messages.some((message) => message.type === 'W'),
        messages: result.messages,
      };
    },
  };
}
