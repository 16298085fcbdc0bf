/**
 * RSA throughput of SanitelCF encryption and of the simulator's decryption, on one core (every
 * operation below is synchronous on the main thread).
 *
 *   node packages/sts/bench/rsa.ts [secondsPerCase]
 *
 * Encryption uses the real SanitelCF 2024 certificate; decryption needs a private key, so it uses a
 * stand-in RSA-1024 key of the same shape.
 */
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { loadSanitelCertificate, parseSanitelCertificate } from '../src/crypto/sanitel-certificate.ts';
import { createSanitelDecryptor } from '../src/crypto/sanitel-decryptor.ts';
import { createSanitelEncryptor } from '../src/crypto/sanitel-encryptor.ts';
import { generateSanitelStandIn } from '../src/crypto/sanitel-stand-in.ts';
import { stsKitDir } from '../src/crypto/sts-kit-dir.ts';

const secondsPerCase = Number(process.argv[2] ?? 2);
const PLAIN = 'RSSMRA85T10A562S';

interface Result {
  name: string;
  operations: number;
  seconds: number;
}

/** Runs `operation` for about `seconds` after a short warm-up; checks the time every 50 calls. */
function measure(name: string, operation: () => unknown): Result {
  for (let i = 0; i < 200; i++) operation();
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(secondsPerCase * 1e9));
  let operations = 0;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 50; i++) operation();
    operations += 50;
    elapsed = process.hrtime.bigint() - start;
  }
  return { name, operations, seconds: Number(elapsed) / 1e9 };
}

function check(condition: boolean, what: string) {
  if (!condition) throw new Error(`benchmark self-check failed: ${what}`);
}

const certificatePath = join(stsKitDir(), 'certs', 'SanitelCF_2024-01-23_to_2027-01-23.pem');
const realCertificate = loadSanitelCertificate(certificatePath);
const encryptor = createSanitelEncryptor(realCertificate);
const forgeRealKey = forge.pki.certificateFromPem(readFileSync(certificatePath, 'latin1'))
  .publicKey as forge.pki.rsa.PublicKey;

const standIn = generateSanitelStandIn();
const standInCertificate = parseSanitelCertificate(standIn.certificatePem);
const decryptor = createSanitelDecryptor(standIn.privateKeyPem);
const forgePrivateKey = forge.pki.privateKeyFromPem(standIn.privateKeyPem);
const ciphertext = createSanitelEncryptor(standInCertificate).encrypt(PLAIN);
const ciphertextBytes = Buffer.from(ciphertext, 'base64');
const ciphertextBinary = forge.util.decode64(ciphertext);
const nativePrivateKey = createPrivateKey(standIn.privateKeyPem);

check(encryptor.encrypt(PLAIN).length === 172, 'node:crypto ciphertext is 172 characters');
check(
  forge.util.encode64(forgeRealKey.encrypt(PLAIN, 'RSAES-PKCS1-V1_5')).length === 172,
  'forge ciphertext',
);
check(decryptor.decrypt(ciphertext) === PLAIN, 'our decryptor round-trips');
check(forgePrivateKey.decrypt(ciphertextBinary, 'RSAES-PKCS1-V1_5') === PLAIN, 'forge decrypts');

const results: Result[] = [
  measure('encrypt  node:crypto publicEncrypt PKCS#1 v1.5 (createSanitelEncryptor)', () =>
    encryptor.encrypt(PLAIN),
  ),
  measure('encrypt  node-forge publicKey.encrypt RSAES-PKCS1-V1_5', () =>
    forge.util.encode64(forgeRealKey.encrypt(PLAIN, 'RSAES-PKCS1-V1_5')),
  ),
  measure('decrypt  node:crypto RSA_NO_PADDING + our unpadding (createSanitelDecryptor)', () =>
    decryptor.decrypt(ciphertext),
  ),
  measure('decrypt  node-forge privateKey.decrypt RSAES-PKCS1-V1_5', () =>
    forgePrivateKey.decrypt(ciphertextBinary, 'RSAES-PKCS1-V1_5'),
  ),
  measure('decrypt  node:crypto privateDecrypt PKCS#1 (implicit rejection; reference only)', () =>
    privateDecrypt({ key: nativePrivateKey, padding: constants.RSA_PKCS1_PADDING }, ciphertextBytes),
  ),
];

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`# RSA-1024 SanitelCF benchmark — ${new Date().toISOString()}`);
console.log(`# ${cpu}; ${cpus().length} logical CPUs; ${platform()} ${release()}; Node ${process.version}`);
console.log(`# OpenSSL ${process.versions.openssl}; one core, ${secondsPerCase}s per case\n`);
const width = Math.max(...results.map((result) => result.name.length));
console.log(`${'operation'.padEnd(width)}  ${'ops/s'.padStart(10)}  ${'µs/op'.padStart(8)}`);
console.log(`${'-'.repeat(width)}  ${'-'.repeat(10)}  ${'-'.repeat(8)}`);
for (const result of results) {
  const perSecond = result.operations / result.seconds;
  console.log(
    `${result.name.padEnd(width)}  ${Math.round(perSecond).toString().padStart(10)}  ${(1e6 / perSecond).toFixed(1).padStart(8)}`,
  );
}
const rate = (index: number) => results[index]!.operations / results[index]!.seconds;
console.log(
  `\nnode:crypto vs node-forge: encrypt ×${(rate(0) / rate(1)).toFixed(1)}, decrypt ×${(rate(2) / rate(3)).toFixed(1)}`,
);
