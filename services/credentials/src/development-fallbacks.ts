import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, SERVICE_SCOPES } from '@sts/shared';
import { stsKitDir } from '@sts/sts';
import type { CredentialsConfig } from './config.ts';

/**
 * With `CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true` (and only then), a missing secret gets a stand-in
 * so the service starts on a developer machine (`./run start`, docker compose): a master key and
 * one service token key per caller derived from fixed, public phrases, and the kit's SanitelCF
 * certificate (when neither SANITEL_CERTIFICATE_FILE nor SANITEL_CERTIFICATE_FILES is set). Each
 * is announced with a warning at boot. Without the flag every one of them must be configured,
 * whatever NODE_ENV says, and boot stops naming each missing variable; the flag itself
 * is refused in production.
 */
export function developmentFallbacks(config: CredentialsConfig) {
  const warnings: string[] = [];
  const issues: { variable: string; problem: string }[] = [];
  const resolved = { ...config };
  const allowed = config.CREDENTIALS_ALLOW_DEVELOPMENT_KEYS;
  const devKey = (label: string) =>
    createHash('sha256').update(`sts-credentials development ${label}`).digest('base64');
  const required = (variable: string) =>
    issues.push({
      variable,
      problem: 'required (on a development machine only: CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true)',
    });

  if (allowed && config.NODE_ENV === 'production') {
    issues.push({
      variable: 'CREDENTIALS_ALLOW_DEVELOPMENT_KEYS',
      problem: 'must not be true in production: the development keys are public',
    });
  }
  if (allowed) {
    warnings.push(
      'CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true: missing keys are replaced by PUBLIC development values; never store real credentials',
    );
  }

  if (!config.CREDENTIALS_MASTER_KEYS && !config.CREDENTIALS_MASTER_KEYS_FILE) {
    if (!allowed) required('CREDENTIALS_MASTER_KEYS or CREDENTIALS_MASTER_KEYS_FILE');
    else {
      resolved.CREDENTIALS_MASTER_KEYS = `dev:${devKey('master key')}`;
      resolved.CREDENTIALS_ACTIVE_MASTER_KEY ??= 'dev';
      warnings.push(
        'DEVELOPMENT master key in use (public, derived from a fixed phrase): never store real credentials',
      );
    }
  }
  if (!resolved.CREDENTIALS_ACTIVE_MASTER_KEY) {
    issues.push({ variable: 'CREDENTIALS_ACTIVE_MASTER_KEY', problem: 'required' });
  }
  if (!config.SERVICE_TOKEN_KEYS && !config.SERVICE_TOKEN_KEYS_FILE) {
    if (!allowed) required('SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE');
    else {
      // One key per caller, as in production: the gateway's cannot mint the submitter's tokens.
      resolved.SERVICE_TOKEN_KEYS = [
        `dev-gateway:gateway:${SERVICE_SCOPES.credentialsManage}:${devKey('service token key gateway')}`,
        `dev-submitter:submitter:${SERVICE_SCOPES.credentialsLease}+${SERVICE_SCOPES.credentialsReport}:${devKey('service token key submitter')}`,
      ].join(',');
      warnings.push('DEVELOPMENT service token keys in use (public): anyone can mint tokens');
    }
  }
  if (!config.SANITEL_CERTIFICATE_FILE && !config.SANITEL_CERTIFICATE_FILES?.length) {
    if (!allowed) required('SANITEL_CERTIFICATE_FILES or SANITEL_CERTIFICATE_FILE');
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
  if (issues.length > 0) throw new ConfigError(issues);
  const production = certificateFiles(resolved.SANITEL_CERTIFICATE_FILE, resolved.SANITEL_CERTIFICATE_FILES);
  const test = certificateFiles(
    resolved.SANITEL_TEST_CERTIFICATE_FILE,
    resolved.SANITEL_TEST_CERTIFICATE_FILES,
  );
  return {
    ...resolved,
    CREDENTIALS_ACTIVE_MASTER_KEY: resolved.CREDENTIALS_ACTIVE_MASTER_KEY!,
    /** Every SanitelCF certificate file per environment; the test environment defaults to production's. */
    sanitelCertificateFiles: { production, test: test.length > 0 ? test : production },
    developmentWarnings: warnings,
  };
}

/** The old single-file variable and the list together, each path once. */
const certificateFiles = (file: string | undefined, files: string[] | undefined) => [
  ...new Set([...(file ? [file] : []), ...(files ?? [])]),
];
