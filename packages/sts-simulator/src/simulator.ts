import { type Clock, createHttpApp, createLogger, type Logger, systemClock } from '@sts/shared';
import { generateSanitelStandIn, stsKitDir } from '@sts/sts';
import type { FastifyInstance } from 'fastify';
import { registerAdminRoutes } from './admin/admin-routes.ts';
import { generateAdminToken, MIN_ADMIN_TOKEN_LENGTH } from './admin/admin-token.ts';
import { registerCitizenReportAdminRoutes } from './citizen-reports/citizen-report-admin.ts';
import {
  createCitizenReportDetailHandler,
  createCitizenReportListHandler,
} from './citizen-reports/citizen-report-handlers.ts';
import type { CitizenReportStore } from './citizen-reports/citizen-report-store.ts';
import {
  createFieldDecryptor,
  type DecryptionSettings,
  type FieldDecryptor,
} from './crypto/field-decryptor.ts';
import { KIT_SAMPLE_CIPHERTEXTS } from './crypto/kit-ciphertexts.ts';
import type { DocumentArchive } from './documents/document-archive.ts';
import { type CalendarMode, createDocumentIntake } from './documents/document-intake.ts';
import { type CallCounters, createCallCounters } from './faults/call-counters.ts';
import { createFaultInjector, type FaultInjector } from './faults/fault-injector.ts';
import { createMonthlyReportHandler, createPointQueryHandler } from './queries/query-handlers.ts';
import { createErrorDetailHandler } from './receipts/error-detail-handler.ts';
import { createOutcomeHandler } from './receipts/outcome-handler.ts';
import { createPdfReceiptHandler } from './receipts/pdf-receipt-handler.ts';
import { createSchemaValidator, loadSchemaBundles, type SchemaValidator } from './schema/schema-validator.ts';
import { createSingleDocumentHandler } from './single-document/single-document-handler.ts';
import { registerSoapRoutes } from './soap/soap-routes.ts';
import { publicBaseUrl, registerWsdlRoutes } from './soap/wsdl-routes.ts';
import { createSimulatorState } from './state/simulator-state.ts';
import { openStateJournal } from './state/state-journal.ts';
import { createUploadHandler } from './uploads/upload-handler.ts';
import { createUploadProcessor, type UploadProcessor } from './uploads/upload-processor.ts';
import type { UploadStore } from './uploads/upload-store.ts';
import { loadKitUsers } from './users/kit-users.ts';
import type { SimulatorUserInput } from './users/simulator-user.ts';
import type { UserDirectory } from './users/user-directory.ts';

/** Everything is optional: `buildSimulator()` gives the kit's users, a fresh key, in-memory state. */
export interface SimulatorOptions {
  logger?: Logger;
  /** The official kit (WSDLs, XSDs, test users): default `STS_KIT_DIR` or the kit in `packages/sts/kit/`. */
  kitDir?: string;
  /** Serve the kit's test users (default true). */
  includeKitUsers?: boolean;
  /** More accounts (added to, or replacing, kit users of the same name). */
  users?: SimulatorUserInput[];
  /** The stand-in SanitelCF key pair; generated when absent. */
  keyPair?: { certificatePem: string; privateKeyPem: string };
  /**
   * Further key pairs whose ciphertexts are accepted too: a renewal's next certificate (or the
   * previous one). Each encrypted field is decrypted with whichever key matches.
   */
  moreKeyPairs?: { certificatePem: string; privateKeyPem: string }[];
  decryption?: Partial<DecryptionSettings>;
  /** Validate requests and uploaded files against the XSDs (default true). */
  schemaValidation?: boolean;
  /** Threads running the validator (default 2). */
  validationWorkers?: number;
  /** Time from reception to the outcome of an upload (default 3000 ms). */
  processingDelayMs?: number;
  /**
   * Time from the end of processing until DettaglioErrori and RicevutaPdf give the receipt; until then
   * they answer WS15 "not ready yet" (default 0: at once).
   */
  receiptDelayMs?: number;
  /** Larger zips get 108 (default 5 MiB). */
  maxFileBytes?: number;
  /**
   * Zips whose file inflates beyond this get 102 (default 64 MiB): a guard against zip bombs. A 5 MB
   * zip of 730 XML inflates some 5 to 10 times.
   */
  maxUncompressedBytes?: number;
  /** Larger HTTP bodies are refused with 413 (default 32 MiB). */
  bodyLimitBytes?: number;
  /** Consecutive wrong passwords that lock an account (default 8, MED15 §1.2). */
  lockoutThreshold?: number;
  /** Check the check character of patient codici fiscali (default false: kit-style test codes pass). */
  strictTaxCodes?: boolean;
  /**
   * The STS calendar, counted on the `clock`'s day of reception: `enforce` (default) refuses a payment
   * of a closed tax year (S035) and accepts a late one with W008; `relaxed` lifts both, as the kit
   * test environment seems to. Dates after the day of reception are refused (S909) either way.
   */
  calendar?: CalendarMode;
  /** NDJSON journal to persist state across restarts; in memory only when absent. */
  stateFile?: string;
  /** The token every `/__admin/` route needs (≥ 16 characters); generated when absent (`Simulator.adminToken`). */
  adminToken?: string;
  /**
   * Base URL written into served WSDLs (http or https, no query); default: the address the app listens
   * on. Never taken from a request's `Host` or `X-Forwarded-*`.
   */
  publicUrl?: string;
  clock?: Clock;
  random?: () => number;
}

