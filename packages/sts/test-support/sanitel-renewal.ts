import { createSanitelDecryptor } from '../src/crypto/sanitel-decryptor.ts';
import { generateSanitelStandIn, type SanitelStandIn } from '../src/crypto/sanitel-stand-in.ts';

/** The validity of the stand-ins below: `old` ends when the real 2024 SanitelCF issue does. */
export const RENEWAL_DATES = {
  oldValidFrom: new Date('2024-01-23T15:27:18Z'),
  oldValidTo: new Date('2027-01-23T15:27:17Z'),
  nextValidFrom: new Date('2027-01-02T09:00:00Z'),
  nextValidTo: new Date('2030-01-02T09:00:00Z'),
} as const;

/**
 * Stand-ins shaped like a re-keyed SanitelCF renewal: `old` with the real 2024 issue's validity
 * (to 2027-01-23 15:27:17 UTC), `next` with another key, issued three weeks before `old` expires, as
 * past renewals were (docs/sanitel-certificate-renewal.md). Fresh keys at each call.
 */
export function sanitelRenewalStandIns(): { old: SanitelStandIn; next: SanitelStandIn } {
  return {
    old: generateSanitelStandIn({ validFrom: RENEWAL_DATES.oldValidFrom, validTo: RENEWAL_DATES.oldValidTo }),
    next: generateSanitelStandIn({
      validFrom: RENEWAL_DATES.nextValidFrom,
      validTo: RENEWAL_DATES.nextValidTo,
    }),
  };
}

/** What one private key alone makes of a ciphertext, `undefined` if it does not decrypt: tells which certificate made it. */
export function decryptsWith(pair: { privateKeyPem: string }): (ciphertext: string) => string | undefined {
  const decryptor = createSanitelDecryptor(pair.privateKeyPem);
  return (ciphertext) => {
    try {
      return decryptor.decrypt(ciphertext);
    } catch {
      return undefined;
    }
  };
}
