import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, parseServiceTokenKeys } from '@sts/shared';
import { describe, expect, it } from 'vitest';
import { credentialsConfigSchema } from './config.ts';
import { developmentFallbacks } from './development-fallbacks.ts';

const BASE = { DATABASE_URL: 'postgres://sts@127.0.0.1/sts', REDIS_URL: 'redis://127.0.0.1:6379/0' };
const resolve = (env: Record<string, string>) =>
  developmentFallbacks(loadConfig(credentialsConfigSchema, { ...BASE, ...env }));

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    resolve(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('development fallbacks', () => {
  it('are off by default, also in development: each missing secret is named', () => {
    const envs: Record<string, string>[] = [
      {},
      { NODE_ENV: 'development' },
      { CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: 'false' },
    ];
    for (const env of envs) {
      const error = configErrorOf(env);
      expect(error.issues.map((issue) => issue.variable)).toEqual([
        'CREDENTIALS_MASTER_KEYS or CREDENTIALS_MASTER_KEYS_FILE',
        'CREDENTIALS_ACTIVE_MASTER_KEY',
        'SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE',
        'SANITEL_CERTIFICATE_FILES or SANITEL_CERTIFICATE_FILE',
      ]);
      expect(error.message).toContain('CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true');
    }
  });

  it('turn on only with CREDENTIALS_ALLOW_DEVELOPMENT_KEYS=true, loudly, with one token key per caller', () => {
    const config = resolve({ NODE_ENV: 'development', CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: 'true' });
    expect(config.CREDENTIALS_ACTIVE_MASTER_KEY).toBe('dev');
    expect(config.SANITEL_CERTIFICATE_FILE).toMatch(/SanitelCF_.*\.pem$/);
    expect(config.sanitelCertificateFiles).toEqual({
      production: [config.SANITEL_CERTIFICATE_FILE],
      test: [config.SANITEL_CERTIFICATE_FILE],
    });
    expect(config.developmentWarnings.join('\n')).toMatch(/PUBLIC development values/);
    const keys = parseServiceTokenKeys(config.SERVICE_TOKEN_KEYS!);
    expect(keys.map(({ issuer, scopes }) => ({ issuer, scopes }))).toEqual([
      { issuer: 'gateway', scopes: ['credentials:manage'] },
      { issuer: 'submitter', scopes: ['credentials:lease', 'credentials:report'] },
    ]);
    expect(keys[0]!.secret.equals(keys[1]!.secret)).toBe(false);
  });

  it('are refused in production, and the flag accepts only "true" or "false"', () => {
    expect(
      configErrorOf({ NODE_ENV: 'production', CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: 'true' }).issues,
    ).toContainEqual(expect.objectContaining({ variable: 'CREDENTIALS_ALLOW_DEVELOPMENT_KEYS' }));
    expect(() => resolve({ CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: 'yes' })).toThrow(
      /CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: must be "true" or "false"/,
    );
  });

  it('leave configured secrets alone and warn about nothing', () => {
    const secret = randomBytes(32).toString('base64');
    const config = resolve({
      CREDENTIALS_MASTER_KEYS: `v1:${secret}`,
      CREDENTIALS_ACTIVE_MASTER_KEY: 'v1',
      SERVICE_TOKEN_KEYS: `gw:gateway:credentials:manage:${secret}`,
      SANITEL_CERTIFICATE_FILE: '/etc/sts/sanitel.pem',
    });
    expect(config).toMatchObject({
      CREDENTIALS_MASTER_KEYS: `v1:${secret}`,
      SERVICE_TOKEN_KEYS: `gw:gateway:credentials:manage:${secret}`,
      SANITEL_CERTIFICATE_FILE: '/etc/sts/sanitel.pem',
      developmentWarnings: [],
    });
  });

  it('list several SanitelCF certificates: the old single file and the list together, test defaulting to production', () => {
    const secret = randomBytes(32).toString('base64');
    const keys = {
      CREDENTIALS_MASTER_KEYS: `v1:${secret}`,
      CREDENTIALS_ACTIVE_MASTER_KEY: 'v1',
      SERVICE_TOKEN_KEYS: `gw:gateway:credentials:manage:${secret}`,
    };
    expect(
      resolve({
        ...keys,
        SANITEL_CERTIFICATE_FILE: '/etc/sts/SanitelCF-2024.pem',
        SANITEL_CERTIFICATE_FILES: '/etc/sts/SanitelCF-2027.cer, /etc/sts/SanitelCF-2024.pem',
      }).sanitelCertificateFiles,
    ).toEqual({
      production: ['/etc/sts/SanitelCF-2024.pem', '/etc/sts/SanitelCF-2027.cer'],
      test: ['/etc/sts/SanitelCF-2024.pem', '/etc/sts/SanitelCF-2027.cer'],
    });
    expect(
      resolve({
        ...keys,
        SANITEL_CERTIFICATE_FILES: '/etc/sts/a.pem\n/etc/sts/b.pem',
        SANITEL_TEST_CERTIFICATE_FILES: '/sim/current.pem,/sim/next.pem',
      }).sanitelCertificateFiles,
    ).toEqual({
      production: ['/etc/sts/a.pem', '/etc/sts/b.pem'],
      test: ['/sim/current.pem', '/sim/next.pem'],
    });
    // A list of nothing is no certificate.
    expect(
      configErrorOf({ ...keys, SANITEL_CERTIFICATE_FILES: ' , ' }).issues.map((issue) => issue.variable),
    ).toEqual(['SANITEL_CERTIFICATE_FILES or SANITEL_CERTIFICATE_FILE']);
  });
});
