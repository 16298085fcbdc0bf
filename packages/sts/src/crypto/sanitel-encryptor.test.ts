import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSanitelCertificate, parseSanitelCertificate } from './sanitel-certificate.ts';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';
import { createSanitelDecryptor } from './sanitel-decryptor.ts';
import { createSanitelEncryptor, encryptPincode, encryptTaxCode } from './sanitel-encryptor.ts';
import { generateSanitelStandIn } from './sanitel-stand-in.ts';
import { stsKitDir } from './sts-kit-dir.ts';

const standIn = generateSanitelStandIn();
const encryptor = createSanitelEncryptor(parseSanitelCertificate(standIn.certificatePem));
const decryptor = createSanitelDecryptor(standIn.privateKeyPem);
// 128 bytes = 42 groups of 3 + 2 bytes: 171 characters and one '='.
const ONE_RSA_1024_BLOCK = /^[A-Za-z0-9+/]{171}=$/;

/** The error thrown by `action`, checked to be a SanitelCryptoError that does not repeat `secret`. */
function refusal(action: () => unknown, secret: string): SanitelCryptoError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SanitelCryptoError);
    const problem = error as SanitelCryptoError;
    if (secret.trim() !== '') {
      expect(problem.message).not.toContain(secret.trim());
      expect(problem.hint).not.toContain(secret.trim());
    }
    return problem;
  }
  throw new Error('expected the input to be refused');
}

describe('createSanitelEncryptor', () => {
  it('round-trips through the stand-in key', () => {
    for (const plain of ['PROVAX00X00X000Y', '1234567890', 'A', 'x'.repeat(117)]) {
      expect(decryptor.decrypt(encryptor.encrypt(plain))).toBe(plain);
    }
  });

  it('writes one RSA-1024 block as 172 base64 characters on one line', () => {
    const ciphertext = encryptor.encrypt('RSSMRA85T10A562S');
    expect(ciphertext).toHaveLength(172);
    expect(ciphertext).toMatch(ONE_RSA_1024_BLOCK);
    expect(ciphertext).not.toMatch(/\s/);
    expect(Buffer.from(ciphertext, 'base64')).toHaveLength(128);
  });

  it('gives a different ciphertext every time (PKCS#1 v1.5 is randomised)', () => {
    const ciphertexts = new Set(Array.from({ length: 5 }, () => encryptor.encrypt('RSSMRA85T10A562S')));
    expect(ciphertexts.size).toBe(5);
    for (const ciphertext of ciphertexts) expect(decryptor.decrypt(ciphertext)).toBe('RSSMRA85T10A562S');
  });

  it('encrypts with the real SanitelCF 2024 certificate', () => {
    const real = createSanitelEncryptor(
      loadSanitelCertificate(join(stsKitDir(), 'certs', 'SanitelCF_2024-01-23_to_2027-01-23.pem')),
    );
    expect(real.encrypt('1234567890')).toMatch(ONE_RSA_1024_BLOCK);
  });

  it.each([
    ['', 'sanitel-plaintext-empty'],
    [' RSSMRA85T10A562S', 'sanitel-plaintext-surrounding-whitespace'],
    ['RSSMRA85T10A562S\n', 'sanitel-plaintext-surrounding-whitespace'],
    ['RSSMRA85T10A562S\r\n', 'sanitel-plaintext-surrounding-whitespace'],
    ['RSSMRA85T10A562S\t', 'sanitel-plaintext-surrounding-whitespace'],
    ['RSSMRÀ85T10A562S', 'sanitel-plaintext-not-ascii'],
    ['RSSMRA85\nT10A562S', 'sanitel-plaintext-not-ascii'],
    ['RSSMRA85\u0000T10A562S', 'sanitel-plaintext-not-ascii'],
    ['x'.repeat(118), 'sanitel-plaintext-too-long'],
  ])('refuses %j with %s, without echoing it', (plain, code) => {
    const problem = refusal(() => encryptor.encrypt(plain), plain);
    expect(problem.code).toBe(code);
    expect(problem.field).toBe('plaintext');
  });

  it('refuses a key that is not RSA', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(refusal(() => createSanitelEncryptor({ publicKey }), '').code).toBe('sanitel-certificate-invalid');
  });
});

