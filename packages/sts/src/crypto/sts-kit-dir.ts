import { fileURLToPath } from 'node:url';

/** The kit inside this package, whatever `STS_KIT_DIR` says. */
export const BUNDLED_KIT_DIR = fileURLToPath(new URL('../../kit/', import.meta.url));

/** Read once, when the package loads: every reader below sees the same kit for the whole process. */
const KIT_DIR = process.env.STS_KIT_DIR ?? BUNDLED_KIT_DIR;

/**
 * The official Sistema TS kit files this project carries (`packages/sts/kit/`, see its README), or
 * `STS_KIT_DIR` (read once, when the package loads) when a newer kit with the same layout is to be
 * tried. The SOAP clients (WSDLs and the test environment's CA, `soap/endpoints.ts`), schema
 * validation, the simulator and the tests all read from here; production configures the SanitelCF
 * certificate path explicitly.
 */
export function stsKitDir(): string {
  return KIT_DIR;
}
