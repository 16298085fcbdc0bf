import { type Clock, systemClock } from '@sts/shared';
import { loadSanitelCertificate, type SanitelCertificate } from './sanitel-certificate.ts';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';

const DAY_MS = 86_400_000;

/**
 * Why a certificate was chosen: it is valid now (`valid`); none is, and it is the newest of those
 * that have expired (`expired`); none is valid or expired, and it is the first to become valid
 * (`not-yet-valid`). The last two are fallbacks: encryption goes on, and monitoring warns.
 */
export type SanitelCertificateBasis = 'valid' | 'expired' | 'not-yet-valid';

export interface SanitelCertificateChoice {
  certificate: SanitelCertificate;
  basis: SanitelCertificateBasis;
}

/**
 * Every SanitelCF certificate configured at once (the one in use and its successor during a
 * renewal), and the rule that picks the one to encrypt with at a given moment.
 */
export interface SanitelCertificateSet {
  /** Newest first (latest `validFrom`, then latest `validTo`); one entry per distinct certificate. */
  readonly certificates: readonly SanitelCertificate[];
  /**
   * The certificate to encrypt with at `at` (default: now by the set's clock): the newest valid one;
   * if none is valid, the newest expired one; if all are still to come, the first to become valid.
   */
  choose(at?: Date): SanitelCertificateChoice;
}

export interface SanitelCertificateSetOptions {
  /** Time for `choose` and the expiry figures; defaults to the system clock. */
  clock?: Clock;
}

/** Later `validFrom` first, then later `validTo`: "newer" in every rule below. */
const newestFirst = (a: SanitelCertificate, b: SanitelCertificate) =>
  b.validFrom.getTime() - a.validFrom.getTime() || b.validTo.getTime() - a.validTo.getTime();

/**
 * Holds several certificates and picks one per encryption. The same certificate given twice (same
 * SHA-256 fingerprint) counts once. Certificates with different keys may be mixed: that is what a
 * re-keyed renewal looks like, and the STS side decides which keys it still accepts.
 */
export function createSanitelCertificateSet(
  certificates: readonly SanitelCertificate[],
  options: SanitelCertificateSetOptions = {},
): SanitelCertificateSet {
  const clock = options.clock ?? systemClock;
  const unique = new Map<string, SanitelCertificate>();
  for (const certificate of certificates) {
    if (!unique.has(certificate.fingerprintSha256)) unique.set(certificate.fingerprintSha256, certificate);
  }
  if (unique.size === 0) {
    throw new SanitelCryptoError({
      code: 'sanitel-certificate-unreadable',
      field: 'certificate',
      message: 'no SanitelCF certificate is configured',
      hint: 'Configure at least one SanitelCF certificate (the SanitelCF.cer of the Sistema TS kit).',
    });
  }
  const sorted = [...unique.values()].sort(newestFirst);

  return {
    certificates: sorted,
    choose(at = clock()) {
      const time = at.getTime();
      const valid = sorted.find((c) => c.validFrom.getTime() <= time && time <= c.validTo.getTime());
      if (valid) return { certificate: valid, basis: 'valid' };
      const expired = sorted.find((c) => c.validTo.getTime() < time);
      if (expired) return { certificate: expired, basis: 'expired' };
      const first = [...sorted].sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime())[0]!;
      return { certificate: first, basis: 'not-yet-valid' };
    },
  };
}

/** Reads every configured file (PEM or DER, one certificate each) into a set. */
export function loadSanitelCertificates(
  paths: readonly string[],
  options: SanitelCertificateSetOptions = {},
): SanitelCertificateSet {
  return createSanitelCertificateSet(
    paths.map((path) => loadSanitelCertificate(path, options.clock ? { clock: options.clock } : {})),
    options,
  );
}

/** How urgent the SanitelCF situation is, for logs and alerts. */
export type SanitelAdviceLevel = 'ok' | 'renewal-due' | 'fallback';

/**
 * What monitoring says about a set at a moment: which certificate encrypts, how long it has left,
 * what comes after it, and a sentence naming the date and what to do.
 */
