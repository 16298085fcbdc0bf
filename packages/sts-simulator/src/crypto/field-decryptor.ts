import { createSanitelDecryptor } from '@sts/sts';

/**
 * Decrypts the SanitelCF-encrypted fields (pincode, cfProprietario, cfCittadino) with the simulator's
 * own private key, so a client that encrypted with the wrong certificate, the wrong padding or with
 * line breaks is caught. The @sts/sts decryptor works natively with no padding and strips PKCS#1
 * v1.5 itself (Node refuses v1.5 in privateDecrypt).
 *
 * Modes: `full` decrypts every field; `sampled` every Nth field and trusts the others; `off` none,
 * so that benchmarks measure the client, not the simulator.
 */

export const DECRYPTION_MODES = ['full', 'sampled', 'off'] as const;
export type DecryptionMode = (typeof DECRYPTION_MODES)[number];

export type Decryption =
  /** Decrypted (or a kit ciphertext with a known plaintext). */
  | { kind: 'plain'; value: string }
  /** A kit ciphertext whose plaintext the kit does not give: accepted as valid. */
  | { kind: 'opaque' }
  /** Not checked (mode `off`, or not picked by `sampled`). */
  | { kind: 'unchecked' }
  | { kind: 'failed' };

export interface DecryptionSettings {
  mode: DecryptionMode;
  /** For `sampled`: decrypt one field in this many. */
  sampleEvery: number;
}

export interface FieldDecryptor {
  decrypt(ciphertext: string): Decryption;
  settings(): DecryptionSettings;
  configure(settings: Partial<DecryptionSettings>): void;
  stats(): { decrypted: number; unchecked: number; failed: number };
}

export function createFieldDecryptor(options: {
  privateKeyPem: string;
  settings: DecryptionSettings;
  /** Ciphertexts of the official kit, made with the real key: plaintext, or null when unknown. */
  knownCiphertexts: ReadonlyMap<string, string | null>;
}): FieldDecryptor {
  const decryptor = createSanitelDecryptor(options.privateKeyPem);
  let settings = { ...options.settings };
  let seen = 0;
  const counts = { decrypted: 0, unchecked: 0, failed: 0 };

  return {
    decrypt(ciphertext) {
      if (settings.mode === 'off') {
        counts.unchecked++;
        return { kind: 'unchecked' };
      }
      if (settings.mode === 'sampled' && seen++ % Math.max(1, settings.sampleEvery) !== 0) {
        counts.unchecked++;
        return { kind: 'unchecked' };
      }
      const known = options.knownCiphertexts.get(ciphertext.trim());
      if (known !== undefined) {
        counts.decrypted++;
        return known === null ? { kind: 'opaque' } : { kind: 'plain', value: known };
      }
      try {
        const value = decryptor.decrypt(ciphertext);
        counts.decrypted++;
        return { kind: 'plain', value };
      } catch {
        counts.failed++;
        return { kind: 'failed' };
      }
    },
    settings: () => ({ ...settings }),
    configure(next) {
      settings = { ...settings, ...next };
      seen = 0;
    },
    stats: () => ({ ...counts }),
  };
}
