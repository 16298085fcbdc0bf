import { fileURLToPath } from 'node:url';

/**
 * Where the official Sistema TS kit lives: `STS_KIT_DIR`, else `shared/sts-kit` beside the repository
 * (as on developer machines and in CI). For tests, benchmarks and the simulator only: production
 * configures the certificate path explicitly.
 */
export function stsKitDir(): string {
  return process.env.STS_KIT_DIR ?? fileURLToPath(new URL('../../../../../shared/sts-kit/', import.meta.url));
}