export interface Simulator {
  /** Not listening yet: call `app.listen({ port: 0 })`; `app.close()` stops everything. */
  app: FastifyInstance;
  /** The stand-in SanitelCF certificate (PEM) clients must encrypt with; also at `GET /__admin/certificate`. */
  certificatePem: string;
  privateKeyPem: string;
  /** Every key pair it decrypts with: `keyPair` (the one above) first, then `moreKeyPairs`. */
  keyPairs: { certificatePem: string; privateKeyPem: string }[];
  /** What `/__admin/` needs, as `Authorization: Bearer <token>` or `x-admin-token`. */
  adminToken: string;
  users: UserDirectory;
  archive: DocumentArchive;
  uploads: UploadStore;
  faults: FaultInjector;
  calls: CallCounters;
  decryptor: FieldDecryptor;
  processor: UploadProcessor;
  /** The citizen reports seeded (`POST /__admin/citizen-reports`). */
  citizenReports: CitizenReportStore;
  /** Processes every queued upload now. */
  processUploads(): Promise<void>;
  /** Same as `POST /__admin/reset`. */
  reset(): void;
}

export const DEFAULTS = {
  processingDelayMs: 3000,
  receiptDelayMs: 0,
  maxFileBytes: 5 * 1024 * 1024,
  maxUncompressedBytes: 64 * 1024 * 1024,
  bodyLimitBytes: 32 * 1024 * 1024,
  lockoutThreshold: 8,
  validationWorkers: 2,
  calendar: 'enforce' as CalendarMode,
  decryption: { mode: 'full', sampleEvery: 10 } satisfies DecryptionSettings,
} as const;

