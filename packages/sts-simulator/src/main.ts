import { createLogger, createShutdown, loadConfigOrExit } from '@sts/shared';
import { parseSanitelCertificate } from '@sts/sts';
import { simulatorConfigSchema } from './config.ts';
import { loadConfiguredUsers, loadOrCreateKeyPair } from './key-pair-files.ts';
import { buildSimulator } from './simulator.ts';

const config = loadConfigOrExit(simulatorConfigSchema);
const logger = createLogger({ name: 'sts-simulator', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });

let users: ReturnType<typeof loadConfiguredUsers>;
let keyPair: ReturnType<typeof loadOrCreateKeyPair> | undefined;
try {
  users = loadConfiguredUsers({ file: config.STS_SIM_USERS_FILE, inline: config.STS_SIM_USERS });
  keyPair =
    config.STS_SIM_CERTIFICATE_FILE && config.STS_SIM_PRIVATE_KEY_FILE
      ? loadOrCreateKeyPair({
          certificate: config.STS_SIM_CERTIFICATE_FILE,
          privateKey: config.STS_SIM_PRIVATE_KEY_FILE,
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
  ...(keyPair ? { keyPair } : {}),
  decryption: { mode: config.STS_SIM_DECRYPTION, sampleEvery: config.STS_SIM_DECRYPTION_SAMPLE_EVERY },
  schemaValidation: config.STS_SIM_SCHEMA_VALIDATION,
  validationWorkers: config.STS_SIM_VALIDATION_WORKERS,
  processingDelayMs: config.STS_SIM_PROCESSING_DELAY_MS,
  maxFileBytes: config.STS_SIM_MAX_FILE_BYTES,
  maxUncompressedBytes: config.STS_SIM_MAX_UNCOMPRESSED_BYTES,
  bodyLimitBytes: config.STS_SIM_BODY_LIMIT_BYTES,
  lockoutThreshold: config.STS_SIM_LOCKOUT_THRESHOLD,
  strictTaxCodes: config.STS_SIM_STRICT_TAX_CODES,
  ...(config.STS_SIM_STATE_FILE ? { stateFile: config.STS_SIM_STATE_FILE } : {}),
  ...(config.STS_SIM_ADMIN_TOKEN ? { adminToken: config.STS_SIM_ADMIN_TOKEN } : {}),
  ...(config.STS_SIM_PUBLIC_URL ? { publicUrl: config.STS_SIM_PUBLIC_URL } : {}),
});
shutdown.register('http', () => simulator.app.close());
shutdown.onSignals();

const address = await simulator.app.listen({ host: config.HOST, port: config.PORT });
const certificate = parseSanitelCertificate(simulator.certificatePem, { source: 'stand-in' });
logger.info(
  {
    address,
    users: simulator.users.list().length,
    certificate: {
      fingerprintSha256: certificate.fingerprintSha256,
      generated: keyPair?.created ?? !keyPair,
    },
    decryption: simulator.decryptor.settings(),
    stateFile: config.STS_SIM_STATE_FILE ?? null,
  },
  `STS simulator listening on ${address}; certificate at ${address}/__admin/certificate`,
);
