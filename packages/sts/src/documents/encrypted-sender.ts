import { encryptTaxCode, type SanitelEncryptor } from '../crypto/sanitel-encryptor.ts';
import type { EncryptedTaxCode, Sender } from './expense-document.ts';
import {
  type DocumentRules,
  InvalidDocumentError,
  validateEncryptedSender,
  validateSender,
} from './validate-document.ts';

/** A sender given either in clear (to be encrypted here) or already encrypted (e.g. parsed from a file). */
export type AnySender = Sender | Sender<EncryptedTaxCode>;

const hasPlainTaxCode = (sender: AnySender): sender is Sender => typeof sender.taxCode === 'string';

/**
 * The sender as it goes inside a file or a single-document request: validated, with `cfProprietario`
 * encrypted with SanitelCF (it is encrypted in both places; only the `inviaFileMtom` SOAP header carries
 * it in clear). Throws `InvalidDocumentError` for an invalid sender.
 */
export function encryptSender(
  sender: AnySender,
  encryptor: SanitelEncryptor | undefined,
  rules?: DocumentRules,
): Sender<EncryptedTaxCode> {
  if (hasPlainTaxCode(sender)) {
    const checked = validateSender(sender, rules);
    if (!checked.ok) throw new InvalidDocumentError('The sender', checked.violations);
    const plain = checked.value;
    if (plain.taxCode === undefined) return plain as Sender<EncryptedTaxCode>;
    if (!encryptor) throw new Error('An encryptor is needed to encrypt the sender codice fiscale');
    return { ...plain, taxCode: encryptTaxCode(encryptor, plain.taxCode) };
  }
  const checked = validateEncryptedSender(sender);
  if (!checked.ok) throw new InvalidDocumentError('The sender', checked.violations);
  return checked.value;
}