export async function buildSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const logger = options.logger ?? createLogger({ name: 'sts-simulator', level: 'silent' });
  const clock = options.clock ?? systemClock;
  const kitDir = options.kitDir ?? stsKitDir();
  const keyPair = options.keyPair ?? generateSanitelStandIn({ clock });
  const keyPairs = [keyPair, ...(options.moreKeyPairs ?? [])];
  const settings = {
    processingDelayMs: options.processingDelayMs ?? DEFAULTS.processingDelayMs,
    receiptDelayMs: options.receiptDelayMs ?? DEFAULTS.receiptDelayMs,
  };
  const maxUncompressedBytes = options.maxUncompressedBytes ?? DEFAULTS.maxUncompressedBytes;
  const publicUrl = options.publicUrl === undefined ? undefined : publicBaseUrl(options.publicUrl);
  const adminToken = options.adminToken ?? generateAdminToken();
  if (adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new Error(`adminToken: must have at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  }

  const kit = options.includeKitUsers === false ? undefined : loadKitUsers(kitDir);
  const knownCiphertexts = new Map<string, string | null>(kit?.ciphertexts ?? []);
  for (const sample of KIT_SAMPLE_CIPHERTEXTS) knownCiphertexts.set(sample.ciphertext, sample.plaintext);
  const decryptor = createFieldDecryptor({
    privateKeyPem: keyPairs.map((pair) => pair.privateKeyPem),
    settings: { ...DEFAULTS.decryption, ...options.decryption },
    knownCiphertexts,
  });

  const state = createSimulatorState({
    journal: options.stateFile ? openStateJournal(options.stateFile) : undefined,
    users: [...(kit?.users ?? []), ...(options.users ?? [])],
    lockoutThreshold: options.lockoutThreshold ?? DEFAULTS.lockoutThreshold,
    clock,
  });
  state.restore();
  const { archive, uploads, users, citizenReports } = state;

  const schemaValidation = options.schemaValidation ?? true;
  const validator: SchemaValidator | undefined = schemaValidation
    ? createSchemaValidator({
        bundles: loadSchemaBundles(kitDir),
        workers: options.validationWorkers ?? DEFAULTS.validationWorkers,
      })
    : undefined;
  const intake = createDocumentIntake({
    archive,
    decryptor,
    strictTaxCodes: options.strictTaxCodes ?? false,
    calendar: options.calendar ?? DEFAULTS.calendar,
  });
  const processor = createUploadProcessor({
    uploads,
    intake,
    decryptor,
    validator,
    clock,
    maxUncompressedBytes,
    processingDelayMs: () => settings.processingDelayMs,
    logger,
  });
  for (const record of uploads.list()) processor.schedule(record);
  const faults = createFaultInjector({ random: options.random ?? Math.random, now: () => clock().getTime() });
  const calls = createCallCounters();
  const receiptReadiness = { faults, clock, receiptDelayMs: () => settings.receiptDelayMs };

  const app = createHttpApp({ logger, bodyLimit: options.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes });
  // SOAP bodies (text/xml, multipart/related, anything but JSON) arrive as raw bytes.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const singleDocument = createSingleDocumentHandler({ intake, uploads, decryptor });
  registerSoapRoutes(app, {
    handlers: {
      upload: createUploadHandler({
        uploads,
        processor,
        decryptor,
        clock,
        maxFileBytes: options.maxFileBytes ?? DEFAULTS.maxFileBytes,
        maxUncompressedBytes,
        processingDelayMs: () => settings.processingDelayMs,
      }),
      outcome: createOutcomeHandler({ uploads, processor, clock, decryptor }),
      errorDetail: createErrorDetailHandler({ uploads, decryptor, ...receiptReadiness }),
      pdfReceipt: createPdfReceiptHandler({ uploads, decryptor, ...receiptReadiness }),
      insert: singleDocument,
      update: singleDocument,
      refund: singleDocument,
      cancel: singleDocument,
      pointQuery: createPointQueryHandler({ archive, decryptor }),
      monthlyReport: createMonthlyReportHandler({ archive, decryptor }),
      citizenReportDetail: createCitizenReportDetailHandler({ archive, decryptor, reports: citizenReports }),
      citizenReportList: createCitizenReportListHandler({ archive, decryptor, reports: citizenReports }),
    },
    users,
    validator,
    faults,
    calls,
    clock,
    logger,
  });
  registerWsdlRoutes(app, { kitDir, publicUrl });

  const reset = () => {
    state.reset();
    faults.clear();
    calls.clear();
  };
  registerAdminRoutes(app, {
    adminToken,
    certificatePem: keyPair.certificatePem,
    users,
    faults,
    calls,
    archive,
    uploads,
    processor,
    decryptor,
    settings,
    schemaValidation,
    reset,
    clock,
    routes: [
      (admin) => registerCitizenReportAdminRoutes(admin, { reports: citizenReports, archive, users, clock }),
    ],
  });
  app.get('/health', async () => ({ status: 'ok', service: 'sts-simulator' }));

  app.addHook('onClose', async () => {
    await processor.close();
    await validator?.close();
    await state.close();
  });

  return {
    app,
    certificatePem: keyPair.certificatePem,
    privateKeyPem: keyPair.privateKeyPem,
    keyPairs,
    adminToken,
    users,
    archive,
    uploads,
    faults,
    calls,
    decryptor,
    processor,
    citizenReports,
    processUploads: () => processor.processAll(),
    reset,
  };
}
