import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Passwords and pincodes as the simulator holds them. Configured accounts (the kit's, the
 * `STS_SIM_USERS` ones) keep them in clear: they come from configuration and never reach the state
 * file. Whatever arrives through the admin API (a new password, an added account) is kept only as a
 * salted scrypt hash, in memory and in the state file, and checked against it at login.
 *
 * Format: `scrypt$<N>$<r>$<p>$<salt>$<key>` (base64url, 16-byte salt, 32-byte key).
 *
 * scrypt costs some 50 ms by design, too much for every SOAP call, so once a value has matched a
 * hash this process remembers an HMAC of it under a key that lives only in memory: later calls
 * compare HMACs (microseconds), a wrong value is refused without another scrypt, and nothing
 * reversible is kept. A hash made here from a value is remembered at once.
 */

export type Secret = { clear: string } | { hash: string };

export const SECRET_HASH_FORMAT =
  /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d)\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

const COST = { N: 16_384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Parameters a stored hash may ask for: enough for today's defaults, not enough to stall the process. */
const MAX_N = 1 << 17;
const MAX_R = 16;
const MAX_P = 4;
/** Bounds the memory of remembered matches; forgetting only costs one more scrypt. */
const MAX_REMEMBERED = 10_000;

const processKey = randomBytes(32);
const remembered = new Map<string, Buffer>();
const mac = (value: string) => createHmac('sha256', processKey).update(value, 'utf8').digest();
const remember = (hash: string, value: string) => {
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(hash, mac(value));
};

export function hashSecret(value: string): { hash: string } {
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(value, salt, KEY_BYTES, { ...COST, maxmem: 128 * COST.N * COST.r * 2 });
  const hash = `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  remember(hash, value);
  return { hash };
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Whether `given` is the secret; constant time for clear values, whatever the lengths. */
export function secretMatches(secret: Secret, given: string): boolean {
  if ('clear' in secret) return timingSafeEqual(digest(secret.clear), digest(given));
  const known = remembered.get(secret.hash);
  if (known) return timingSafeEqual(known, mac(given));
  const match = SECRET_HASH_FORMAT.exec(secret.hash);
  if (!match) return false;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return false;
  const expected = Buffer.from(match[5]!, 'base64url');
  const actual = scryptSync(given, Buffer.from(match[4]!, 'base64url'), expected.length, {
    N,
    r,
    p,
    maxmem: 128 * N * r * 2,
  });
  if (!timingSafeEqual(actual, expected)) return false;
  remember(secret.hash, given);
  return true;
}
