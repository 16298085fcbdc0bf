/**
 * Stable codes of everything that can go wrong around SanitelCF encryption. Messages name the field
 * and the rule, never the value: the values are patient codici fiscali and pincodes.
 */
export const SANITEL_CRYPTO_ERROR_CODES = [
  'sanitel-certificate-unreadable',
  'sanitel-certificate-invalid',
  'sanitel-private-key-invalid',
  'sanitel-plaintext-empty',
  'sanitel-plaintext-not-ascii',
  'sanitel-plaintext-surrounding-whitespace',
  'sanitel-plaintext-too-long',
  'sanitel-plaintext-not-utf8',
  'sanitel-tax-code-format',
  'sanitel-pincode-format',
  'sanitel-ciphertext-not-base64',
  'sanitel-ciphertext-wrong-length',
  'sanitel-ciphertext-bad-padding',
] as const;
export type SanitelCryptoErrorCode = (typeof SANITEL_CRYPTO_ERROR_CODES)[number];

/** Bad input or configuration for SanitelCF encryption: which field, which rule, what to do. */
export class SanitelCryptoError extends Error {
  readonly code: SanitelCryptoErrorCode;
  /** The field path the problem is about (`taxCode`, `pincode`, `certificate` …). */
  readonly field: string;
  /** What to do about it, for the person reading the log. */
  readonly hint: string;

  constructor(options: { code: SanitelCryptoErrorCode; field: string; message: string; hint: string }) {
    super(`${options.field}: ${options.message}`);
    this.name = 'SanitelCryptoError';
    this.code = options.code;
    this.field = options.field;
    this.hint = options.hint;
  }
}