describe('encryptTaxCode', () => {
  it('upper-cases and trims the codice fiscale before encrypting it', () => {
    const encrypted = encryptTaxCode(encryptor, '  rssmra85t10a562s ');
    expect(encrypted.encrypted).toMatch(ONE_RSA_1024_BLOCK);
    expect(decryptor.decrypt(encrypted.encrypted)).toBe('RSSMRA85T10A562S');
    expect(decryptor.decrypt(encryptTaxCode(encryptor, '01234567890').encrypted)).toBe('01234567890');
  });

  it.each([
    ['', 'sanitel-plaintext-empty'],
    ['   ', 'sanitel-plaintext-empty'],
    ['rssmra85t10a562ß', 'sanitel-plaintext-not-ascii'],
    ['RSSMRA85T10A562', 'sanitel-tax-code-format'],
    ['RSSMRA85T10A562SX', 'sanitel-tax-code-format'],
    ['RSSMRA85-10A562S', 'sanitel-tax-code-format'],
    ['0123456789A', 'sanitel-tax-code-format'],
  ])('refuses %j with %s under the field taxCode', (taxCode, code) => {
    const problem = refusal(() => encryptTaxCode(encryptor, taxCode), taxCode);
    expect(problem.code).toBe(code);
    expect(problem.field).toBe('taxCode');
    expect(problem.message).toMatch(/^taxCode: /);
  });
});

describe('encryptPincode', () => {
  it('encrypts a 10-digit pincode', () => {
    expect(decryptor.decrypt(encryptPincode(encryptor, '1234567890'))).toBe('1234567890');
  });

  it.each([
    '123456789',
    '12345678901',
    ' 1234567890',
    '1234567890\n',
    '12345 6789',
    '4B64AA1D',
    '１２３４５６７８９０',
  ])('refuses %j saying the pincode has 10 digits', (pincode) => {
    const problem = refusal(() => encryptPincode(encryptor, pincode), pincode);
    expect(problem.code).toBe('sanitel-pincode-format');
    expect(problem.field).toBe('pincode');
    expect(problem.message).toContain('the pincode has 10 digits');
  });
});

describe('the pre-encrypted values in the official kit', () => {
  const kitDir = join(stsKitDir(), 'kit730P_ver_20201218');
  const files = readdirSync(kitDir, { recursive: true, encoding: 'utf8' }).filter((file) =>
    /UtenzeTest.*\.txt$/.test(file),
  );
  const values = files.flatMap((file) =>
    [...readFileSync(join(kitDir, file), 'latin1').matchAll(/cifrat\w*\s*:\s*([A-Za-z0-9+/=]+)/gi)].map(
      (match) => ({ file, value: match[1]! }),
    ),
  );

  it('are all found (the medico pincode among them)', () => {
    expect(values.length).toBeGreaterThanOrEqual(60);
    expect(values.map(({ value }) => value)).toContain(
      'HmhwvMEtyHOwDm5K3YEQ9RZiNAkJ+FvRwXodiABj9HpRbdQUaLa4cyYZU8YqaBsSs4Lq6u85uDci6xowmF7ZrVgLhZ83q4nSi8bSvVDPS5pPStBlOJfvo8AisqDiKdJvEPbkIhBVnbmf28gh28G/vQLkp2RgVEYinPA0LUCz8PQ=',
    );
  });

  it('each decode to one 128-byte RSA-1024 block, written like ours', () => {
    for (const { value } of values) {
      expect(value).toHaveLength(172);
      expect(Buffer.from(value, 'base64')).toHaveLength(128);
      expect(value).toMatch(ONE_RSA_1024_BLOCK);
    }
  });
});
