import { constants, type KeyObject, publicEncrypt } from 'node:crypto';
import type { EncryptedTaxCode } from '../documents/expense-document.ts';
import type { SanitelCertificateSet } from './sanitel-certificate-set.ts';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';

/**
 * Encrypts a field for the STS the way the decree prescribes: RSA with the SanitelCF public key,
 * PKCS#1 v1.5 padding, base64 on one line. Randomised: the same input gives a different output each
 * time, and every output decrypts to the same input.
 */
export interface SanitelEncryptor {
  encrypt(plain: string): string;
}

// PKCS#1 v1.5 needs 11 bytes of the block for its own header and padding.
const PKCS1_OVERHEAD = 11;
// Non-empty printable ASCII that neither starts nor ends with a space: the fast path of `encrypt`.
const ACCEPTABLE = /^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$/;
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;
const TAX_CODE = /^(?:[A-Z0-9]{16}|[0-9]{11})$/;
const PINCODE = /^[0-9]{10}$/;

/**
 * `cert` is a loaded SanitelCF certificate (or anything carrying its RSA public key), or a set of
 * certificates: then each encryption uses the one the set chooses at that moment (the newest valid
 * one, `SanitelCertificateSet.choose`), so a renewal configured ahead takes over on its own. The
 * input is encrypted exactly as given, so the encryptor refuses what would silently encrypt the
 * wrong bytes: empty input, leading/trailing whitespace or newlines, anything but printable ASCII,
 * and input too long for the key. Errors never repeat the input.
 */
export function createSanitelEncryptor(
  cert: { readonly publicKey: KeyObject } | SanitelCertificateSet,
): SanitelEncryptor {
  if ('choose' in cert) return createSetEncryptor(cert);
  const key = cert.publicKey;
  const modulusLength = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || modulusLength === undefined) {
    throw new SanitelCryptoError({
      code: 'sanitel-certificate-invalid',
      field: 'certificate',
      message: 'the encryption key is not an RSA public key',
      hint: 'Pass the SanitelCF certificate loaded with loadSanitelCertificate.',
    });
  }
  const maxPlaintextBytes = Math.ceil(modulusLength / 8) - PKCS1_OVERHEAD;

  return {
    encrypt(plain: string): string {
      if (typeof plain !== 'string' || !ACCEPTABLE.test(plain) || plain.length > maxPlaintextBytes) {
        throw plaintextProblem(plain, 'plaintext', maxPlaintextBytes);
      }
      // Printable ASCII: one byte per character, so the length check above is a byte count.
      return publicEncrypt(
        { key, padding: constants.RSA_PKCS1_PADDING },
        Buffer.from(plain, 'latin1'),
      ).toString('base64');
    },
  };
}

/** One encryptor per certificate of the set, made once; the choice is made per encryption. */
function createSetEncryptor(set: SanitelCertificateSet): SanitelEncryptor {
  const encryptors = new Map(set.certificates.map((c) => [c, createSanitelEncryptor(c)]));
  return {
    encrypt: (plain: string) => encryptors.get(set.choose().certificate)!.encrypt(plain),
  };
}

/**
 * Encrypts a codice fiscale (a patient's `cfCittadino` or the sender's `cfProprietario`). Trims and
 * upper-cases it first, then checks its shape (16 letters/digits, or 11 digits for entities and
 * provisional codes); check digits are the caller's validation.
 */
export function encryptTaxCode(encryptor: SanitelEncryptor, taxCode: string): EncryptedTaxCode {
  const field = 'taxCode';
  const trimmed = typeof taxCode === 'string' ? taxCode.trim() : '';
  if (trimmed === '') throw plaintextProblem(trimmed, field, Number.POSITIVE_INFINITY);
  // ASCII before upper-casing: toUpperCase would turn e.g. 'ß' into 'SS' and hide the bad input.
  if (!PRINTABLE_ASCII.test(trimmed)) throw plaintextProblem(trimmed, field, Number.POSITIVE_INFINITY);
  const normalized = trimmed.toUpperCase();
  if (!TAX_CODE.test(normalized)) {
    throw new SanitelCryptoError({
      code: 'sanitel-tax-code-format',
      field,
      message: 'a codice fiscale has 16 letters and digits (or 11 digits)',
      hint: 'Validate the codice fiscale before encrypting it.',
    });
  }
  return { encrypted: encryptAs(encryptor, normalized, field) };
}

/**
 * Encrypts the sender's pincode (`pincodeInvianteCifrato`, `pinCode`, `pincode`). Not for Entratel
 * intermediaries, whose 8-character PIN travels in clear.
 */
export function encryptPincode(encryptor: SanitelEncryptor, pincode: string): string {
  if (typeof pincode !== 'string' || !PINCODE.test(pincode)) {
    throw new SanitelCryptoError({
      code: 'sanitel-pincode-format',
      field: 'pincode',
      message: 'the pincode has 10 digits',
      hint: 'Use the 10-digit pincode printed from the Sistema TS portal (Profilo utente → Stampa pincode).',
    });
  }
  return encryptAs(encryptor, pincode, 'pincode');
}

function encryptAs(encryptor: SanitelEncryptor, value: string, field: string): string {
  try {
    return encryptor.encrypt(value);
  } catch (error) {
    if (error instanceof SanitelCryptoError && error.field === 'plaintext') {
      throw new SanitelCryptoError({
        code: error.code,
        field,
        message: error.message.slice('plaintext: '.length),
        hint: error.hint,
      });
    }
    throw error;
  }
}

/** Says which rule `value` breaks, without repeating it. */
function plaintextProblem(value: unknown, field: string, maxBytes: number): SanitelCryptoError {
  const hint = 'Encrypt the exact value the STS expects: upper-case, trimmed, plain ASCII, one line.';
  if (typeof value !== 'string' || value === '') {
    return new SanitelCryptoError({ code: 'sanitel-plaintext-empty', field, message: 'is empty', hint });
  }
  if (value !== value.trim()) {
    return new SanitelCryptoError({
      code: 'sanitel-plaintext-surrounding-whitespace',
      field,
      message: 'starts or ends with whitespace or a line break',
      hint,
    });
  }
  if (!PRINTABLE_ASCII.test(value)) {
    return new SanitelCryptoError({
      code: 'sanitel-plaintext-not-ascii',
      field,
      message: 'holds characters other than printable ASCII (0x20–0x7E)',
      hint,
    });
  }
  return new SanitelCryptoError({
    code: 'sanitel-plaintext-too-long',
    field,
    message: `is longer than the ${maxBytes} bytes this key can encrypt`,
    hint: 'Only short identifiers (codice fiscale, pincode) are encrypted with SanitelCF.',
  });
}
