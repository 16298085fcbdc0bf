import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { parseSanitelCertificate } from './sanitel-certificate.ts';
import { createSanitelDecryptor } from './sanitel-decryptor.ts';
import { createSanitelEncryptor } from './sanitel-encryptor.ts';
import { generateSanitelStandIn } from './sanitel-stand-in.ts';

describe('generateSanitelStandIn', () => {
  const at = new Date('2026-03-01T10:00:00.000Z');
  const standIn = generateSanitelStandIn({ clock: () => at });
  const certificate = parseSanitelCertificate(standIn.certificatePem, { clock: () => at });

  it('makes an RSA-1024 certificate, exponent 65537, valid from now for three years', () => {
    expect(certificate.keySizeBits).toBe(1024);
    expect(certificate.publicKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(certificate.validFrom.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(certificate.validTo.toISOString()).toBe('2029-03-01T10:00:00.000Z');
    expect(certificate.status()).toMatchObject({ expired: false, notYetValid: false });
    expect(standIn.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('says plainly that it is not the real SanitelCF, and is self-signed', () => {
    expect(certificate.subject).toBe(
      'C=IT, O=STS simulator, OU=Test only - not Sogei, CN=SanitelCF stand-in',
    );
    expect(certificate.issuer).toBe(certificate.subject);
    const parsed = forge.pki.certificateFromPem(standIn.certificatePem);
    expect(parsed.verify(parsed)).toBe(true);
  });

  it('carries key usage keyEncipherment + dataEncipherment (critical), like the real one', () => {
    const keyUsage = forge.pki.certificateFromPem(standIn.certificatePem).getExtension('keyUsage') as {
      critical: boolean;
      keyEncipherment: boolean;
      dataEncipherment: boolean;
      digitalSignature: boolean;
    };
    expect(keyUsage).toMatchObject({
      critical: true,
      keyEncipherment: true,
      dataEncipherment: true,
      digitalSignature: false,
    });
  });

  it('pairs the certificate with its private key', () => {
    const ciphertext = createSanitelEncryptor(certificate).encrypt('1234567890');
    expect(createSanitelDecryptor(standIn.privateKeyPem).decrypt(ciphertext)).toBe('1234567890');
  });

  it('takes a subject, a validity and a key size', () => {
    const other = generateSanitelStandIn({
      modulusLength: 2048,
      subject: { commonName: 'SanitelCF simulator 2030' },
      validFrom: new Date('2020-01-01T00:00:00.000Z'),
      validTo: new Date('2021-01-01T00:00:00.000Z'),
    });
    const parsed = parseSanitelCertificate(other.certificatePem, { clock: () => at });
    expect(parsed.subject).toBe(
      'C=IT, O=STS simulator, OU=Test only - not Sogei, CN=SanitelCF simulator 2030',
    );
    expect(parsed.keySizeBits).toBe(2048);
    expect(parsed.status().expired).toBe(true);
    const ciphertext = createSanitelEncryptor(parsed).encrypt('1234567890');
    expect(ciphertext).toHaveLength(344);
    expect(createSanitelDecryptor(other.privateKeyPem).decrypt(ciphertext)).toBe('1234567890');
  });

  it('gives a new key each time', () => {
    const again = parseSanitelCertificate(generateSanitelStandIn().certificatePem);
    expect(again.publicKeyFingerprintSha256).not.toBe(certificate.publicKeyFingerprintSha256);
  });
});
