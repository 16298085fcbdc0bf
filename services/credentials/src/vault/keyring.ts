import { readFileSync } from 'node:fs';

/**
 * The master keys: versioned AES-256 keys that wrap the per-credential data keys. Several versions
 * live side by side during a rotation; new data keys are always wrapped with the active one.
 */
export interface Keyring {
  readonly activeVersion: string;
  readonly versions: readonly string[];
  /** The key of `version`; throws when it is not configured (a data key wrapped with a removed key). */
  key(version: string): Buffer;
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

const VERSION = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;

/**
 * Parses `v1:<base64 32 bytes>,v2:<base64 32 bytes>` (commas or newlines). Errors name the version
 * and the rule, never the key.
 */
export function parseMasterKeys(text: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  const entries = text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry && !entry.startsWith('#'));
  for (const [index, entry] of entries.entries()) {
    const separator = entry.indexOf(':');
    const version = separator > 0 ? entry.slice(0, separator) : '';
    if (!VERSION.test(version)) {
      throw new KeyringError(
        `master key #${index + 1}: write it as <version>:<base64 key>, the version 1-32 letters, digits, '_' or '-'`,
      );
    }
    const key = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
    if (key.length !== KEY_BYTES) {
      throw new KeyringError(
        `master key ${version}: must decode to exactly ${KEY_BYTES} bytes (generate one with: openssl rand -base64 32)`,
      );
    }
    if (keys.has(version)) throw new KeyringError(`master key ${version} is configured twice`);
    keys.set(version, key);
  }
  return keys;
}

export function createKeyring(keys: Map<string, Buffer>, activeVersion: string): Keyring {
  if (keys.size === 0) throw new KeyringError('no master key is configured');
  if (!keys.has(activeVersion)) {
    throw new KeyringError(
      `the active master key ${activeVersion} is not among the configured keys (${[...keys.keys()].join(', ')})`,
    );
  }
  const copy = new Map([...keys].map(([version, key]) => [version, Buffer.from(key)]));
  return {
    activeVersion,
    versions: [...copy.keys()],
    key(version) {
      const key = copy.get(version);
      if (!key) {
        throw new KeyringError(
          `master key ${version} is not configured on this replica but wraps data keys: every replica needs a key before it becomes active, and until the rotation has moved every data key off it`,
        );
      }
      return key;
    },
  };
}

/** From configuration: inline keys or a file (one `version:key` per line), plus the active version. */
export function loadKeyring(config: {
  CREDENTIALS_MASTER_KEYS?: string | undefined;
  CREDENTIALS_MASTER_KEYS_FILE?: string | undefined;
  CREDENTIALS_ACTIVE_MASTER_KEY: string;
}): Keyring {
  if (config.CREDENTIALS_MASTER_KEYS && config.CREDENTIALS_MASTER_KEYS_FILE) {
    throw new KeyringError('set CREDENTIALS_MASTER_KEYS or CREDENTIALS_MASTER_KEYS_FILE, not both');
  }
  const text = config.CREDENTIALS_MASTER_KEYS_FILE
    ? readFileSync(config.CREDENTIALS_MASTER_KEYS_FILE, 'utf8')
    : config.CREDENTIALS_MASTER_KEYS;
  if (!text) throw new KeyringError('set CREDENTIALS_MASTER_KEYS or CREDENTIALS_MASTER_KEYS_FILE');
  return createKeyring(parseMasterKeys(text), config.CREDENTIALS_ACTIVE_MASTER_KEY);
}
