import { generateKeyPairSync } from 'node:crypto';
import { createSanitelDecryptor } from '../src/crypto/sanitel-decryptor.ts';
import { createSanitelEncryptor, type SanitelEncryptor } from '../src/crypto/sanitel-encryptor.ts';

/**
 * A real SanitelCF-style encryptor for tests: RSA-1024, PKCS#1 v1.5, base64 (172 characters), with a
 * throw-away key pair generated here, since only Sogei holds the real private key.
 */
export interface TestEncryption {
  encryptor: SanitelEncryptor;
  /** Decrypts with the matching private key. */
  decrypt(ciphertext: string): string;
}

export function createTestEncryption(): TestEncryption {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const decryptor = createSanitelDecryptor(privateKey);
  return { encryptor: createSanitelEncryptor({ publicKey }), decrypt: (text) => decryptor.decrypt(text) };
}

/**
 * `size` real ciphertexts of distinct plaintexts, for tests that need many realistic encrypted
 * codici fiscali fast. Distinct ciphertexts matter: repeated ones would compress unrealistically well.
 */
export function ciphertextPool(encryptor: SanitelEncryptor, size: number): string[] {
  const pool: string[] = [];
  for (let i = 0; i < size; i++) pool.push(encryptor.encrypt(`TSTPOL${String(i).padStart(10, '0')}`));
  return pool;
}
