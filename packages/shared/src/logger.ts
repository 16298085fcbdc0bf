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

/**
 * Query parameters whose values never reach a log line: the request line is logged with its query
 * (`GET /v1/invoices?patient=<codice fiscale>`), so the patient filter and every redacted key (in
 * whatever spelling a client may send) are replaced by `[redacted]` in the logged URL.
 */
export const REDACTED_QUERY_PARAMETERS: readonly string[] = [
  'patient',
  'cf',
  'codiceFiscale',
  ...REDACTED_KEYS,
].map((name) => name.toLowerCase());

/** `url` with the value of every redacted query parameter replaced; the whole query when it cannot be read. */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const parts = url
    .slice(mark + 1)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      const rawName = equals < 0 ? part : part.slice(0, equals);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replaceAll('+', ' ')).trim().toLowerCase();
      } catch {
        return '[redacted]';
      }
      return REDACTED_QUERY_PARAMETERS.includes(name) && equals >= 0 ? `${rawName}=[redacted]` : part;
    });
  return `${url.slice(0, mark)}?${parts.join('&')}`;
}

/**
 * The request as fastify logs it ("incoming request"), its URL's sensitive query values redacted.
 * Same fields as fastify's own serializer.
 */
function serializeRequest(request: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}) {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? redactUrl(request.url) : request.url,
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

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
      // Requests are logged with their URL, query included: sensitive query values are redacted.
      serializers: { err: serializeError, error: serializeError, req: serializeRequest },
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
