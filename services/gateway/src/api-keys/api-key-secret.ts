import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key is `sts_<prefix>_<secret>`: `sts_` so that people and secret scanners recognise it, a
 * public prefix of 16 lowercase hex characters (8 random bytes) by which the key is found, and a
 * secret of 43 base64url characters (32 random bytes). Only SHA-256 of the whole key is stored: the
 * key is random and 256 bits strong, so no slow password hash is needed (docs/decisions.md).
 */
export const API_KEY_PATTERN = /^sts_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** The longest text a key could be; anything longer is refused without being read. */
export const API_KEY_LENGTH = 'sts_'.length + 16 + 1 + 43;

export interface NewApiKeySecret {
  /** The whole key, to show once. */
  key: string;
  prefix: string;
  /** SHA-256 of `key`, 32 bytes: what is stored. */
  hash: Buffer;
}

export const hashApiKey = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export function generateApiKeySecret(): NewApiKeySecret {
  const prefix = randomBytes(8).toString('hex');
  const key = `sts_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The prefix of a key in our format, or undefined when `text` is not one. */
export function apiKeyPrefixOf(text: string): string | undefined {
  if (text.length !== API_KEY_LENGTH) return undefined;
  return API_KEY_PATTERN.exec(text)?.[1];
}

/** Whether `key` hashes to `stored`, in time independent of where they differ. */
export function apiKeyMatches(key: string, stored: Buffer): boolean {
  const hash = hashApiKey(key);
  return stored.length === hash.length && timingSafeEqual(hash, stored);
}
