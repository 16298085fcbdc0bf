import { type DestinationStream, type Logger, pino } from 'pino';
import { serializeError } from './error-serializer.ts';

export type { Logger } from 'pino';

/**
 * Field names whose values never reach a log line, at any depth we log objects at. STS secrets
 * (password, pincode), our own keys and tokens, and the patient's codice fiscale in every spelling
 * the code base uses (English in our API, Italian at the protocol edge).
 */
export const REDACTED_KEYS = [
  'password',
  'newPassword',
  'pincode',
  'pinCode',
  'pin',
  'encryptedPincode',
  'entratelPin',
  'passphrase',
  'clientCertificatePassphrase',
  'pkcs12',
  'clientCertificatePkcs12',
  'pfx',
  'secret',
  'apiKey',
  'token',
  'authorization',
  'cookie',
  'privateKey',
  'masterKey',
  'dataKey',
  // Codici fiscali: the patient's (health data) and, by the same name in our model, the owner's.
  'taxCode',
  'patientTaxCode',
  'ownerTaxCode',
  'cfCittadino',
  'cfProprietario',
  'codiceFiscaleCittadino',
] as const;

// pino's redaction takes explicit paths (no recursive wildcard): cover the key at the top and up to
// five levels down, deeper than anything we log, plus the headers request objects carry.
const REDACT_DEPTH = 5;
const redactPaths = [
  ...REDACTED_KEYS.flatMap((key) =>
    Array.from({ length: REDACT_DEPTH + 1 }, (_, depth) => `${'*.'.repeat(depth)}${key}`),
  ),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  name: string;
  level: string;
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger({ name, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      // Errors never carry a query's parameters or a request's raw bytes into a line (see there).
      serializers: { err: serializeError, error: serializeError },
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
