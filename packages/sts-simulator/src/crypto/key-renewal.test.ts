import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createSanitelCertificateSet,
  createSanitelEncryptor,
  encryptPincode,
  generateSanitelStandIn,
  parseSanitelCertificate,
  type SanitelEncryptor,
} from '@sts/sts';
import { decryptsWith, sanitelRenewalStandIns } from '@sts/sts/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFor, sync, upload, waitForOutcome } from '../../test-support/flows.ts';
import { findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import { MEDICO, ownerOf, PATIENTS } from '../../test-support/kit-actors.ts';
import { simulatorConfigSchema } from '../config.ts';
import { MESSAGES } from '../documents/document-messages.ts';
import { loadOrCreateKeyPairs } from '../key-pair-files.ts';

/**
 * A SanitelCF renewal as the simulator sees it: it holds the current stand-in key and the next one,
 * and decrypts each field with whichever matches, so clients that already encrypt with the new
 * certificate and documents encrypted with the old one before the switch both go through.
 */

const { old: OLD, next: NEW } = sanitelRenewalStandIns();
const FOREIGN = generateSanitelStandIn();
const encryptorOf = (pair: { certificatePem: string }) =>
  createSanitelEncryptor(parseSanitelCertificate(pair.certificatePem));
const withOld = encryptorOf(OLD);
const withNew = encryptorOf(NEW);

let counter = 0;
const documentWith = (encryptor: SanitelEncryptor) => ({
  vatNumber: MEDICO.vatNumber,
  issueDate: '2026-11-02',
  paymentDate: '2026-11-02',
  number: `REN-${++counter}`,
  patient: encryptor.encrypt(PATIENTS[0]),
});
const senderWith = (encryptor: SanitelEncryptor) => ({
  pincode: encryptPincode(encryptor, MEDICO.pincode),
  owner: ownerOf(MEDICO, encryptor.encrypt(MEDICO.taxCode)),
});

describe('a simulator holding the current and the next key pair, over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startSimulator({ keyPair: OLD, moreKeyPairs: [NEW] });
  });
  afterAll(() => h.close());

  it('serves the current certificate and lists both key pairs', async () => {
    expect(h.sim.certificatePem).toBe(OLD.certificatePem);
    expect(h.sim.keyPairs.map((pair) => pair.certificatePem)).toEqual([
      OLD.certificatePem,
      NEW.certificatePem,
    ]);
    expect((await h.admin('GET', '/certificate')).text).toBe(OLD.certificatePem);
  });

  it('decrypts a single document encrypted with either certificate', async () => {
    const before = h.sim.decryptor.decryptedByKey();
    for (const encryptor of [withOld, withNew]) {
      const answer = await sync(h, MEDICO, 'insert', documentWith(encryptor), senderWith(encryptor));
      expect(answer.outcome).toBe('0');
    }
    const after = h.sim.decryptor.decryptedByKey();
    // Pincode, owner and patient: three fields per document, each by its own key.
    expect(after[0]! - before[0]!).toBe(3);
    expect(after[1]! - before[1]!).toBe(3);
  });

  it('decrypts an upload whose file was encrypted with the next certificate', async () => {
    const sender = senderWith(withNew);
    const zip = fileFor(h, MEDICO, [documentWith(withNew), documentWith(withNew)]);
    const answer = await upload(h, MEDICO, {
      zip,
      pincode: sender.pincode,
      owner: ownerOf(MEDICO, MEDICO.taxCode),
    });
    expect(findText(answer.body, 'codiceEsito')).toBe('000');
    const protocol = findText(answer.body, 'protocollo')!;
    expect(await waitForOutcome(h, MEDICO, protocol)).toMatchObject({ status: 2, accepted: 2, errors: 0 });
  });

  it('still refuses a certificate it holds no key for', async () => {
    const foreign = encryptorOf(FOREIGN);
    const answer = await sync(h, MEDICO, 'insert', documentWith(withOld), senderWith(foreign));
    expect(answer.codes).toEqual(['002']);
  });

  it('a document encrypted under the old certificate before the switch and sent after it still decrypts', async () => {
    let now = new Date('2026-12-20T10:00:00Z');
    const client = createSanitelEncryptor(
      createSanitelCertificateSet(
        [parseSanitelCertificate(OLD.certificatePem), parseSanitelCertificate(NEW.certificatePem)],
        { clock: () => now },
      ),
    );
    // Prepared (patient codice fiscale encrypted) while the old certificate was the newest valid one …
    const prepared = documentWith(client);
    expect(withOldOnly(prepared.patient)).toBe(PATIENTS[0]);
    // … sent after the old one expired, with a pincode and owner now encrypted with the new one.
    now = new Date('2027-02-01T10:00:00Z');
    const sender = senderWith(client);
    expect(withNewOnly(sender.pincode)).toBe(MEDICO.pincode);
    const answer = await sync(h, MEDICO, 'insert', prepared, sender);
    expect(answer.outcome).toBe('0');

    // A simulator that had dropped the old key would refuse the patient's codice fiscale (S011).
    const newOnly = await startSimulator({ keyPair: NEW });
    try {
      const refused = await sync(newOnly, MEDICO, 'insert', { ...prepared, number: 'REN-X' }, sender);
      expect(refused.codes).toContain(MESSAGES.patientTaxCodeInvalid.code);
    } finally {
      await newOnly.close();
    }
  });
});

const withOldOnly = decryptsWith(OLD);
const withNewOnly = decryptsWith(NEW);

describe('key pair files for several pairs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sim-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = {
    certificates: [path.join(dir, 'current.pem'), path.join(dir, 'next.pem')],
    privateKeys: [path.join(dir, 'current.key'), path.join(dir, 'next.key')],
  };

  it('generates each missing pair, then loads the same pairs again', () => {
    const first = loadOrCreateKeyPairs(files);
    expect(first.map((pair) => pair.created)).toEqual([true, true]);
    expect(first[0]!.certificatePem).not.toBe(first[1]!.certificatePem);
    const again = loadOrCreateKeyPairs(files);
    expect(again.map((pair) => pair.created)).toEqual([false, false]);
    expect(again.map((pair) => pair.certificatePem)).toEqual(first.map((pair) => pair.certificatePem));
    expect(readFileSync(files.privateKeys[1]!, 'utf8')).toBe(first[1]!.privateKeyPem);
  });

  it('refuses a key that does not belong to its certificate, and lists of different lengths', () => {
    expect(() =>
      loadOrCreateKeyPairs({
        certificates: files.certificates,
        privateKeys: [...files.privateKeys].reverse(),
      }),
    ).toThrow(/is not the private key of/);
    expect(() =>
      loadOrCreateKeyPairs({ certificates: files.certificates, privateKeys: files.privateKeys.slice(1) }),
    ).toThrow(/paired by position/);
  });

  it('the configuration takes comma lists of the same length', () => {
    const parse = (certificates: string, keys: string) =>
      simulatorConfigSchema.safeParse({
        STS_SIM_CERTIFICATE_FILE: certificates,
        STS_SIM_PRIVATE_KEY_FILE: keys,
      });
    expect(parse('a.pem,b.pem', 'a.key,b.key').success).toBe(true);
    expect(parse('a.pem,b.pem', 'a.key').success).toBe(false);
  });
});
