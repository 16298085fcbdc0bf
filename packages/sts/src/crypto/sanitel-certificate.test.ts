import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSanitelCertificate, parseSanitelCertificate } from './sanitel-certificate.ts';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';
import { generateSanitelStandIn } from './sanitel-stand-in.ts';
import { stsKitDir } from './sts-kit-dir.ts';

const certsDir = join(stsKitDir(), 'certs');
const scratch = mkdtempSync(join(tmpdir(), 'sanitel-cert-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The four issues of the SanitelCF certificate, as docs/protocol.md §2.3 lists them (and openssl prints them).
const REAL_CERTIFICATES = [
  {
    file: 'SanitelCF_2015-04-23_to_2018-04-23.cer',
    serial: '1C6EAE',
    validFrom: '2015-04-23T13:46:52.000Z',
    validTo: '2018-04-23T13:46:46.000Z',
    issuer: 'C=IT, O=Agenzia delle Entrate, OU=Servizi Telematici, CN=CA Agenzia delle Entrate',
  },
  {
    file: 'SanitelCF_2018-03-15_to_2021-03-15.cer',
    serial: '528690587BEF7E90',
    validFrom: '2018-03-15T13:17:03.000Z',
    validTo: '2021-03-15T13:17:03.000Z',
    issuer: 'C=IT, O=Agenzia delle Entrate, OU=Servizi Telematici, CN=CA Agenzia delle Entrate',
  },
  {
    file: 'SanitelCF_2021-02-26_to_2024-02-27.cer',
    serial: '49B9F2DA6674FAA2',
    validFrom: '2021-02-26T13:27:48.000Z',
    validTo: '2024-02-27T13:27:48.000Z',
    issuer: 'C=IT, O=Agenzia delle Entrate, CN=CA Agenzia delle Entrate',
  },
  {
    file: 'SanitelCF_2024-01-23_to_2027-01-23.pem',
    serial: '641F19FDC36E2533',
    validFrom: '2024-01-23T15:27:18.000Z',
    validTo: '2027-01-23T15:27:17.000Z',
    issuer: 'C=IT, O=Agenzia delle Entrate, CN=CA Agenzia delle Entrate',
  },
];

/** `openssl x509 -noout -modulus | openssl md5`: the MD5 of the line `Modulus=<HEX>\n`. */
function opensslModulusMd5(certificate: { publicKey: import('node:crypto').KeyObject }): string {
  const jwk = certificate.publicKey.export({ format: 'jwk' });
  const hex = Buffer.from(jwk.n!, 'base64url').toString('hex').toUpperCase().replace(/^0+/, '');
  return createHash('md5').update(`Modulus=${hex}\n`).digest('hex');
}

function toDerFile(pemFile: string): string {
  const der = new X509Certificate(readFileSync(join(certsDir, pemFile))).raw;
  const path = join(scratch, pemFile.replace(/\.(cer|pem)$/, '.der'));
  writeFileSync(path, der);
  return path;
}

describe('the four real SanitelCF certificates', () => {
  const loaded = REAL_CERTIFICATES.map((expected) => ({
    expected,
    certificate: loadSanitelCertificate(join(certsDir, expected.file)),
  }));

  it.each(loaded)(
    'reads $expected.file with the published serial, issuer and validity',
    ({ expected, certificate }) => {
      expect(certificate.subject).toBe('C=IT, O=Agenzia delle Entrate, OU=Servizi Telematici, CN=SanitelCF');
      expect(certificate.issuer).toBe(expected.issuer);
      expect(certificate.serialNumber).toBe(expected.serial);
      expect(certificate.validFrom.toISOString()).toBe(expected.validFrom);
      expect(certificate.validTo.toISOString()).toBe(expected.validTo);
      expect(certificate.keySizeBits).toBe(1024);
      expect(certificate.publicKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
      expect(certificate.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    },
  );

  it('all carry the same RSA key: one SPKI fingerprint, and the modulus md5 given in §2.3', () => {
    const spkiFingerprints = new Set(loaded.map(({ certificate }) => certificate.publicKeyFingerprintSha256));
    const certificateFingerprints = new Set(loaded.map(({ certificate }) => certificate.fingerprintSha256));
    expect(spkiFingerprints.size).toBe(1);
    expect(certificateFingerprints.size).toBe(4);
    for (const { certificate } of loaded) {
      expect(opensslModulusMd5(certificate)).toBe('c74a6c38e01c886b714ab59f6c76ab53');
    }
  });

  it('gives the 2024 fingerprint that openssl gives', () => {
    const cert2024 = loaded[3]!.certificate;
    expect(cert2024.fingerprintSha256).toBe(
      '8E:7E:18:7D:AE:44:8D:92:F7:8B:30:DD:A6:25:3C:F5:FC:61:05:D2:AF:DC:85:11:1C:A7:29:70:8E:07:DE:01',
    );
    expect(cert2024.format).toBe('pem');
  });

  it.each(REAL_CERTIFICATES)('reads $file as DER just as well', (expected) => {
    const der = loadSanitelCertificate(toDerFile(expected.file));
    const pem = loadSanitelCertificate(join(certsDir, expected.file));
    expect(der.format).toBe('der');
    expect(der.serialNumber).toBe(expected.serial);
    expect(der.fingerprintSha256).toBe(pem.fingerprintSha256);
    expect(der.publicKeyFingerprintSha256).toBe(pem.publicKeyFingerprintSha256);
  });

  it('reports expiry against the injected clock, without refusing an expired certificate', () => {
    const at = new Date('2026-01-23T15:27:17.000Z');
    const cert2024 = loadSanitelCertificate(join(certsDir, REAL_CERTIFICATES[3]!.file), { clock: () => at });
    expect(cert2024.status()).toEqual({ expired: false, notYetValid: false, daysUntilExpiry: 365 });

    const cert2015 = loadSanitelCertificate(join(certsDir, REAL_CERTIFICATES[0]!.file), { clock: () => at });
    const status = cert2015.status();
    expect(status.expired).toBe(true);
    expect(status.daysUntilExpiry).toBeLessThan(-2800);
    expect(cert2015.status(new Date('2018-04-22T13:46:46.000Z'))).toEqual({
      expired: false,
      notYetValid: false,
      daysUntilExpiry: 1,
    });
    expect(cert2015.status(new Date('2015-04-01T00:00:00.000Z')).notYetValid).toBe(true);
  });

  it('describes itself as plain data for monitoring', () => {
    const at = new Date('2027-02-01T00:00:00.000Z');
    const report = loaded[3]!.certificate.describe(at);
    expect(report).toMatchObject({
      serialNumber: '641F19FDC36E2533',
      keySizeBits: 1024,
      ciphertextBase64Length: 172,
      expired: true,
      format: 'pem',
    });
    expect(report).not.toHaveProperty('publicKey');
    expect(JSON.parse(JSON.stringify(report)).validTo).toBe('2027-01-23T15:27:17.000Z');
  });
});

describe('refusing what is not a usable certificate', () => {
  const codeOf = (action: () => unknown) => {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(SanitelCryptoError);
      return (error as SanitelCryptoError).code;
    }
    throw new Error('expected a SanitelCryptoError');
  };

  it('says when the file cannot be read', () => {
    expect(codeOf(() => loadSanitelCertificate(join(scratch, 'missing.pem')))).toBe(
      'sanitel-certificate-unreadable',
    );
  });

  it('refuses garbage, a private key, and a file with two certificates', () => {
    const standIn = generateSanitelStandIn();
    expect(codeOf(() => parseSanitelCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])))).toBe(
      'sanitel-certificate-invalid',
    );
    expect(codeOf(() => parseSanitelCertificate(standIn.privateKeyPem))).toBe('sanitel-certificate-invalid');
    expect(codeOf(() => parseSanitelCertificate(standIn.certificatePem + standIn.certificatePem))).toBe(
      'sanitel-certificate-invalid',
    );
    expect(codeOf(() => parseSanitelCertificate('just text'))).toBe('sanitel-certificate-invalid');
  });

  it('accepts PEM with CRLF line ends', () => {
    const pem = readFileSync(join(certsDir, REAL_CERTIFICATES[3]!.file), 'latin1').replace(/\n/g, '\r\n');
    expect(parseSanitelCertificate(pem).serialNumber).toBe('641F19FDC36E2533');
  });
});
