import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, loadServiceTokenKeys, SERVICE_SCOPES, type ServiceTokenKey } from '@sts/shared';
import { stsKitDir } from '@sts/sts';
import type { SubmitterConfig } from './config.ts';
import { credentialsClientOptions } from './credentials/credentials-config.ts';

/**
 * Completes the configuration: the credentials client's signing key (a public development key with
 * `SUBMITTER_ALLOW_DEVELOPMENT_KEYS=true` only, refused in production), the keys that verify the
 * gateway's tokens on the proof routes (the gateway's public development key likewise), and the
 * SanitelCF certificates (the kit's, likewise). Every missing one is named at boot.
 */
export function developmentFallbacks(config: SubmitterConfig) {
  const issues: { variable: string; problem: string }[] = [];
  const warnings: string[] = [];
  const allowed = config.SUBMITTER_ALLOW_DEVELOPMENT_KEYS;
  let credentialsClient: ReturnType<typeof credentialsClientOptions> | undefined;
  try {
    credentialsClient = credentialsClientOptions(config);
    warnings.push(...credentialsClient.developmentWarnings);
  } catch (error) {
    if (error instanceof ConfigError) issues.push(...error.issues);
    else throw error;
  }

  let proofReaderKeys: ServiceTokenKey[] = [];
  if (config.SERVICE_TOKEN_KEYS || config.SERVICE_TOKEN_KEYS_FILE) {
    try {
      proofReaderKeys = loadServiceTokenKeys(config).filter((key) => key.issuer === 'gateway');
    } catch {
      // Reported above, by the signing key's check of the same variables.
    }
  } else if (allowed) {
    proofReaderKeys = [
      {
        id: 'dev-gateway',
        issuer: 'gateway',
        scopes: [SERVICE_SCOPES.credentialsManage, SERVICE_SCOPES.submissionsRead],
        secret: createHash('sha256').update('sts-credentials development service token key gateway').digest(),
      },
    ];
  }
  if (config.SUBMITTER_ROLES.includes('api') && proofReaderKeys.length === 0 && !issues.length) {
    warnings.push('no service-token key of the gateway is configured: the proof routes refuse every call');
  }

  let production = config.SANITEL_CERTIFICATE_FILES ?? [];
  if (production.length === 0) {
    if (!allowed) {
      issues.push({
        variable: 'SANITEL_CERTIFICATE_FILES',
        problem: 'required (on a development machine only: SUBMITTER_ALLOW_DEVELOPMENT_KEYS=true)',
      });
    } else {
      production = [join(stsKitDir(), 'certs', 'SanitelCF_2024-01-23_to_2027-01-23.pem')];
      warnings.push("the kit's SanitelCF certificate is in use (SANITEL_CERTIFICATE_FILES not set)");
    }
  }
  const test = config.SANITEL_TEST_CERTIFICATE_FILES?.length
    ? config.SANITEL_TEST_CERTIFICATE_FILES
    : production;
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    ...config,
    credentialsClient: credentialsClient!,
    proofReaderKeys,
    sanitelCertificateFiles: { production, test },
    developmentWarnings: warnings,
  };
}
