import { checkTaxCode, romeDate } from '@sts/shared';
import { checkDeadline, type ExpenseDocument, validateEncryptedDocument } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import type { DocumentArchive, OperationSource } from './document-archive.ts';
import { type DocumentMessage, MESSAGES, messageForViolation } from './document-messages.ts';

/**
 * One document, from either path (a record of an uploaded file or a single-document call): the
 * patient's codice fiscale is decrypted and checked (S011), the @sts/sts business rules run on the
 * document (mapped to S-codes), then the archive applies the operation (S017 and friends).
 *
 * The date rules of @sts/sts run too, on the day of reception in Italy: a date after it is S909 (our
 * code), a payment of a closed tax year S035, and a late one is accepted with W008 (the STS calendar,
 * `checkDeadline`). `calendar: 'relaxed'` (as the kit test environment seems to behave) lifts S035
 * and W008; S909 stays.
 */

/** `enforce`: the STS calendar as production applies it; `relaxed`: closed and late years pass. */
export const CALENDAR_MODES = ['enforce', 'relaxed'] as const;
export type CalendarMode = (typeof CALENDAR_MODES)[number];

/** The kit's category of veterinarians (`SoggettoVeterinario`); configured accounts may use it too. */
const VETERINARIAN_CATEGORY = 'Veterinario';

/** Whether an account sends as a veterinarian (its own dates); delegates follow the health dates. */
export const isVeterinarian = (user: { category: string }): boolean =>
  user.category.split('/').includes(VETERINARIAN_CATEGORY);

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
  /** The sender is a veterinarian: the veterinary deadlines apply. */
  veterinarian: boolean;
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
  calendar: CalendarMode;
}): DocumentIntake {
  const relaxedCalendar = options.calendar === 'relaxed';
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
      // The day the STS received it, in Italy: what the deadlines are counted against.
      const today = romeDate(new Date(context.source.receivedAt));
      let late = false;
      if (document.operation === 'cancel') {
        // A cancellation names the document and nothing else worth checking (the sync service sends
        // only the id); its tax year is that of the stored document.
        const stored = options.archive.find(context.owner, document.id);
        if (stored && !relaxedCalendar) {
          const deadline = checkDeadline({
            operation: 'cancel',
            paymentDate: stored.paymentDate,
            senderType: context.veterinarian ? 'veterinarian' : 'other',
            today,
          });
          if (deadline.status === 'closed')
            return { accepted: false, warning: false, messages: [MESSAGES.closedYear] };
        }
      } else {
        const messages: DocumentMessage[] = [];
        const patient = patientProblem(document);
        if (patient) messages.push(patient);
        const validation = validateEncryptedDocument(document, {
          allowKitTestIdentifiers: !options.strictTaxCodes,
          documentTypeRequired: document.paymentDate >= DOCUMENT_TYPE_REQUIRED_FROM,
          traceablePaymentExempt: context.traceablePaymentExempt,
          today,
          veterinarian: context.veterinarian,
          relaxedCalendar,
        });
        if (!validation.ok) {
          for (const violation of validation.violations) {
            const message = messageForViolation(violation.code, violation.stsCode);
            if (!messages.some((existing) => existing.code === message.code)) messages.push(message);
          }
        }
        if (messages.length > 0) return { accepted: false, warning: false, messages };
        late = !relaxedCalendar && validation.deadline?.status === 'late';
      }
      const result = options.archive.apply(context.owner, document, context.source);
      const messages = result.accepted && late ? [MESSAGES.late, ...result.messages] : result.messages;
      return {
        accepted: result.accepted,
        warning: result.accepted && messages.some((message) => message.type === 'W'),
        messages,
      };
    },
  };
}
