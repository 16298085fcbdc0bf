import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptsWith, sanitelRenewalStandIns } from '../../test-support/sanitel-renewal.ts';
import { parseSanitelCertificate } from './sanitel-certificate.ts';
import {
  createSanitelCertificateSet,
  loadSanitelCertificates,
  sanitelCertificateAdvice,
} from './sanitel-certificate-set.ts';
import { SanitelCryptoError } from './sanitel-crypto-error.ts';
import { createSanitelEncryptor } from './sanitel-encryptor.ts';
import { generateSanitelStandIn } from './sanitel-stand-in.ts';
import { stsKitDir } from './sts-kit-dir.ts';

const { old: OLD, next: NEW } = sanitelRenewalStandIns();
const withOld = decryptsWith(OLD);
const withNew = decryptsWith(NEW);

/** A clock the test moves. */
function movableClock(start: string) {
  let now = new Date(start);
  return { now: () => now, set: (iso: string) => (now = new Date(iso)) };
}

/** Which of the two stand-in keys a ciphertext was made with. */
function keyOf(ciphertext: string): 'old' | 'new' {
  const [byOld, byNew] = [withOld(ciphertext) === '1234567890', withNew(ciphertext) === '1234567890'];
  expect(byOld !== byNew).toBe(true);
  return byOld ? 'old' : 'new';
}

describe('createSanitelCertificateSet: which certificate encrypts', () => {
  const clock = movableClock('2026-12-07T10:00:00Z');
  const set = createSanitelCertificateSet(
    [parseSanitelCertificate(OLD.certificatePem), parseSanitelCertificate(NEW.certificatePem)],
    { clock: clock.now },
  );
  const encryptor = createSanitelEncryptor(set);

  it('lists the certificates newest first', () => {
    expect(set.certificates.map((c) => c.validFrom.toISOString())).toEqual([
      '2027-01-02T09:00:00.000Z',
      '2024-01-23T15:27:18.000Z',
    ]);
  });

  it('before the new one is valid: the old one, the only valid one', () => {
    clock.set('2026-12-07T10:00:00Z');
    expect(set.choose()).toMatchObject({ basis: 'valid', certificate: set.certificates[1] });
    expect(keyOf(encryptor.encrypt('1234567890'))).toBe('old');
  });

  it('while both are valid: the newest valid one', () => {
    clock.set('2027-01-10T00:00:00Z');
    expect(set.choose()).toMatchObject({ basis: 'valid', certificate: set.certificates[0] });
    expect(keyOf(encryptor.encrypt('1234567890'))).toBe('new');
  });

  it('the second each becomes valid or expires, by the injected clock', () => {
    clock.set('2027-01-02T08:59:59Z');
    expect(keyOf(encryptor.encrypt('1234567890'))).toBe('old');
    clock.set('2027-01-02T09:00:00Z');
    expect(keyOf(encryptor.encrypt('1234567890'))).toBe('new');
  });

  it("after the old one's expiry: still the new one", () => {
    clock.set('2027-01-23T15:27:18Z');
    expect(set.choose()).toMatchObject({ basis: 'valid', certificate: set.certificates[0] });
    expect(keyOf(encryptor.encrypt('1234567890'))).toBe('new');
    expect(set.choose(new Date('2031-01-01T00:00:00Z')).basis).toBe('expired');
  });

  it('a ciphertext made with the old certificate before the switch stays what it was: the old key decrypts it', () => {
    clock.set('2026-12-30T00:00:00Z');
    const madeBefore = encryptor.encrypt('1234567890');
    clock.set('2027-02-01T00:00:00Z');
    expect(keyOf(encryptor.encrypt('1234567890'))).toBe('new');
    expect(withOld(madeBefore)).toBe('1234567890');
  });
});

describe('falling back when no certificate is valid', () => {
  it('all expired: the newest expired one, never a refusal', () => {
    const older = generateSanitelStandIn({
      validFrom: new Date('2021-02-26T13:27:48Z'),
      validTo: new Date('2024-02-27T13:27:48Z'),
    });
    const set = createSanitelCertificateSet([
      parseSanitelCertificate(older.certificatePem),
      parseSanitelCertificate(OLD.certificatePem),
    ]);
    const at = new Date('2027-03-01T00:00:00Z');
    expect(set.choose(at)).toMatchObject({ basis: 'expired' });
    expect(set.choose(at).certificate.validTo.toISOString()).toBe('2027-01-23T15:27:17.000Z');
    const encryptor = createSanitelEncryptor(
      createSanitelCertificateSet(set.certificates, { clock: () => at }),
    );
    expect(withOld(encryptor.encrypt('1234567890'))).toBe('1234567890');
  });

  it('all still to come: the first to become valid', () => {
    const later = generateSanitelStandIn({
      validFrom: new Date('2028-01-01T00:00:00Z'),
      validTo: new Date('2031-01-01T00:00:00Z'),
    });
    const set = createSanitelCertificateSet([
      parseSanitelCertificate(later.certificatePem),
      parseSanitelCertificate(NEW.certificatePem),
    ]);
    const choice = set.choose(new Date('2026-06-01T00:00:00Z'));
    expect(choice.basis).toBe('not-yet-valid');
    expect(choice.certificate.validFrom.toISOString()).toBe('2027-01-02T09:00:00.000Z');
  });

  it('counts the same certificate given twice once, and refuses an empty list', () => {
    const set = createSanitelCertificateSet([
      parseSanitelCertificate(OLD.certificatePem, { source: 'a' }),
      parseSanitelCertificate(OLD.certificatePem, { source: 'b' }),
    ]);
    expect(set.certificates).toHaveLength(1);
    expect(() => createSanitelCertificateSet([])).toThrow(SanitelCryptoError);
  });
});

