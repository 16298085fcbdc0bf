import { createPublicKey, X509Certificate } from 'node:crypto';
import type { FieldProblem } from '@sts/shared';
import forge from 'node-forge';
import type { StoredClientCertificate } from './credentials-table.ts';

/**
 * A Sogei client certificate (the `/enti/` endpoints), read from the PKCS#12 bundle the clinic
 * uploads. node-forge parses it: it reads the legacy PBE algorithms (RC2, 3DES) such bundles use,
 * which OpenSSL 3 (and so Node's TLS) refuses without the legacy provider. The TLS agent then gets
 * a plain PEM pair.
 */
export interface ClientCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** Intermediate certificates that came in the bundle, for the TLS agent to present. */
  chainPem: string[];
  details: StoredClientCertificate;
}

export type ClientCertificateResult =
  | { ok: true; certificate: ClientCertificate }
  | { ok: false; problem: FieldProblem };

// PKCS#12 bag types (RFC 7292 §4.2).
const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const KEY_BAG_SHROUDED = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';

const problem = (field: string, rule: string, message: string): ClientCertificateResult => ({
  ok: false,
  problem: { field, rule, message },
});

export function describeCertificate(pem: string): StoredClientCertificate {
  const x509 = new X509Certificate(pem);
  return {
    subject: x509.subject.split('\n').join(', '),
    issuer: x509.issuer.split('\n').join(', '),
    serialNumber: x509.serialNumber.toUpperCase(),
    notBefore: x509.validFromDate.toISOString(),
    notAfter: x509.validToDate.toISOString(),
    fingerprintSha256: x509.fingerprint256,
  };
}

export function readPkcs12(pkcs12: Buffer, passphrase: string, now: Date): ClientCertificateResult {
  let bundle: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(pkcs12.toString('binary')));
    bundle = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/password|mac could not be verified/i.test(message)) {
      return problem(
        'clientCertificate.passphrase',
        'passphrase',
        'The passphrase does not open the PKCS#12 file: use the password the certificate was exported or delivered with.',
      );
    }
    return problem(
      'clientCertificate.pkcs12',
      'pkcs12',
      'The file is not a PKCS#12 bundle (.p12/.pfx) holding a certificate and its private key: export it again with the private key included.',
    );
  }

  const bagsOf = (type: string): forge.pkcs12.Bag[] => bundle.getBags({ bagType: type })[type] ?? [];
  const keys = [...bagsOf(KEY_BAG_SHROUDED), ...bagsOf(KEY_BAG)].flatMap((bag) => (bag.key ? [bag.key] : []));
  const certificates: forge.pki.Certificate[] = bagsOf(CERT_BAG).flatMap((bag) =>
    bag.cert ? [bag.cert] : [],
  );
  if (keys.length !== 1 || certificates.length === 0) {
    return problem(
      'clientCertificate.pkcs12',
      'pkcs12.contents',
      `The bundle must hold exactly one private key and its certificate (found ${keys.length} keys, ${certificates.length} certificates): export it again with the private key included.`,
    );
  }
  const privateKeyPem = forge.pki.privateKeyToPem(keys[0] as forge.pki.rsa.PrivateKey);
  const publicKeyDer = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  const pems: string[] = certificates.map((certificate) => forge.pki.certificateToPem(certificate));
  const leafIndex = pems.findIndex((pem) =>
    new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).equals(publicKeyDer),
  );
  if (leafIndex === -1) {
    return problem(
      'clientCertificate.pkcs12',
      'pkcs12.key-mismatch',
      'No certificate in the bundle matches its private key: export the certificate together with its own key.',
    );
  }
  const certificatePem = pems[leafIndex]!;
  const details = describeCertificate(certificatePem);
  if (new Date(details.notAfter).getTime() < now.getTime()) {
    return problem(
      'clientCertificate.pkcs12',
      'certificate.expired',
      `The certificate expired on ${details.notAfter.slice(0, 10)}: ask the issuer (Sogei) for a new one and upload it.`,
    );
  }
  return {
    ok: true,
    certificate: {
      certificatePem,
      privateKeyPem,
      chainPem: pems.filter((_, index) => index !== leafIndex),
      details,
    },
  };
}
