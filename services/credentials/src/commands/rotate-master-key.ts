import { createLogger, createPool, loadConfigOrExit, systemClock } from '@sts/shared';
import { z } from 'zod';
import { credentialsConfigSchema } from '../config.ts';
import { createDatabase } from '../db/database.ts';
import { createCredentialMetrics } from '../health/credential-metrics.ts';
import { createLoginBudget } from '../logins/login-budget.ts';
import { createEnvelopeEncryption } from '../vault/envelope-encryption.ts';
import { loadKeyring } from '../vault/keyring.ts';
import { rotateMasterKey } from '../vault/rotate-master-key.ts';

/**
 * Re-wraps every data key with the active master key, online:
 *
 *   node services/credentials/src/commands/rotate-master-key.ts
 *
 * with the service's environment (DATABASE_URL, CREDENTIALS_MASTER_KEYS[_FILE] holding the old and the
 * new key, CREDENTIALS_ACTIVE_MASTER_KEY = the new one). Exits 0 when no data key is left under an
 * older version (the old key can then be removed from the configuration), 2 when some are. The
 * failed-login budgets of STS logins, keyed by hashes derived from the master keys, move to the
 * active key too (`loginBudgetsRekeyed`: `moved`, and `leftUnderOlderKeys`, the budgets of logins
 * no credential holds any more, which cannot be moved and are lost when the older key is removed).
 */
const config = loadConfigOrExit(
  credentialsConfigSchema
    .pick({
      DATABASE_URL: true,
      LOG_LEVEL: true,
      CREDENTIALS_MASTER_KEYS: true,
      CREDENTIALS_MASTER_KEYS_FILE: true,
      CREDENTIALS_ACTIVE_MASTER_KEY: true,
      CREDENTIALS_LOGIN_FAILURE_BUDGET: true,
    })
    .extend({
      CREDENTIALS_ACTIVE_MASTER_KEY: z.string().min(1),
      ROTATION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
    }),
);
const logger = createLogger({ name: 'credentials-rotate-master-key', level: config.LOG_LEVEL });
const keyring = loadKeyring(config);
const pool = createPool({
  url: config.DATABASE_URL,
  max: 2,
  applicationName: 'credentials-rotate-master-key',
});
try {
  const db = createDatabase(pool);
  const report = await rotateMasterKey({
    db,
    keyring,
    envelope: createEnvelopeEncryption(keyring),
    logger,
    batchSize: config.ROTATION_BATCH_SIZE,
  });
  const loginBudgetsRekeyed = await createLoginBudget({
    db,
    clock: systemClock,
    keyring,
    metrics: createCredentialMetrics(),
    budget: config.CREDENTIALS_LOGIN_FAILURE_BUDGET,
  }).rekeyAll();
  const stale = Object.entries(report.remaining).filter(([version]) => version !== report.activeVersion);
  process.stdout.write(`${JSON.stringify({ ...report, loginBudgetsRekeyed })}\n`);
  process.exitCode = stale.length === 0 ? 0 : 2;
} finally {
  await pool.end();
}
