import { type Clock, type Pool, systemClock } from '@sts/shared';
import { type ApiKeyService, createApiKeyService } from '../src/api-keys/api-key-service.ts';
import { createDatabase } from '../src/db/database.ts';
import { createTenantService, type TenantService } from '../src/tenants/tenant-service.ts';

/**
 * The gateway's tenant and API-key services on a test database, for tests outside the gateway
 * (tests/no-5xx) that need tenants and keys: what the CLI does, without a child process.
 */
export function gatewayAccounts(
  pool: Pool,
  clock: Clock = systemClock,
): {
  tenants: TenantService;
  apiKeys: ApiKeyService;
} {
  const db = createDatabase(pool);
  return { tenants: createTenantService({ db, clock }), apiKeys: createApiKeyService({ db, clock }) };
}

export { CREDENTIALS_BODY_LIMIT } from '../src/credentials/credential-routes.ts';
/**
 * The credentials service's client, for tests that start the real credentials service and give the
 * gateway's `buildApp` a client of it (`credentials`), as `main.ts` does (tests/gateway-credentials).
 */
export {
  type CredentialSummary,
  type CredentialsClient,
  type CredentialsClientOptions,
  CredentialsUnavailableError,
  createCredentialsClient,
} from '../src/credentials/credentials-client.ts';
export { createCredentialDirectory } from '../src/invoices/credential-directory.ts';
/**
 * The gateway's client of the submitter's proof routes, for tests that start the submitter's routes
 * and give the gateway's `buildApp` a client of them (`submissionProofs`), as `main.ts` does
 * (tests/gateway-receipts).
 */
export {
  createSubmissionProofClient,
  type SubmissionProofClient,
} from '../src/submissions/submission-proof-client.ts';
export { testInvoiceDeps } from './invoice-deps.ts';
export { CLINIC_VAT_NUMBER, invoiceEvent, patientTaxCode, vatNumber } from './invoice-events.ts';
export { insertInvoiceRow, type TestInvoiceRow } from './invoice-rows.ts';
