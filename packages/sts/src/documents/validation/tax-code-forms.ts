import { checkTaxCode, type IdentifierCheck } from '@sts/shared/identifiers';
import type { EncryptedTaxCode } from '../expense-document.ts';
import { type Add, isRecord, type ResolvedRules } from './validation-support.ts';

/** A SanitelCF ciphertext: base64 on one line; the XSD allows up to 256 characters. */
const ENCRYPTED_TAX_CODE = /^[A-Za-z0-9+/]+={0,2}$/;

/** How a codice fiscale is carried: in clear (checked as an identifier) or encrypted (checked as ciphertext). */
export interface TaxCodeForm<T> {
  check(value: unknown, path: string, scope: string, who: string, add: Add, entity: boolean): T | undefined;
}

export const plainTaxCode = (rules: ResolvedRules): TaxCodeForm<string> => ({
  check(value, path, scope, who, add, entity) {
    const result: IdentifierCheck = checkTaxCode(value, {
      allowKitTestIdentifiers: rules.allowKitTestIdentifiers,
      allowEntityTaxCode: entity,
    });
    if (result.ok) return result.value;
    add(
      path,
      `${scope}.${result.problem.code}`,
      `The codice fiscale of the ${who} is not valid.`,
      result.problem.message,
    );
    return undefined;
  },
});

export const encryptedTaxCode: TaxCodeForm<EncryptedTaxCode> = {
  check(value, path, scope, who, add) {
    const encrypted = isRecord(value) ? value.encrypted : undefined;
    if (typeof encrypted === 'string' && encrypted.length <= 256 && ENCRYPTED_TAX_CODE.test(encrypted)) {
      return { encrypted };
    }
    add(
      path,
      `${scope}.encrypted-tax-code.format`,
      `The encrypted codice fiscale of the ${who} is not a single-line base64 SanitelCF ciphertext of at most 256 characters.`,
      'Encrypt the codice fiscale with the SanitelCF certificate (RSA PKCS#1 v1.5) and pass the base64 on one line.',
    );
    return undefined;
  },
};
