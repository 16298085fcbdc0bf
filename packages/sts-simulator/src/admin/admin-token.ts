import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The admin API always needs a token. A configured one (`STS_SIM_ADMIN_TOKEN`, the `adminToken`
 * option) is used as is; otherwise one is generated: 256 random bits, base64url (43 characters).
 * `src/main.ts` keeps a generated token in a file of the state directory so a restart keeps it.
 */

export const MIN_ADMIN_TOKEN_LENGTH = 16;

export const generateAdminToken = (): string => randomBytes(32).toString('base64url');

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant time whatever the lengths: both sides are hashed to 32 bytes before the comparison. */
export function adminTokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * The token kept in `file`: read when the file exists, else generated and written (mode 0600, never
 * over an existing file). A file holding less than 16 characters is refused, naming the file.
 */
export function loadOrCreateAdminToken(file: string): { token: string; created: boolean } {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
      throw new Error(
        `admin token file ${file}: holds fewer than ${MIN_ADMIN_TOKEN_LENGTH} characters; delete it to have a new token generated`,
      );
    }
    return { token, created: false };
  }
  const token = generateAdminToken();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true };
}
