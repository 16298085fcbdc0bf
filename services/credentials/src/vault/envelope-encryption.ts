import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.ts';

/**
 * Envelope encryption of credential secrets (AES-256-GCM throughout):
 * - each credential has its own random 256-bit data key;
 * - the data key is stored wrapped by a master key, with AAD = credential id + master key version,
 *   so a wrapped key copied to another credential (or relabelled) does not unwrap;
 * - each secret field is encrypted under the data key with AAD = credential id + field name, so a
 *   ciphertext moved to another row or another field does not decrypt.
 *
 * Layouts: wrapped key = iv(12) ‖ tag(16) ‖ key(32); field = 0x01 ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const FIELD_FORMAT_V1 = 0x01;

/** A ciphertext that does not decrypt: tampered, moved, or wrapped with another key. */
export class DecryptionError extends Error {
  constructor(what: string) {
    super(`${what} does not decrypt: it was altered, moved from another credential, or its key is wrong`);
    this.name = 'DecryptionError';
  }
}

const wrapAad = (credentialId: string, version: string) =>
  Buffer.from(`sts-credentials/data-key/v1|credential=${credentialId}|master-key=${version}`);
const fieldAad = (credentialId: string, field: string) =>
  Buffer.from(`sts-credentials/field/v1|credential=${credentialId}|field=${field}`);

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer, what: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError(what);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError(what);
  }
}

export interface WrappedDataKey {
  masterKeyVersion: string;
  wrappedKey: Buffer;
}

export function createEnvelopeEncryption(keyring: Keyring) {
  const wrap = (credentialId: string, dataKey: Buffer): WrappedDataKey => {
    const version = keyring.activeVersion;
    return {
      masterKeyVersion: version,
      wrappedKey: seal(keyring.key(version), dataKey, wrapAad(credentialId, version)),
    };
  };
  const unwrap = (credentialId: string, wrapped: WrappedDataKey): Buffer => {
    const key = open(
      keyring.key(wrapped.masterKeyVersion),
      wrapped.wrappedKey,
      wrapAad(credentialId, wrapped.masterKeyVersion),
      'the data key',
    );
    if (key.length !== DATA_KEY_BYTES) throw new DecryptionError('the data key');
    return key;
  };

  return {
    /** A fresh data key for a new credential, and its wrapped form to store. */
    newDataKey(credentialId: string): { dataKey: Buffer; wrapped: WrappedDataKey } {
      const dataKey = randomBytes(DATA_KEY_BYTES);
      return { dataKey, wrapped: wrap(credentialId, dataKey) };
    },
    unwrap,
    /** Unwraps with whatever version wrapped it and wraps again with the active master key. */
    rewrap(credentialId: string, wrapped: WrappedDataKey): WrappedDataKey {
      const dataKey = unwrap(credentialId, wrapped);
      try {
        return wrap(credentialId, dataKey);
      } finally {
        dataKey.fill(0);
      }
    },
    encryptField(dataKey: Buffer, credentialId: string, field: string, plaintext: Buffer): Buffer {
      return Buffer.concat([
        Buffer.from([FIELD_FORMAT_V1]),
        seal(dataKey, plaintext, fieldAad(credentialId, field)),
      ]);
    },
    decryptField(dataKey: Buffer, credentialId: string, field: string, ciphertext: Buffer): Buffer {
      if (ciphertext[0] !== FIELD_FORMAT_V1) throw new DecryptionError(`the ${field}`);
      return open(dataKey, ciphertext.subarray(1), fieldAad(credentialId, field), `the ${field}`);
    },
  };
}

export type EnvelopeEncryption = ReturnType<typeof createEnvelopeEncryption>;
