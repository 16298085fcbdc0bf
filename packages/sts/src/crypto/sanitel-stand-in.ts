import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '@sts/shared';
import forge from 'node-forge';

/** Distinguished-name parts of the stand-in certificate; the defaults say plainly that it is not the real one. */
export interface SanitelStandInSubject {
  country?: string;
  organization?: string;
  organizationalUnit?: string;
  commonName?: string;
}

export interface SanitelStandInOptions {
  /** RSA modulus size; the real SanitelCF key is RSA-1024. */
  modulusLength?: number;
  subject?: SanitelStandInSubject;
  /** Defaults to now (by `clock`). */
  validFrom?: Date;
  /** Defaults to three years after `validFrom`, like the real issues. */
  validTo?: Date;
  clock?: Clock;
  /**
   * Certify this RSA private key (PEM) instead of a new one: a renewal that keeps the key, as every
   * real SanitelCF renewal so far has (docs/protocol.md §2.3). `modulusLength` is then ignored.
   */
  privateKeyPem?: string;
}

/** A certificate and its private key, both PEM (certificate X.509, key PKCS#8). */
export interface SanitelStandIn {
  certificatePem: string;
  privateKeyPem: string;
}

const DEFAULT_SUBJECT: Required<SanitelStandInSubject> = {
  country: 'IT',
  organization: 'STS simulator',
  organizationalUnit: 'Test only - not Sogei',
  commonName: 'SanitelCF stand-in',
};

/**
 * A key pair and a self-signed certificate standing in for SanitelCF, whose private key only Sogei
 * holds: the simulator decrypts with it and tests encrypt against it. Shaped like the real one (RSA,
 * exponent 65537, key usage keyEncipherment + dataEncipherment, critical). The key is generated
 * natively; node-forge signs the certificate, which node:crypto cannot do.
 */
export function generateSanitelStandIn(options: SanitelStandInOptions = {}): SanitelStandIn {
  const modulusLength = options.modulusLength ?? 1024;
  const privateKey = options.privateKeyPem
    ? createPrivateKey(options.privateKeyPem)
    : generateKeyPairSync('rsa', { modulusLength, publicExponent: 0x10001 }).privateKey;
  const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);

  const validFrom = options.validFrom ?? (options.clock ?? systemClock)();
  const validTo =
    options.validTo ?? new Date(new Date(validFrom).setUTCFullYear(validFrom.getUTCFullYear() + 3));
  const subject = { ...DEFAULT_SUBJECT, ...options.subject };
  const name = [
    { shortName: 'C', value: subject.country },
    { shortName: 'O', value: subject.organization },
    { shortName: 'OU', value: subject.organizationalUnit },
    { shortName: 'CN', value: subject.commonName },
  ];

  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  // A leading 0x01 keeps the DER INTEGER positive and non-zero.
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = validFrom;
  certificate.validity.notAfter = validTo;
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, keyEncipherment: true, dataEncipherment: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(forgeKey, forge.md.sha256.create());

  return {
    certificatePem: forge.pki.certificateToPem(certificate),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
