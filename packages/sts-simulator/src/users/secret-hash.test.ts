import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, SECRET_HASH_FORMAT, secretMatches } from './secret-hash.ts';

describe('secret hashes', () => {
  it('are salted scrypt hashes that hold nothing of the value', () => {
    const first = hashSecret('Segreta.2026');
    const second = hashSecret('Segreta.2026');
    expect(first.hash).toMatch(SECRET_HASH_FORMAT);
    expect(first.hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(first.hash).not.toBe(second.hash);
    expect(first.hash).not.toContain('Segreta');
  });

  it('check a value against the hash, also one this process did not make (a state file after a restart)', () => {
    const { hash } = hashSecret('Segreta.2026');
    expect(secretMatches({ hash }, 'Segreta.2026')).toBe(true);
    expect(secretMatches({ hash }, 'segreta.2026')).toBe(false);
    // Written by another process: only scrypt can tell.
    const salt = randomBytes(16);
    const key = scryptSync('Vecchia.1', salt, 32, { N: 16_384, r: 8, p: 1 });
    const written = { hash: `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}` };
    expect(secretMatches(written, 'Sbagliata.1')).toBe(false);
    expect(secretMatches(written, 'Vecchia.1')).toBe(true);
    expect(secretMatches(written, 'Sbagliata.1')).toBe(false);
    expect(secretMatches(written, 'Vecchia.1')).toBe(true);
  });

  it('refuse malformed hashes and costs that would stall the process', () => {
    const { hash } = hashSecret('x');
    const [, , , , salt, key] = hash.split('$');
    for (const bad of [
      'Segreta.2026',
      `scrypt$1048576$8$1$${salt}$${key}`,
      `scrypt$16383$8$1$${salt}$${key}`,
      `scrypt$16384$99$1$${salt}$${key}`,
      `bcrypt$16384$8$1$${salt}$${key}`,
    ]) {
      expect(secretMatches({ hash: bad }, 'x'), bad).toBe(false);
    }
  });

  it('compare clear values (configured accounts) whatever their lengths', () => {
    expect(secretMatches({ clear: 'Salve123' }, 'Salve123')).toBe(true);
    expect(secretMatches({ clear: 'Salve123' }, 'Salve1234')).toBe(false);
    expect(secretMatches({ clear: 'Salve123' }, '')).toBe(false);
  });
});
