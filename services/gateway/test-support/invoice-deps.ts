import { createTestEncryption, type TestEncryption } from '@sts/sts/testing';
import type { InvoiceDeps } from '../src/app.ts';
import { createCredentialDirectory, type SenderCredential } from '../src/invoices/credential-directory.ts';
import { createPatientHasher, type PatientHasher } from '../src/invoices/patient-privacy.ts';

/**
 * What `buildApp` needs to take invoice events in a test that does not start the credentials
 * service: the tenants' credentials from `credentialsOf` (a map the test fills), a throw-away
 * SanitelCF-style key pair (`encryption.decrypt` reads what was stored), fixed hash keys, no relay
 * unless asked. Tests across services give the real credentials client instead (main.ts).
 */
export function testInvoiceDeps(options: { relay?: InvoiceDeps['relay'] } = {}): {
  invoices: InvoiceDeps;
  patientHasher: PatientHasher;
  encryption: TestEncryption;
  credentials: Map<string, SenderCredential[]>;
} {
  const encryption = createTestEncryption();
  const credentials = new Map<string, SenderCredential[]>();
  return {
    encryption,
    credentials,
    patientHasher: createPatientHasher(Buffer.alloc(32, 7)),
    invoices: {
      directory: createCredentialDirectory({
        list: async (tenantId) => credentials.get(tenantId) ?? [],
        ttlMs: 0,
      }),
      encryptors: { test: encryption.encryptor, production: encryption.encryptor },
      requestHashKey: Buffer.alloc(32, 9),
      testCalendar: 'relaxed',
      relay: options.relay ?? false,
    },
  };
}
