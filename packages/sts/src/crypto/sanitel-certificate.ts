import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Clock, systemClock } from '@sts/shared';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';

const DAY_MS = 86_400_000;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** How the certificate looks at a given moment, for monitoring and alerts. */
export interface SanitelCertificateStatus {
  /** `validTo` has passed. Reported, never refused: the key inside is still the one the STS decrypts with. */
  expired: boolean;
  /** `validFrom` is still ahead (a freshly published certificate). Reported, never refused. */
  notYetValid: boolean;
  /** Whole days left until `validTo` (negative once expired: days since it expired). */
  daysUntilExpiry: number;
}

/** Everything monitoring shows about the configured certificate; plain data, safe to log. */
export interface SanitelCertificateReport extends SanitelCertificateStatus {
  source: string;
  format: 'pem' | 'der';
  subject: string;
  issuer: string;
  serialNumber: string;
  validFrom: Date;
  validTo: Date;
  fingerprintSha256: string;
  publicKeyFingerprintSha256: string;
  keySizeBits: number;
  /** Length of every ciphertext made with this key, in base64 characters (172 for RSA-1024). */
  ciphertextBase64Length: number;
}

/**
 * The SanitelCF certificate, parsed once. `publicKey` is what the encryptor uses; the rest is for
 * monitoring (which issue of the certificate is configured, and how long it has left).
 */
export interface SanitelCertificate {
  readonly publicKey: KeyObject;
  /** Where it was read from (a path, or what the caller named it). */
  readonly source: string;
  readonly format: 'pem' | 'der';
  /** One line, `C=IT, O=Agenzia delle Entrate, …`. */
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  readonly serialNumber: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  /** SHA-256 of the certificate (DER), colon-separated upper-case hex as `openssl x509 -fingerprint -sha256`. */
  readonly fingerprintSha256: string;
  /**
   * SHA-256 of the public key (SubjectPublicKeyInfo, DER), same format. Equal across certificate
   * issues that carry the same key: this, not the certificate fingerprint, says whether the key changed.
   */
  readonly publicKeyFingerprintSha256: string;
  readonly keySizeBits: number;
  /** Expiry as seen at `at` (default: now by the injected clock). */
  status(at?: Date): SanitelCertificateStatus;
  /** Everything above plus `status`, as plain data. */
  describe(at?: Date): SanitelCertificateReport;
}

export interface SanitelCertificateOptions {
  /** Names the certificate in errors and reports; `loadSanitelCertificate` uses the path. */
  source?: string;
  /** Time for the expiry figures; defaults to the system clock. */
  clock?: Clock;
}

/**
 * Reads the SanitelCF certificate from a configured path, PEM or DER (the kit ships both `.cer`
 * and `.pem` files). The certificate is never compiled in: the STS may one day re-key it.
 */
export function loadSanitelCertificate(
  path: string,
  options: Omit<SanitelCertificateOptions, 'source'> = {},
): SanitelCertificate {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SanitelCryptoError({
      code: 'sanitel-certificate-unreadable',
      field: 'certificate',
      message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'read error'})`,
      hint: 'Check the configured path of the SanitelCF certificate and that the process may read it.',
    });
  }
  return parseSanitelCertificate(bytes, { ...options, source: path });
}

/** Parses a SanitelCF certificate held in memory (PEM text or DER bytes). */
export function parseSanitelCertificate(
  input: Buffer | string,
  options: SanitelCertificateOptions = {},
): SanitelCertificate {
  const source = options.source ?? 'certificate';
  const clock = options.clock ?? systemClock;
  const { der, format } = toDer(input, source);

  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    throw invalid(source, 'is not an X.509 certificate');
  }
  const publicKey = x509.publicKey;
  const details = publicKey.asymmetricKeyDetails;
  if (publicKey.asymmetricKeyType !== 'rsa' || details?.modulusLength === undefined) {
    throw invalid(source, `carries a ${publicKey.asymmetricKeyType ?? 'unknown'} key, not an RSA key`);
  }

  const keySizeBits = details.modulusLength;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const fields = {
    publicKey,
    source,
    format,
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    serialNumber: x509.serialNumber.toUpperCase(),
    validFrom: x509.validFromDate,
    validTo: x509.validToDate,
    fingerprintSha256: x509.fingerprint256,
    publicKeyFingerprintSha256: colonHex(createHash('sha256').update(spki).digest()),
    keySizeBits,
  };

  const status = (at: Date = clock()): SanitelCertificateStatus => ({
    expired: at.getTime() > fields.validTo.getTime(),
    notYetValid: at.getTime() < fields.validFrom.getTime(),
    daysUntilExpiry: Math.floor((fields.validTo.getTime() - at.getTime()) / DAY_MS),
  });

  return {
    ...fields,
    status,
    describe: (at?: Date) => {
      const { publicKey: _key, ...plain } = fields;
      return {
        ...plain,
        ciphertextBase64Length: 4 * Math.ceil(Math.ceil(keySizeBits / 8) / 3),
        ...status(at),
      };
    },
  };
}

function toDer(input: Buffer | string, source: string): { der: Buffer; format: 'pem' | 'der' } {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = text.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw invalid(source, 'is PEM but holds no CERTIFICATE block');
    if (blocks.length > 1) {
      // A chain in this file would make "which key do we encrypt with" a guess.
      throw invalid(
        source,
        `holds ${blocks.length} certificates; it must hold the SanitelCF certificate alone`,
      );
    }
    const body = blocks[0]!.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    return { der: Buffer.from(body, 'base64'), format: 'pem' };
  }
  if (typeof input === 'string') throw invalid(source, 'is text but not PEM');
  return { der: input, format: 'der' };
}

function invalid(source: string, what: string) {
  return new SanitelCryptoError({
    code: 'sanitel-certificate-invalid',
    field: 'certificate',
    message: `${source} ${what}`,
    hint: 'Configure the SanitelCF certificate as published in the Sistema TS kit (PEM or DER X.509, RSA key).',
  });
}

const oneLine = (name: string) => name.split('\n').join(', ');

const colonHex = (bytes: Buffer) =>
  bytes
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
