import { fileURLToPath } from 'node:url';

/**
 * The official Sistema TS kit files this project carries (`packages/sts/kit/`, see its README), or
 * `STS_KIT_DIR` when a newer kit with the same layout is to be tried. The SOAP clients, schema
 * validation, the simulator and the tests all read from here; production configures the SanitelCF
 * certificate path explicitly.
 */
export function stsKitDir(): string {
  return process.env.STS_KIT_DIR ?? BUNDLED_KIT_DIR;
}

/** The kit inside this package, whatever `STS_KIT_DIR` says. */
export const BUNDLED_KIT_DIR = fileURLToPath(new URL('../../kit/', import.meta.url));
