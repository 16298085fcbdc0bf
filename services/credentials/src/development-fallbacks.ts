import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stsKitDir } from '@sts/sts';
import type { CredentialsConfig } from './config.ts';

/**
 * Outside production, a missing secret gets a stand-in so the service starts on a developer machine
 * (`./run start`): a master key and a service token key derived from a fixed, public phrase, and the
 * kit's SanitelCF certificate. Each is announced with a warning at boot. In production every one of
 * them must be configured, and boot stops naming what is missing.
 */
export function developmentFallbacks(config: CredentialsConfig) {
  const warnings: string[] = [];
  const missing: string[] = [];
  const resolved = { ...config };
  const devKey = (label: string) =>
    createHash('sha256').update(`sts-credentials development ${label}`).digest('base64');

  if (!config.CREDENTIALS_MASTER_KEYS && !config.CREDENTIALS_MASTER_KEYS_FILE) {
    if (config.NODE_ENV === 'production')
      missing.push('CREDENTIALS_MASTER_KEYS or CREDENTIALS_MASTER_KEYS_FILE');
    else {
      resolved.CREDENTIALS_MASTER_KEYS = `dev:${devKey('master key')}`;
      resolved.CREDENTIALS_ACTIVE_MASTER_KEY ??= 'dev';
      warnings.push(
        'DEVELOPMENT master key in use (public, derived from a fixed phrase): never store real credentials',
      );
    }
  }
  if (!resolved.CREDENTIALS_ACTIVE_MASTER_KEY) missing.push('CREDENTIALS_ACTIVE_MASTER_KEY');
  if (!config.SERVICE_TOKEN_KEYS && !config.SERVICE_TOKEN_KEYS_FILE) {
    if (config.NODE_ENV === 'production') missing.push('SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE');
    else {
      resolved.SERVICE_TOKEN_KEYS = `dev:${devKey('service token key')}`;
      warnings.push('DEVELOPMENT service token key in use (public): anyone can mint tokens');
    }
  }
  if (!config.SANITEL_CERTIFICATE_FILE) {
    if (config.NODE_ENV === 'production') missing.push('SANITEL_CERTIFICATE_FILE');
    else {
      resolved.SANITEL_CERTIFICATE_FILE = join(
        stsKitDir(),
        'certs',
        'SanitelCF_2024-01-23_to_2027-01-23.pem',
      );
      warnings.push(
        `SanitelCF certificate not configured: using the kit's (${resolved.SANITEL_CERTIFICATE_FILE})`,
      );
    }
  }
  if (missing.length > 0) {
    console.error(
      `Invalid configuration for production:\n${missing.map((name) => `  - ${name}: required`).join('\n')}`,
    );
    process.exit(1);
  }
  return {
    ...resolved,
    CREDENTIALS_ACTIVE_MASTER_KEY: resolved.CREDENTIALS_ACTIVE_MASTER_KEY!,
    SANITEL_CERTIFICATE_FILE: resolved.SANITEL_CERTIFICATE_FILE!,
    developmentWarnings: warnings,
  };
}
