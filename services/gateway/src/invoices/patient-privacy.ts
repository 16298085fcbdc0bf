import { createHmac } from 'node:crypto';

/** The smallest key accepted for the patient look-up HMAC. */
export const MIN_PATIENT_HASH_KEY_BYTES = 32;

/**
 * The keyed hash that lets `GET /v1/invoices?patient=<codice fiscale>` find a patient's documents
 * without the codice fiscale being stored anywhere: HMAC-SHA256 under a key of the gateway's own
 * (`GATEWAY_PATIENT_HASH_KEY`), over the code as the STS reads it (trimmed, upper case). Without the
 * key the hash cannot be tested against the (small) space of codici fiscali.
 */
export interface PatientHasher {
  hash(taxCode: string): Buffer;
}

export function createPatientHasher(key: Buffer): PatientHasher {
  if (key.length < MIN_PATIENT_HASH_KEY_BYTES) {
    throw new Error(`the patient hash key must have at least ${MIN_PATIENT_HASH_KEY_BYTES} bytes`);
  }
  return {
    hash: (taxCode) =>
      createHmac('sha256', key).update('patient-tax-code\0').update(normalizeTaxCode(taxCode)).digest(),
  };
}

/** As `encryptTaxCode` of packages/sts reads it: surrounding blanks off, upper case. */
export const normalizeTaxCode = (taxCode: string) => taxCode.trim().toUpperCase();
