import path from 'node:path';
import { createLogger, createShutdown, loadConfigOrExit } from '@sts/shared';
import { parseSanitelCertificate } from '@sts/sts';
import { generateAdminToken, loadOrCreateAdminToken } from './admin/admin-token.ts';
import { simulatorConfigSchema } from './config.ts';
import { loadConfiguredUsers, loadOrCreateKeyPairs, pathList } from './key-pair-files.ts';
import { buildSimulator } from './simulator.ts';

const config = loadConfigOrExit(simulatorConfigSchema);
const logger = createLogger({ name: 'sts-simulator', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });

// The admin API always needs a token: the configured one, else the one kept in the state directory
// (generated there at the first start), else one generated for this run only.
const adminTokenFile =
  config.STS_SIM_ADMIN_TOKEN_FILE ??
  (config.STS_SIM_STATE_FILE ? path.join(path.dirname(config.STS_SIM_STATE_FILE), 'admin-token') : undefined);
let admin: { token: string; source: 'configured' | 'file' | 'generated'; file?: string };

let users: ReturnType<typeof loadConfiguredUsers>;
let keyPairs: ReturnType<typeof loadOrCreateKeyPairs> | undefined;
try {
  if (config.STS_SIM_ADMIN_TOKEN) {
    admin = { token: config.STS_SIM_ADMIN_TOKEN, source: 'configured' };
  } else if (adminTokenFile) {
    const kept = loadOrCreateAdminToken(adminTokenFile);
    admin = { token: kept.token, source: kept.created ? 'generated' : 'file', file: adminTokenFile };
  } else {
    admin = { token: generateAdminToken(), source: 'generated' };
  }
  users = loadConfiguredUsers({ file: config.STS_SIM_USERS_FILE, inline: config.STS_SIM_USERS });
  // Comma lists paired by position: the current key pair first, then e.g. a renewal's next one.
  keyPairs =
    config.STS_SIM_CERTIFICATE_FILE && config.STS_SIM_PRIVATE_KEY_FILE
      ? loadOrCreateKeyPairs({
          certificates: pathList(config.STS_SIM_CERTIFICATE_FILE),
          privateKeys: pathList(config.STS_SIM_PRIVATE_KEY_FILE),
        })
      : undefined;
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

const simulator = await buildSimulator({
  logger,
  ...(config.STS_SIM_KIT_DIR ? { kitDir: config.STS_SIM_KIT_DIR } : {}),
  includeKitUsers: config.STS_SIM_KIT_USERS,
  users,
  ...(keyPairs ? { keyPair: keyPairs[0]!, moreKeyPairs: keyPairs.slice(1) } : {}),
  decryption: { mode: config.STS_SIM_DECRYPTION, sampleEvery: config.STS_SIM_DECRYPTION_SAMPLE_EVERY },
  schemaValidation: config.STS_SIM_SCHEMA_VALIDATION,
  validationWorkers: config.STS_SIM_VALIDATION_WORKERS,
  processingDelayMs: config.STS_SIM_PROCESSING_DELAY_MS,
  receiptDelayMs: config.STS_SIM_RECEIPT_DELAY_MS,
  maxFileBytes: config.STS_SIM_MAX_FILE_BYTES,
  maxUncompressedBytes: config.STS_SIM_MAX_UNCOMPRESSED_BYTES,
  bodyLimitBytes: config.STS_SIM_BODY_LIMIT_BYTES,
  lockoutThreshold: config.STS_SIM_LOCKOUT_THRESHOLD,
  strictTaxCodes: config.STS_SIM_STRICT_TAX_CODES,
  calendar: config.STS_SIM_CALENDAR,
  ...(config.STS_SIM_STATE_FILE ? { stateFile: config.STS_SIM_STATE_FILE } : {}),
  adminToken: admin.token,
  ...(config.STS_SIM_PUBLIC_URL ? { publicUrl: config.STS_SIM_PUBLIC_URL } : {}),
});
shutdown.register('http', () => simulator.app.close());
shutdown.onSignals();

const address = await simulator.app.listen({ host: config.HOST, port: config.PORT });
const certificates = simulator.keyPairs.map((pair, index) =>
  parseSanitelCertificate(pair.certificatePem, {
    source: index === 0 ? 'stand-in' : `stand-in ${index + 1}`,
  }),
);
logger.info(
  {
    address,
    users: simulator.users.list().length,
    certificates: certificates.map((certificate, index) => ({
      fingerprintSha256: certificate.fingerprintSha256,
      serialNumber: certificate.serialNumber,
      validFrom: certificate.validFrom,
      validTo: certificate.validTo,
      current: index === 0,
      generated: keyPairs?.[index]?.created ?? !keyPairs,
    })),
    decryption: simulator.decryptor.settings(),
    calendar: config.STS_SIM_CALENDAR,
    stateFile: config.STS_SIM_STATE_FILE ?? null,
    adminApi: { tokenSource: admin.source, tokenFile: admin.file ?? null },
  },
  `STS simulator listening on ${address}; admin API at ${address}/__admin/ (token: ${
    admin.source === 'configured' ? 'STS_SIM_ADMIN_TOKEN' : (admin.file ?? 'printed on stderr, this run only')
  })`,
);
// A generated token is printed once, when it is made; after that, the file holds it.
if (admin.source === 'generated') {
  process.stderr.write(
    `STS simulator admin token (generated; ${admin.file ? `kept in ${admin.file}` : 'for this run only'}): ${admin.token}\n`,
  );
}