describe('the four real certificates of the kit, configured together', () => {
  const dir = join(stsKitDir(), 'certs');
  const set = loadSanitelCertificates(readdirSync(dir).map((file) => join(dir, file)));

  it('pick the 2024 issue today, and keep it (expired, same key) after 2027-01-23 when nothing newer is configured', () => {
    expect(set.certificates).toHaveLength(4);
    expect(set.choose(new Date('2026-12-07T00:00:00Z'))).toMatchObject({
      basis: 'valid',
      certificate: { serialNumber: '641F19FDC36E2533' },
    });
    // In the 2024 overlap the 2024 issue (newest valid) wins over the 2021 one.
    expect(set.choose(new Date('2024-02-01T00:00:00Z')).certificate.serialNumber).toBe('641F19FDC36E2533');
    expect(set.choose(new Date('2027-02-01T00:00:00Z'))).toMatchObject({
      basis: 'expired',
      certificate: { serialNumber: '641F19FDC36E2533' },
    });
  });
});

describe('sanitelCertificateAdvice: the date and what to do', () => {
  const onlyOld = createSanitelCertificateSet([parseSanitelCertificate(OLD.certificatePem)]);

  it('nothing to say far from expiry', () => {
    const advice = sanitelCertificateAdvice(onlyOld, new Date('2026-06-01T00:00:00Z'));
    expect(advice).toMatchObject({ level: 'ok', basis: 'valid', daysLeft: 236 });
    expect(advice.message).toContain('valid until 2027-01-23 15:27:17 UTC');
  });

  it('a renewal is due within the window: the date, where to get the new certificate, and not to stop sending', () => {
    const advice = sanitelCertificateAdvice(onlyOld, new Date('2026-12-24T15:27:17Z'), {
      warnWithinDays: 45,
      configuration: 'SANITEL_CERTIFICATE_FILES',
    });
    expect(advice).toMatchObject({ level: 'renewal-due', daysLeft: 30 });
    expect(advice.message).toContain('expires on 2027-01-23 15:27:17 UTC, in 30 days');
    expect(advice.message).toContain('SanitelCF.cer');
    expect(advice.message).toContain('sistemats.it');
    expect(advice.message).toContain(
      'add it to SANITEL_CERTIFICATE_FILES beside the current one and restart',
    );
    expect(advice.message).toContain('Do not stop sending');
  });

  it('a successor configured ahead: it takes over by itself, nothing to do', () => {
    const both = createSanitelCertificateSet([
      parseSanitelCertificate(OLD.certificatePem),
      parseSanitelCertificate(NEW.certificatePem),
    ]);
    const advice = sanitelCertificateAdvice(both, new Date('2026-12-24T00:00:00Z'));
    expect(advice.level).toBe('ok');
    expect(advice.successor).toMatchObject({ sameKey: false });
    expect(advice.message).toContain('takes over by itself on 2027-01-02 09:00:00 UTC');
  });

  it('a renewal that keeps the key is recognised as such', () => {
    const sameKey = generateSanitelStandIn({
      privateKeyPem: OLD.privateKeyPem,
      validFrom: new Date('2027-01-02T09:00:00Z'),
    });
    const both = createSanitelCertificateSet([
      parseSanitelCertificate(OLD.certificatePem),
      parseSanitelCertificate(sameKey.certificatePem),
    ]);
    expect(sanitelCertificateAdvice(both, new Date('2026-12-24T00:00:00Z')).successor?.sameKey).toBe(true);
  });

  it('expired and nothing valid: a fallback, said so, with the expiry date and the same steps', () => {
    const advice = sanitelCertificateAdvice(onlyOld, new Date('2027-02-01T00:00:00Z'));
    expect(advice).toMatchObject({ level: 'fallback', basis: 'expired' });
    expect(advice.daysLeft).toBeLessThan(0);
    expect(advice.message).toContain('expired on 2027-01-23 15:27:17 UTC');
    expect(advice.message).toContain('still encrypting with it');
    expect(advice.message).toContain('SanitelCF.cer');
  });
});
