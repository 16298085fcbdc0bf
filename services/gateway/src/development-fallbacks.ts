import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, SERVICE_SCOPES } from '@sts/shared';
import { stsKitDir } from '@sts/sts';
import type { GatewayConfig } from './config.ts';

/**
 * With `GATEWAY_ALLOW_DEVELOPMENT_KEYS=true` (and only then), a missing secret gets a public stand-in
 * so the gateway starts on a developer machine (`./run start`, docker compose): keys derived from
 * fixed phrases (the service-token key is the one the credentials service derives for the gateway,
 * so the two agree without configuration), and the kit's SanitelCF certificate. Each is announced at
 * boot. Without the flag every one must be configured and boot stops naming each missing variable;
 * the flag itself is refused in production.
 */
export function developmentFallbacks(config: GatewayConfig) {
  const warnings: string[] = [];
  const issues: { variable: string; problem: string }[] = [];
  const resolved = { ...config };
  const allowed = config.GATEWAY_ALLOW_DEVELOPMENT_KEYS;
  const derived = (phrase: string) => createHash('sha256').update(phrase).digest('base64');
  const required = (variable: string) =>
    issues.push({
      variable,
      problem: 'required (on a development machine only: GATEWAY_ALLOW_DEVELOPMENT_KEYS=true)',
    });

  if (allowed && config.NODE_ENV === 'production') {
    issues.push({
      variable: 'GATEWAY_ALLOW_DEVELOPMENT_KEYS',
      problem: 'must not be true in production: the development keys are public',
    });
  }
  if (allowed) {
    warnings.push(
      'GATEWAY_ALLOW_DEVELOPMENT_KEYS=true: missing keys are replaced by PUBLIC development values; never send real patients',
    );
  }
  const fallback = <K extends 'GATEWAY_PATIENT_HASH_KEY' | 'GATEWAY_WEBHOOK_SECRET_KEY'>(variable: K) => {
    if (config[variable]) return;
    if (!allowed) return required(variable);
    resolved[variable] = derived(`sts-gateway development ${variable}`) as GatewayConfig[K];
    warnings.push(`DEVELOPMENT ${variable} in use (public, derived from a fixed phrase)`);
  };
  fallback('GATEWAY_PATIENT_HASH_KEY');
  fallback('GATEWAY_WEBHOOK_SECRET_KEY');

  if (!config.SERVICE_TOKEN_KEYS && !config.SERVICE_TOKEN_KEYS_FILE) {
    if (!allowed) required('SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE');
    else {
      const secret = derived('sts-credentials development service token key gateway');
      resolved.SERVICE_TOKEN_KEYS = `dev-gateway:gateway:${SERVICE_SCOPES.credentialsManage}+${SERVICE_SCOPES.submissionsRead}:${secret}`;
      resolved.SERVICE_TOKEN_SIGNING_KEY_ID ??= 'dev-gateway';
      warnings.push('DEVELOPMENT service token key in use (public, derived from a fixed phrase)');
    }
  }

  let production = config.SANITEL_CERTIFICATE_FILES ?? [];
  if (production.length === 0) {
    if (!allowed) required('SANITEL_CERTIFICATE_FILES');
    else {
      production = [join(stsKitDir(), 'certs', 'SanitelCF_2024-01-23_to_2027-01-23.pem')];
      warnings.push("the kit's SanitelCF certificate is in use (SANITEL_CERTIFICATE_FILES not set)");
    }
  }
  const test = config.SANITEL_TEST_CERTIFICATE_FILES?.length
    ? config.SANITEL_TEST_CERTIFICATE_FILES
    : production;

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    ...resolved,
    patientHashKey: Buffer.from(resolved.GATEWAY_PATIENT_HASH_KEY!, 'base64'),
    webhookSecretKey: Buffer.from(resolved.GATEWAY_WEBHOOK_SECRET_KEY!, 'base64'),
    sanitelCertificateFiles: { production, test },
    developmentWarnings: warnings,
  };
}

export type CompleteGatewayConfig = ReturnType<typeof developmentFallbacks>;
