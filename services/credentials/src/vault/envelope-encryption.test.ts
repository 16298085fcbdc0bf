import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEnvelopeEncryption, DecryptionError } from './envelope-encryption.ts';
import { createKeyring, KeyringError, parseMasterKeys } from './keyring.ts';

const keys = new Map([
  ['v1', randomBytes(32)],
  ['v2', randomBytes(32)],
]);

describe('keyring', () => {
  it('parses versioned keys and names what is wrong without showing a key', () => {
    const k = randomBytes(32).toString('base64');
    expect([...parseMasterKeys(`v1:${k},\n# comment\nv2:${k}`).keys()]).toEqual(['v1', 'v2']);
    expect(() => parseMasterKeys(`v1:${randomBytes(16).toString('base64')}`)).toThrow(/exactly 32 bytes/);
    expect(() => parseMasterKeys(`v1:${k},v1:${k}`)).toThrow(/twice/);
    expect(() => parseMasterKeys(k)).toThrow(/<version>:<base64 key>/);
    expect(() => createKeyring(keys, 'v3')).toThrow(KeyringError);
    try {
      parseMasterKeys(`v9:${randomBytes(20).toString('base64')}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(k);
    }
  });
});

describe('envelope encryption', () => {
  const envelope = createEnvelopeEncryption(createKeyring(keys, 'v1'));
  const id = '5b0e2f6c-3c1e-4c43-9a57-0a1f1f0b8c11';
  const other = '7d8e9f00-1111-4222-8333-944455566677';

  it('round-trips a field and never repeats a ciphertext', () => {
    const { dataKey } = envelope.newDataKey(id);
    const a = envelope.encryptField(dataKey, id, 'password', Buffer.from('Segreta.1'));
    const b = envelope.encryptField(dataKey, id, 'password', Buffer.from('Segreta.1'));
    expect(a.equals(b)).toBe(false);
    expect(envelope.decryptField(dataKey, id, 'password', a).toString()).toBe('Segreta.1');
  });

  it('binds a field to its credential and its name', () => {
    const { dataKey } = envelope.newDataKey(id);
    const ciphertext = envelope.encryptField(dataKey, id, 'password', Buffer.from('Segreta.1'));
    expect(() => envelope.decryptField(dataKey, other, 'password', ciphertext)).toThrow(DecryptionError);
    expect(() => envelope.decryptField(dataKey, id, 'pincode', ciphertext)).toThrow(DecryptionError);
    const flipped = Buffer.from(ciphertext);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => envelope.decryptField(dataKey, id, 'password', flipped)).toThrow(DecryptionError);
  });

  it('binds a wrapped data key to its credential and master key version; re-wraps with the active key', () => {
    const { dataKey, wrapped } = envelope.newDataKey(id);
    expect(wrapped.masterKeyVersion).toBe('v1');
    expect(envelope.unwrap(id, wrapped).equals(dataKey)).toBe(true);
    expect(() => envelope.unwrap(other, wrapped)).toThrow(DecryptionError);
    expect(() => envelope.unwrap(id, { ...wrapped, masterKeyVersion: 'v2' })).toThrow(DecryptionError);

    const rotated = createEnvelopeEncryption(createKeyring(keys, 'v2'));
    const rewrapped = rotated.rewrap(id, wrapped);
    expect(rewrapped.masterKeyVersion).toBe('v2');
    expect(rotated.unwrap(id, rewrapped).equals(dataKey)).toBe(true);
  });
});