export interface SanitelCertificateAdvice {
  level: SanitelAdviceLevel;
  basis: SanitelCertificateBasis;
  inUse: {
    serialNumber: string;
    fingerprintSha256: string;
    validFrom: Date;
    validTo: Date;
    source: string;
  };
  /** Whole days until the certificate in use expires (negative once it has: days since). */
  daysLeft: number;
  /** A configured certificate that becomes valid after `at` and outlives the one in use: encryption moves to it by itself. */
  successor?: { serialNumber: string; validFrom: Date; validTo: Date; sameKey: boolean };
  message: string;
}

export interface SanitelAdviceOptions {
  /** Days before expiry from which a renewal is due (default 45). */
  warnWithinDays?: number;
  /** How the operator names the configuration in messages (default: "the SanitelCF configuration"). */
  configuration?: string;
}

/** `2027-01-23 15:27:17 UTC`. */
export const formatCertificateDate = (date: Date) =>
  `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/**
 * The renewal advice for `set` at `at`. `renewal-due`: the certificate in use expires within
 * `warnWithinDays` and nothing configured takes over; `fallback`: no configured certificate is valid
 * now (encryption goes on with the chosen one, docs/sanitel-certificate-renewal.md says why).
 */
export function sanitelCertificateAdvice(
  set: SanitelCertificateSet,
  at: Date,
  options: SanitelAdviceOptions = {},
): SanitelCertificateAdvice {
  const warnWithinDays = options.warnWithinDays ?? 45;
  const configuration = options.configuration ?? 'the SanitelCF configuration';
  const { certificate, basis } = set.choose(at);
  const daysLeft = Math.floor((certificate.validTo.getTime() - at.getTime()) / DAY_MS);
  const successor = set.certificates
    .filter(
      (c) =>
        c !== certificate &&
        c.validFrom.getTime() > at.getTime() &&
        c.validTo.getTime() > certificate.validTo.getTime(),
    )
    .sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime())[0];
  const inUse = {
    serialNumber: certificate.serialNumber,
    fingerprintSha256: certificate.fingerprintSha256,
    validFrom: certificate.validFrom,
    validTo: certificate.validTo,
    source: certificate.source,
  };
  const base = {
    basis,
    inUse,
    daysLeft,
    ...(successor
      ? {
          successor: {
            serialNumber: successor.serialNumber,
            validFrom: successor.validFrom,
            validTo: successor.validTo,
            sameKey: successor.publicKeyFingerprintSha256 === certificate.publicKeyFingerprintSha256,
          },
        }
      : {}),
  };
  const expiry = formatCertificateDate(certificate.validTo);
  const todo =
    `Download the new SanitelCF.cer from the Sistema TS kit page on sistemats.it ("730 - Spese sanitarie", kit and technical documents), ` +
    `add it to ${configuration} beside the current one and restart: the newest valid certificate is used by itself. ` +
    'Do not stop sending.';

  if (basis === 'expired') {
    return {
      ...base,
      level: 'fallback',
      message:
        `The SanitelCF certificate in use (serial ${certificate.serialNumber}) expired on ${expiry} and no configured certificate is valid: ` +
        'still encrypting with it, as an expired certificate with the same key has kept working (docs/protocol.md §2.3); ' +
        `if the STS changed the key, sends fail with pincode or codice fiscale errors until the new certificate is configured. ${todo}`,
    };
  }
  if (basis === 'not-yet-valid') {
    return {
      ...base,
      level: 'fallback',
      message:
        `No configured SanitelCF certificate is valid yet: encrypting with serial ${certificate.serialNumber}, valid from ${formatCertificateDate(certificate.validFrom)}. ` +
        `Check the machine's clock and ${configuration}; keep the certificate in use until its successor is valid.`,
    };
  }
  if (successor) {
    return {
      ...base,
      level: 'ok',
      message:
        `The SanitelCF certificate in use (serial ${certificate.serialNumber}) expires on ${expiry}; ` +
        `serial ${successor.serialNumber} takes over by itself on ${formatCertificateDate(successor.validFrom)}. Nothing to do.`,
    };
  }
  if (daysLeft <= warnWithinDays) {
    return {
      ...base,
      level: 'renewal-due',
      message: `The SanitelCF certificate in use (serial ${certificate.serialNumber}) expires on ${expiry}, in ${daysLeft} days. ${todo}`,
    };
  }
  return {
    ...base,
    level: 'ok',
    message: `The SanitelCF certificate in use (serial ${certificate.serialNumber}) is valid until ${expiry}.`,
  };
}
