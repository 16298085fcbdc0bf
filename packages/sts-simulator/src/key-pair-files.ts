import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSanitelStandIn, parseSanitelCertificate } from '@sts/sts';
import { z } from 'zod';
import { type SimulatorUserInput, simulatorUserSchema } from './users/simulator-user.ts';

/**
 * The stand-in key pair from PEM files, so a restarted simulator keeps the key clients were given:
 * both files present are loaded; both absent are generated and written (key readable by the owner
 * only); one without the other is a configuration error.
 */
export function loadOrCreateKeyPair(files: { certificate: string; privateKey: string }): {
  certificatePem: string;
  privateKeyPem: string;
  created: boolean;
} {
  const haveCertificate = existsSync(files.certificate);
  const haveKey = existsSync(files.privateKey);
  if (haveCertificate && haveKey) {
    const certificatePem = readFileSync(files.certificate, 'utf8');
    const certificate = parseSanitelCertificate(certificatePem, { source: files.certificate });
    const privateKeyPem = readFileSync(files.privateKey, 'utf8');
    let matches = false;
    try {
      const publicKey = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
      matches = publicKey.equals(certificate.publicKey.export({ type: 'spki', format: 'der' }));
    } catch {
      throw new Error(`${files.privateKey} is not a PEM private key`);
    }
    // A key that does not open what the certificate seals would refuse every client, silently.
    if (!matches) throw new Error(`${files.privateKey} is not the private key of ${files.certificate}`);
    return { certificatePem, privateKeyPem, created: false };
  }
  if (haveCertificate !== haveKey) {
    throw new Error(
      `STS_SIM_CERTIFICATE_FILE and STS_SIM_PRIVATE_KEY_FILE: ${haveCertificate ? files.privateKey : files.certificate} is missing; give both files or neither (both are then generated)`,
    );
  }
  const generated = generateSanitelStandIn();
  mkdirSync(path.dirname(files.certificate), { recursive: true });
  mkdirSync(path.dirname(files.privateKey), { recursive: true });
  writeFileSync(files.certificate, generated.certificatePem);
  writeFileSync(files.privateKey, generated.privateKeyPem, { mode: 0o600 });
  return { ...generated, created: true };
}

/**
 * Several key pairs (a SanitelCF renewal: the current stand-in and the next, or the previous): the
 * certificate and key files are paired by position, and each pair is loaded or generated as above.
 * The first pair is the current one (the certificate `GET /__admin/certificate` serves).
 */
export function loadOrCreateKeyPairs(files: { certificates: string[]; privateKeys: string[] }) {
  if (files.certificates.length !== files.privateKeys.length || files.certificates.length === 0) {
    throw new Error(
      `STS_SIM_CERTIFICATE_FILE and STS_SIM_PRIVATE_KEY_FILE: as many private key files (${files.privateKeys.length}) as certificate files (${files.certificates.length}), paired by position`,
    );
  }
  return files.certificates.map((certificate, index) =>
    loadOrCreateKeyPair({ certificate, privateKey: files.privateKeys[index]! }),
  );
}

/** A comma-separated list of paths, blanks dropped. */
export const pathList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const usersSchema = z.array(simulatorUserSchema);

/** Accounts from a JSON file and/or inline JSON (both arrays of accounts). Errors name the entry and field. */
export function loadConfiguredUsers(sources: { file?: string; inline?: string }): SimulatorUserInput[] {
  const users: SimulatorUserInput[] = [];
  const read = (text: string, origin: string) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${origin}: not valid JSON (${(error as Error).message})`);
    }
    const result = usersSchema.safeParse(json);
    if (!result.success) {
      const problems = result.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`,
      );
      throw new Error(`${origin}: ${problems.join('; ')}`);
    }
    users.push(...(json as SimulatorUserInput[]));
  };
  if (sources.file) read(readFileSync(sources.file, 'utf8'), `STS_SIM_USERS_FILE (${sources.file})`);
  if (sources.inline) read(sources.inline, 'STS_SIM_USERS');
  return users;
}
