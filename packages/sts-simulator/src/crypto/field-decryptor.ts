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
  /** Fields decrypted by each key, in the order the keys were given (kit ciphertexts not counted). */
  decryptedByKey(): number[];
}

const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

export function createFieldDecryptor(options: {
  /**
   * The stand-in private key (PEM), or several: the current one first, then those of other
   * certificates clients may still or already encrypt with (a renewal's previous or next). A field
   * is decrypted with whichever key matches.
   */
  privateKeyPem: string | readonly string[];
  settings: DecryptionSettings;
  /** Ciphertexts of the official kit, made with the real key: plaintext, or null when unknown. */
  knownCiphertexts: ReadonlyMap<string, string | null>;
}): FieldDecryptor {
  const keys = typeof options.privateKeyPem === 'string' ? [options.privateKeyPem] : options.privateKeyPem;
  if (keys.length === 0) throw new Error('createFieldDecryptor: at least one private key');
  const decryptors = keys.map((key) => createSanitelDecryptor(key));
  let settings = { ...options.settings };
  let seen = 0;
  const counts = { decrypted: 0, unchecked: 0, failed: 0 };
  const byKey = decryptors.map(() => 0);

  /**
   * Tries each key in turn. A wrong RSA key passes the PKCS#1 v1.5 padding check about once in
   * 65,000 blocks, and then yields bytes that are not text: a plaintext of printable ASCII (every
   * field the STS encrypts) is taken at once, anything else only if no key gives better.
   */
  const decryptWithAnyKey = (ciphertext: string): string | undefined => {
    let fallback: { value: string; index: number } | undefined;
    for (const [index, decryptor] of decryptors.entries()) {
      let value: string;
      try {
        value = decryptor.decrypt(ciphertext);
      } catch {
        continue;
      }
      if (PRINTABLE_ASCII.test(value) || decryptors.length === 1) {
        byKey[index]!++;
        return value;
      }
      fallback ??= { value, index };
    }
    if (fallback) byKey[fallback.index]!++;
    return fallback?.value;
  };

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
      const value = decryptWithAnyKey(ciphertext);
      if (value === undefined) {
        counts.failed++;
        return { kind: 'failed' };
      }
      counts.decrypted++;
      return { kind: 'plain', value };
    },
    settings: () => ({ ...settings }),
    configure(next) {
      settings = { ...settings, ...next };
      seen = 0;
    },
    stats: () => ({ ...counts }),
    decryptedByKey: () => [...byKey],
  };
}
