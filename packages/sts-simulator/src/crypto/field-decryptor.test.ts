import { createSanitelEncryptor, generateSanitelStandIn, parseSanitelCertificate } from '@sts/sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFor, sync, upload } from '../../test-support/flows.ts';
import { findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import { MEDICO, PATIENTS } from '../../test-support/kit-actors.ts';
import { createFieldDecryptor } from './field-decryptor.ts';

const keyPair = generateSanitelStandIn();
const encryptor = createSanitelEncryptor(parseSanitelCertificate(keyPair.certificatePem));
const foreign = createSanitelEncryptor(parseSanitelCertificate(generateSanitelStandIn().certificatePem));

describe('createFieldDecryptor', () => {
  const known = new Map<string, string | null>([
    ['KIT-PIN', '1234567890'],
    ['KIT-CITIZEN', null],
  ]);

  it('full: decrypts every field, knows the kit ciphertexts, reports failures', () => {
    const decryptor = createFieldDecryptor({
      privateKeyPem: keyPair.privateKeyPem,
      settings: { mode: 'full', sampleEvery: 10 },
      knownCiphertexts: known,
    });
    expect(decryptor.decrypt(encryptor.encrypt('RSSMRA80A01H501U'))).toEqual({
      kind: 'plain',
      value: 'RSSMRA80A01H501U',
    });
    expect(decryptor.decrypt('KIT-PIN')).toEqual({ kind: 'plain', value: '1234567890' });
    expect(decryptor.decrypt('KIT-CITIZEN')).toEqual({ kind: 'opaque' });
    expect(decryptor.decrypt(foreign.encrypt('RSSMRA80A01H501U'))).toEqual({ kind: 'failed' });
    // A ciphertext wrapped at 76 characters, as some base64 encoders do, does not decrypt (§2.2).
    const wrapped = encryptor.encrypt('1234567890').replace(/(.{76})/g, '$1\n');
    expect(decryptor.decrypt(wrapped)).toEqual({ kind: 'failed' });
    expect(decryptor.stats()).toEqual({ decrypted: 3, unchecked: 0, failed: 2 });
  });

  it('sampled: decrypts one field in N and trusts the others', () => {
    const decryptor = createFieldDecryptor({
      privateKeyPem: keyPair.privateKeyPem,
      settings: { mode: 'sampled', sampleEvery: 3 },
      knownCiphertexts: known,
    });
    const kinds = Array.from({ length: 6 }, () => decryptor.decrypt(foreign.encrypt('1234567890')).kind);
    expect(kinds).toEqual(['failed', 'unchecked', 'unchecked', 'failed', 'unchecked', 'unchecked']);
  });

  it('off: checks nothing', () => {
    const decryptor = createFieldDecryptor({
      privateKeyPem: keyPair.privateKeyPem,
      settings: { mode: 'off', sampleEvery: 1 },
      knownCiphertexts: known,
    });
    expect(decryptor.decrypt('garbage').kind).toBe('unchecked');
  });
});

describe('decryption mode over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startSimulator();
  });
  afterAll(() => h.close());

  it('PATCH /__admin/settings switches to off: a wrongly encrypted pincode and patient then pass', async () => {
    const badPin = foreign.encrypt(MEDICO.pincode);
    const document = {
      vatNumber: MEDICO.vatNumber,
      issueDate: '2025-08-08',
      number: 'DEC-1',
      patient: foreign.encrypt(PATIENTS[0]),
    };
    expect((await sync(h, MEDICO, 'insert', document, { pincode: badPin })).codes).toEqual(['002']);

    const patched = await h.admin('PATCH', '/settings', { decryption: { mode: 'off' } });
    expect(patched.json).toMatchObject({ decryption: { mode: 'off' } });
    expect((await sync(h, MEDICO, 'insert', document, { pincode: badPin })).outcome).toBe('0');
    const answer = await upload(h, MEDICO, {
      zip: fileFor(h, MEDICO, [{ ...document, number: 'DEC-2' }]),
      pincode: badPin,
    });
    expect(findText(answer.body, 'codiceEsito')).toBe('000');

    await h.admin('PATCH', '/settings', { decryption: { mode: 'full' } });
    expect((await h.admin('GET', '/settings')).json).toMatchObject({
      decryption: { mode: 'full' },
      schemaValidation: true,
    });
  });
});
