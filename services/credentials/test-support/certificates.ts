import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * Certificates for tests, made with node-forge like the cards' (keys generated natively: forge's
 * pure-JS RSA key generation is slow). A CA, CNS-like card certificates (RSA 1024 as on the older
 * cards, or 2048), a TLS server certificate, and PKCS#12 bundles for client-certificate credentials.
 */

export interface Issued {
  certificatePem: string;
  privateKeyPem: string;
  certificate: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

type Attribute = { shortName?: string; name?: string; type?: string; value: string };

function rsaKey(bits: number): forge.pki.rsa.PrivateKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return forge.pki.privateKeyFromPem(
    privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
  ) as forge.pki.rsa.PrivateKey;
}

function issue(options: {
  subject: Attribute[];
  issuer?: Issued;
  bits: number;
  notBefore: Date;
  notAfter: Date;
  extensions: object[];
}): Issued {
  const key = rsaKey(options.bits);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = options.notBefore;
  certificate.validity.notAfter = options.notAfter;
  certificate.setSubject(options.subject);
  certificate.setIssuer(options.issuer ? options.issuer.certificate.subject.attributes : options.subject);
  certificate.setExtensions(options.extensions);
  certificate.sign(options.issuer?.key ?? key, forge.md.sha256.create());
  return {
    certificatePem: forge.pki.certificateToPem(certificate),
    privateKeyPem: forge.pki.privateKeyToPem(key),
    certificate,
    key,
  };
}

const DAY = 86_400_000;
const around = (now: Date, beforeDays: number, afterDays: number) => ({
  notBefore: new Date(now.getTime() - beforeDays * DAY),
  notAfter: new Date(now.getTime() + afterDays * DAY),
});

export function createCa(name: string, now = new Date()): Issued {
  return issue({
    subject: [
      { shortName: 'C', value: 'IT' },
      { shortName: 'O', value: name },
      { shortName: 'CN', value: `${name} CA` },
    ],
    bits: 2048,
    ...around(now, 30, 3650),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
}

/**
 * A card's authentication certificate: `CN=<CF>/<card serial>.<hash>` as CNS cards have it, and
 * optionally `serialNumber` (`IT:<CF>`, `TINIT-<CF>`) as some cards add.
 */
export function createCnsCertificate(options: {
  ca: Issued;
  taxCode: string;
  bits?: 1024 | 2048;
  commonName?: string;
  serialNumber?: string;
  notBefore?: Date;
  notAfter?: Date;
  now?: Date;
}): Issued {
  const now = options.now ?? new Date();
  const window = around(now, 30, 365);
  return issue({
    issuer: options.ca,
    bits: options.bits ?? 1024,
    subject: [
      { shortName: 'C', value: 'IT' },
      { shortName: 'O', value: 'Regione Test' },
      { shortName: 'OU', value: 'Servizi Sanitari' },
      ...(options.serialNumber
        ? [{ name: 'serialNumber', type: '2.5.4.5', value: options.serialNumber }]
        : []),
      {
        shortName: 'CN',
        value: options.commonName ?? `${options.taxCode}/7420000000000001.Zm9vYmFyYmF6cXV4`,
      },
    ],
    notBefore: options.notBefore ?? window.notBefore,
    notAfter: options.notAfter ?? window.notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
}

export function createServerCertificate(ca: Issued, host = 'localhost'): Issued {
  return issue({
    issuer: ca,
    bits: 2048,
    subject: [{ shortName: 'CN', value: host }],
    ...around(new Date(), 1, 365),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: host },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
}

/** A PKCS#12 bundle (3DES, as most exported .p12 files) of a client certificate and its key. */
export function createPkcs12(options: {
  ca: Issued;
  commonName: string;
  passphrase: string;
  notAfter: Date;
  notBefore?: Date;
}): Buffer {
  const leaf = issue({
    issuer: options.ca,
    bits: 2048,
    subject: [
      { shortName: 'C', value: 'IT' },
      { shortName: 'O', value: 'Regione Test' },
      { shortName: 'CN', value: options.commonName },
    ],
    notBefore: options.notBefore ?? new Date(Date.now() - 30 * DAY),
    notAfter: options.notAfter,
    extensions: [{ name: 'extKeyUsage', clientAuth: true }],
  });
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    leaf.key,
    [leaf.certificate, options.ca.certificate],
    options.passphrase,
    {
      algorithm: '3des',
    },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
