import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_KIT_DIR, stsKitDir } from '../crypto/sts-kit-dir.ts';
import { STS_SERVICES, TEST_ENVIRONMENT_CA, wsdlPath } from './endpoints.ts';

const KIT = 'kit730P_ver_20201218';

/** What `endpoints.ts` resolves in a fresh process whose environment holds `env`. */
function resolvedIn(env: Record<string, string>) {
  const script = `
    const endpoints = await import(process.env.ENDPOINTS_URL);
    const kit = await import(process.env.KIT_DIR_URL);
    process.env.STS_KIT_DIR = '/elsewhere';
    console.log(JSON.stringify({
      kitDir: kit.stsKitDir(),
      wsdl: endpoints.wsdlPath('upload'),
      ca: endpoints.TEST_ENVIRONMENT_CA,
    }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      ...env,
      ENDPOINTS_URL: pathToFileURL(path.join(import.meta.dirname, 'endpoints.ts')).href,
      KIT_DIR_URL: pathToFileURL(path.join(import.meta.dirname, '../crypto/sts-kit-dir.ts')).href,
    },
    encoding: 'utf8',
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout) as { kitDir: string; wsdl: string; ca: string };
}

describe('endpoints', () => {
  const copies: string[] = [];
  afterAll(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every WSDL and the test CA from the kit', () => {
    expect(stsKitDir()).toBe(process.env.STS_KIT_DIR ?? BUNDLED_KIT_DIR);
    for (const service of Object.keys(STS_SERVICES) as (keyof typeof STS_SERVICES)[]) {
      expect(wsdlPath(service).startsWith(path.join(stsKitDir(), KIT))).toBe(true);
      expect(existsSync(wsdlPath(service)), service).toBe(true);
    }
    expect(existsSync(TEST_ENVIRONMENT_CA)).toBe(true);
  });

  it('STS_KIT_DIR points the SOAP client at another kit too, read once when the package loads', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'sts-kit-'));
    copies.push(other);
    for (const part of ['TracciatiWS', 'certificatiFirma']) {
      cpSync(path.join(BUNDLED_KIT_DIR, KIT, part), path.join(other, KIT, part), { recursive: true });
    }
    const resolved = resolvedIn({ STS_KIT_DIR: other });
    expect(resolved.kitDir).toBe(other);
    expect(resolved.wsdl).toBe(path.join(other, KIT, 'TracciatiWS', STS_SERVICES.upload.wsdl));
    expect(resolved.ca).toBe(path.join(other, KIT, 'certificatiFirma', 'CAAgenziadelleEntrateTest.pem'));
    expect(existsSync(resolved.wsdl) && existsSync(resolved.ca)).toBe(true);
  });
});
