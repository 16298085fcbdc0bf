import type { Patient } from '../expense-document.ts';
import type { TaxCodeForm } from './tax-code-forms.ts';
import { type Add, isRecord } from './validation-support.ts';

/** The patient: identified by codice fiscale, or opposed to the transmission (then without one). */
export function checkPatient<T>(value: unknown, form: TaxCodeForm<T>, add: Add): Patient<T> | undefined {
  if (!isRecord(value) || (value.kind !== 'identified' && value.kind !== 'opposed')) {
    add(
      'patient.kind',
      'document.patient.kind',
      'The patient must be either identified by codice fiscale or opposed to the transmission.',
      'Set patient.kind to "identified" with the codice fiscale, or "opposed" without it.',
    );
    return undefined;
  }
  if (value.kind === 'opposed') {
    if (value.taxCode !== undefined) {
      add(
        'patient.taxCode',
        'document.patient.opposed-with-tax-code',
        'When the patient opposes the transmission, the codice fiscale must not be sent.',
        'Remove the codice fiscale, or set patient.kind to "identified" if the patient does not oppose.',
      );
      return undefined;
    }
    return { kind: 'opposed' };
  }
  if (value.taxCode === undefined) {
    add(
      'patient.taxCode',
      'document.patient.tax-code-missing',
      'The codice fiscale of the patient is missing.',
      'Give the codice fiscale from the health card, or set patient.kind to "opposed".',
    );
    return undefined;
  }
  const taxCode = form.check(value.taxCode, 'patient.taxCode', 'document', 'patient', add, false);
  return taxCode === undefined ? undefined : { kind: 'identified', taxCode };
}
