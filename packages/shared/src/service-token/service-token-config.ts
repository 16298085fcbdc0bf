import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseServiceTokenKeys, type ServiceTokenKey } from './service-token.ts';

/**
 * Config fragment of every service that signs or verifies service tokens. Keys come inline
 * (`SERVICE_TOKEN_KEYS=<key id>:<issuer>:<scope>[+<scope>…]:<base64 secret>,…`) or from a file
 * (`SERVICE_TOKEN_KEYS_FILE`, same format, one key per line), so a secret store can mount them. Each
 * key belongs to one issuer and grants only its scopes, so every calling service has its own keys;
 * a verifier holds all of them, a signer only its own. `SERVICE_TOKEN_SIGNING_KEY_ID` picks the key
 * new tokens are signed with. Rotation: add the new key (same issuer and scopes) everywhere, then
 * switch the signing key id, then remove the old key once no token signed with it can still be
 * alive (5 minutes).
 */
export const serviceTokenConfigFragment = {
  SERVICE_TOKEN_KEYS: z.string().min(1).optional(),
  SERVICE_TOKEN_KEYS_FILE: z.string().min(1).optional(),
  SERVICE_TOKEN_SIGNING_KEY_ID: z.string().min(1).optional(),
} as const;

export function loadServiceTokenKeys(config: {
  SERVICE_TOKEN_KEYS?: string | undefined;
  SERVICE_TOKEN_KEYS_FILE?: string | undefined;
}): ServiceTokenKey[] {
  if (config.SERVICE_TOKEN_KEYS && config.SERVICE_TOKEN_KEYS_FILE) {
    throw new Error('set SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE, not both');
  }
  if (config.SERVICE_TOKEN_KEYS_FILE) {
    return parseServiceTokenKeys(readFileSync(config.SERVICE_TOKEN_KEYS_FILE, 'utf8'));
  }
  if (config.SERVICE_TOKEN_KEYS) return parseServiceTokenKeys(config.SERVICE_TOKEN_KEYS);
  throw new Error('set SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE');
}
