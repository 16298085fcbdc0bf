import { constants, createPrivateKey, KeyObject, privateDecrypt } from 'node:crypto';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';

/**
 * The STS side of SanitelCF encryption, for the simulator and for tests: only the holder of the
 * private key (Sogei, or our stand-in) can decrypt.
 */
export interface SanitelDecryptor {
  /** Decrypts one base64 ciphertext to the text it carries (UTF-8; our encryptor only sends ASCII). */
  decrypt(ciphertextBase64: string): string;
  /** The same, returning the raw plaintext bytes. */
  decryptToBytes(ciphertextBase64: string): Buffer;
}

// 0x00 0x02, then at least 8 non-zero padding bytes, then 0x00: the message starts at index 11 or later.
const MIN_SEPARATOR_INDEX = 10;
const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `privateKey`: the RSA private key (KeyObject, or PEM/DER in PKCS#1 or PKCS#8).
 *
 * Decrypts natively with RSA_NO_PADDING and removes the PKCS#1 v1.5 type-2 padding here. Node's own
 * PKCS#1 v1.5 private decryption is either refused (CVE-2023-46809) or, with OpenSSL's "implicit
 * rejection", returns random bytes for a bad ciphertext instead of failing; neither lets the
 * simulator tell a client that its encryption is wrong. node-forge would, some 30–50 times slower
 * (bench/rsa.ts).
 */
export function createSanitelDecryptor(privateKey: KeyObject | string | Buffer): SanitelDecryptor {
  const key = toPrivateKey(privateKey);
  const modulusLength = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const keyBytes = Math.ceil(modulusLength / 8);
  const base64Length = 4 * Math.ceil(keyBytes / 3);

  const decryptToBytes = (ciphertextBase64: string): Buffer => {
    if (typeof ciphertextBase64 !== 'string' || ciphertextBase64.length !== base64Length) {
      throw new SanitelCryptoError({
        code: 'sanitel-ciphertext-wrong-length',
        field: 'ciphertext',
        message: `is not ${base64Length} base64 characters (one RSA-${modulusLength} block on one line)`,
        hint: 'Encrypt with the SanitelCF certificate and send the base64 on one line, without line breaks.',
      });
    }
    if (!STRICT_BASE64.test(ciphertextBase64)) {
      throw new SanitelCryptoError({
        code: 'sanitel-ciphertext-not-base64',
        field: 'ciphertext',
        message: 'is not base64 on one line',
        hint: 'Send standard base64 (A–Z a–z 0–9 + /, = padding), without spaces or line breaks.',
      });
    }
    const ciphertext = Buffer.from(ciphertextBase64, 'base64');
    let block: Buffer | undefined;
    if (ciphertext.length === keyBytes) {
      try {
        block = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
      } catch {
        // e.g. a ciphertext not smaller than the modulus: reported like any other bad ciphertext.
      }
    }
    const message = block && removeType2Padding(block);
    if (!message) {
      throw new SanitelCryptoError({
        code: 'sanitel-ciphertext-bad-padding',
        field: 'ciphertext',
        message: 'does not decrypt to a PKCS#1 v1.5 block with this key',
        hint: 'Encrypt with the RSA public key of the SanitelCF certificate and PKCS#1 v1.5 padding.',
      });
    }
    return message;
  };

  return {
    decryptToBytes,
    decrypt(ciphertextBase64: string): string {
      const bytes = decryptToBytes(ciphertextBase64);
      try {
        return utf8.decode(bytes);
      } catch {
        throw new SanitelCryptoError({
          code: 'sanitel-plaintext-not-utf8',
          field: 'plaintext',
          message: 'the decrypted bytes are not UTF-8 text',
          hint: 'Encrypt the text itself (ASCII), not a hash or another encoding of it.',
        });
      }
    },
  };
}

/**
 * EM = 0x00 ‖ 0x02 ‖ PS (≥ 8 non-zero bytes) ‖ 0x00 ‖ M (RFC 8017 §7.2.2). Returns M, or undefined
 * for any defect. One pass over the whole block and a single failure answer whatever the defect: the
 * simulator is reachable by any client, and should not tell them which check failed.
 */
function removeType2Padding(block: Buffer): Buffer | undefined {
  let separator = 0;
  for (let i = 2; i < block.length; i++) {
    if (separator === 0 && block[i] === 0) separator = i;
  }
  const valid = block[0] === 0x00 && block[1] === 0x02 && separator >= MIN_SEPARATOR_INDEX;
  return valid ? block.subarray(separator + 1) : undefined;
}

function toPrivateKey(input: KeyObject | string | Buffer): KeyObject {
  let key: KeyObject | undefined;
  if (input instanceof KeyObject) {
    key = input;
  } else {
    const isDer = Buffer.isBuffer(input) && !input.includes('-----BEGIN');
    const candidates = isDer
      ? [
          { key: input, format: 'der' as const, type: 'pkcs8' as const },
          { key: input, format: 'der' as const, type: 'pkcs1' as const },
        ]
      : [input];
    for (const candidate of candidates) {
      try {
        key = createPrivateKey(candidate);
        break;
      } catch {
        // try the next encoding
      }
    }
  }
  if (!key) throw invalidKey('cannot be parsed');
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa')
    throw invalidKey('is not an RSA private key');
  return key;
}

function invalidKey(what: string) {
  return new SanitelCryptoError({
    code: 'sanitel-private-key-invalid',
    field: 'privateKey',
    message: `the private key ${what}`,
    hint: 'Configure the PEM private key generated with generateSanitelStandIn (PKCS#8 or PKCS#1).',
  });
}
