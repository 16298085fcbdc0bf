import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../vault/keyring.ts';
import type { FailedPassword } from './login-budgets-table.ts';

/** One STS login: the environment and the user, upper-cased. Credentials of any tenant share it. */
export interface Login {
  environment: string;
  user: string;
}

/** The login a credential authenticates with, if it sends one (certificate-only credentials do not). */
export function loginOf(row: { environment: string; stsUser: string | null }): Login | undefined {
  const user = row.stsUser?.trim().toUpperCase();
  return user ? { environment: row.environment, user } : undefined;
}

const SALT = Buffer.from('sts-credentials/login-budget');
const PURPOSES = { login: 'login-key/v1', password: 'failed-password/v1' } as const;

export type LoginKeys = ReturnType<typeof createLoginKeys>;

/**
 * Keyed hashes of logins and of the passwords that failed for them: HMAC-SHA256 under keys derived
 * (HKDF-SHA256) from each master key version of the keyring, one key per purpose. Nothing here is
 * reversible, and without the master keys nothing can be tested against it either. The version
 * travels with each stored hash, so hashes made before a rotation keep matching while their master
 * key is configured.
 */
export function createLoginKeys(keyring: Keyring) {
  const derived = new Map<string, Buffer>();
  const keyOf = (version: string, purpose: keyof typeof PURPOSES) => {
    const name = `${version}\0${purpose}`;
    let key = derived.get(name);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', keyring.key(version), SALT, PURPOSES[purpose], 32));
      derived.set(name, key);
    }
    return key;
  };
  const loginText = (login: Login) => `${login.environment}\0${login.user.toUpperCase()}`;
  const hashLogin = (version: string, login: Login) =>
    createHmac('sha256', keyOf(version, 'login')).update(loginText(login)).digest('base64url');
  const hashPassword = (version: string, login: Login, password: Buffer) =>
    createHmac('sha256', keyOf(version, 'password'))
      .update(`${loginText(login)}\0`)
      .update(password)
      .digest();

  return {
    /** The row key under the active master key version. */
    activeLoginKey(login: Login): { loginKey: string; keyVersion: string } {
      return { loginKey: hashLogin(keyring.activeVersion, login), keyVersion: keyring.activeVersion };
    },

    /** The row key under every configured version: a row written before a rotation is still found. */
    candidateLoginKeys(login: Login): string[] {
      return keyring.versions.map((version) => hashLogin(version, login));
    },

    /** The keyed hash of a password that failed for `login`, to remember it by. */
    failedPassword(login: Login, password: Buffer): Pick<FailedPassword, 'keyVersion' | 'hash'> {
      return {
        keyVersion: keyring.activeVersion,
        hash: hashPassword(keyring.activeVersion, login, password).toString('base64url'),
      };
    },

    /**
     * Whether `password` is one of `known` for `login`. Each stored hash is checked under its own
     * version; one whose master key is no longer configured cannot be checked and does not match.
     */
    isKnown(login: Login, password: Buffer, known: readonly FailedPassword[]): boolean {
      const computed = new Map<string, Buffer>();
      let found = false;
      for (const entry of known) {
        if (!keyring.versions.includes(entry.keyVersion)) continue;
        let mine = computed.get(entry.keyVersion);
        if (!mine) {
          mine = hashPassword(entry.keyVersion, login, password);
          computed.set(entry.keyVersion, mine);
        }
        const theirs = Buffer.from(entry.hash, 'base64url');
        // Compare all of them, in constant time each: how long this takes says nothing about which.
        if (theirs.length === mine.length && timingSafeEqual(theirs, mine)) found = true;
      }
      return found;
    },
  };
}
