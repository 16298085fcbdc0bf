/**
 * How many requests per second the simulator answers, so it is known not to be the bottleneck of a
 * client benchmark. Starts the simulator as its own process (`src/main.ts`, as in production use) and
 * drives it over raw HTTP (undici, keep-alive, N connections) with envelopes shaped like the kit
 * samples: single-document inserts, small uploads and ~1 MB uploads (MTOM/XOP), each with SanitelCF
 * decryption off and full. Uploads are measured at reception (their processing is delayed past the
 * run); a last figure gives the processing rate of the big files in documents per second.
 *
 *   node packages/sts-simulator/bench/throughput.ts [seconds-per-scenario] [concurrency]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  createSanitelEncryptor,
  encryptPincode,
  encryptTaxCode,
  parseSanitelCertificate,
  type SanitelEncryptor,
} from '@sts/sts';
import { Pool } from 'undici';
import { serviceById } from '../src/protocol/services.ts';
import {
  mtomRequest,
  precompilataXml,
  precompilataZip,
  syncEnvelope,
  type TestDocument,
  uploadEnvelope,
} from '../test-support/envelopes.ts';
import { basicAuth } from '../test-support/harness.ts';
import { MEDICO, PATIENTS } from '../test-support/kit-actors.ts';

const SECONDS = Number(process.argv[2] ?? 5);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const UPLOAD_PATH = serviceById('upload').path;
const SYNC_PATH = serviceById('singleDocument').path;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const adminToken = randomBytes(32).toString('base64url');
const child = spawn(process.execPath, [fileURLToPath(new URL('../src/main.ts', import.meta.url))], {
  env: {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    STS_SIM_PROCESSING_DELAY_MS: '3600000',
    // The documents' dates are fixed: the calendar must not refuse them as time passes.
    STS_SIM_CALENDAR: 'relaxed',
    STS_SIM_ADMIN_TOKEN: adminToken,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const stop = () => child.kill('SIGTERM');
process.on('exit', stop);

for (let attempt = 0; ; attempt++) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {
    if (attempt > 200) throw new Error('the simulator did not start');
  }
  await sleep(50);
}

const adminHeaders = { authorization: `Bearer ${adminToken}` };
const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}/__admin${path}`, {
    method,
    headers: { ...adminHeaders, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return response.json() as Promise<unknown>;
};

const certificatePem = await (await fetch(`${base}/__admin/certificate`, { headers: adminHeaders })).text();
const encryptor: SanitelEncryptor = createSanitelEncryptor(parseSanitelCertificate(certificatePem));
// Client-side costs (encryption, building envelopes) are paid before the clock starts.
const pincode = encryptPincode(encryptor, MEDICO.pincode);
const ownerCipher = encryptTaxCode(encryptor, MEDICO.taxCode).encrypted;
const patients = Array.from(
  { length: 64 },
  (_, i) => encryptTaxCode(encryptor, PATIENTS[i % PATIENTS.length]!).encrypted,
);
const authorization = basicAuth(MEDICO.user, MEDICO.password);

let documentNumber = 0;
const nextDocument = (): TestDocument => {
  documentNumber++;
  return {
    vatNumber: MEDICO.vatNumber,
    issueDate: '2025-10-01',
    number: `B${documentNumber}`,
    patient: patients[documentNumber % patients.length]!,
    lines: [{ type: 'SR', amount: '120.00', vatNature: 'N4' }],
  };
};

function uploadRequest(documents: number): { body: Buffer; contentType: string; zipBytes: number } {
  const fileName = `bench${documents}.zip`;
  const docs = Array.from({ length: documents }, nextDocument);
  const zip = precompilataZip(fileName, precompilataXml({ taxCode: ownerCipher }, docs));
  const envelope = uploadEnvelope({
    fileName,
    pincode,
    owner: { taxCode: MEDICO.taxCode },
    document: `cid:${fileName}`,
  });
  return {
    ...mtomRequest(envelope, [{ contentId: fileName, bytes: zip }], { xop: true }),
    zipBytes: zip.length,
  };
}

/** Documents per file for a zip of about `targetBytes`. */
function documentsFor(targetBytes: number): number {
  const probe = uploadRequest(500).zipBytes;
  return Math.round((500 * targetBytes) / probe);
}

interface Result {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p95: number;
}

async function run(
  makeRequest: () => { path: string; body: Buffer | string; contentType: string; soapAction: string },
  expect: RegExp,
  concurrency: number,
): Promise<Result> {
  const pool = new Pool(base, { connections: concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const request = makeRequest();
        const begin = performance.now();
        try {
          const response = await pool.request({
            path: request.path,
            method: 'POST',
            headers: { 'content-type': request.contentType, soapaction: request.soapAction, authorization },
            body: request.body,
          });
          const text = await response.body.text();
          if (response.statusCode !== 200 || !expect.test(text)) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - begin);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, errors, seconds, p50: at(0.5), p95: at(0.95) };
}

const rows: string[] = [];
const report = (scenario: string, mode: string, concurrency: number, result: Result) => {
  const line = [
    scenario.padEnd(34),
    mode.padEnd(5),
    String(concurrency).padStart(4),
    String(result.requests).padStart(8),
    (result.requests / result.seconds).toFixed(0).padStart(8),
    result.p50.toFixed(1).padStart(8),
    result.p95.toFixed(1).padStart(8),
    String(result.errors).padStart(7),
  ].join(' ');
  rows.push(line);
  console.log(line);
};

console.log(
  `STS simulator throughput — ${SECONDS}s per scenario, schema validation on, node ${process.version}`,
);
console.log(
  `${'scenario'.padEnd(34)} ${'decr'.padEnd(5)} ${'conc'.padStart(4)} ${'requests'.padStart(8)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'errors'.padStart(7)}`,
);

const smallUpload = uploadRequest(3);
const bigDocuments = documentsFor(1_000_000);
const bigUpload = uploadRequest(bigDocuments);

for (const mode of ['off', 'full'] as const) {
  await admin('PATCH', '/settings', { decryption: { mode } });

  await admin('POST', '/reset');
  report(
    'single document (Inserimento)',
    mode,
    CONCURRENCY,
    await run(
      () => ({
        path: SYNC_PATH,
        body: syncEnvelope('insert', { pincode, owner: { taxCode: ownerCipher }, document: nextDocument() }),
        contentType: 'text/xml;charset=UTF-8',
        soapAction: 'inserimento.documentospesap730.sanita.finanze.it',
      }),
      /<ns2:esitoChiamata>0</,
      CONCURRENCY,
    ),
  );

  await admin('POST', '/reset');
  report(
    `upload small (${smallUpload.zipBytes} B zip, 3 docs)`,
    mode,
    CONCURRENCY,
    await run(
      () => ({
        path: UPLOAD_PATH,
        body: smallUpload.body,
        contentType: smallUpload.contentType,
        soapAction: '""',
      }),
      /<codiceEsito>000</,
      CONCURRENCY,
    ),
  );

  await admin('POST', '/reset');
  const bigConcurrency = Math.min(CONCURRENCY, 16);
  report(
    `upload ~1 MB (${(bigUpload.zipBytes / 1e6).toFixed(2)} MB, ${bigDocuments} docs)`,
    mode,
    bigConcurrency,
    await run(
      () => ({
        path: UPLOAD_PATH,
        body: bigUpload.body,
        contentType: bigUpload.contentType,
        soapAction: '""',
      }),
      /<codiceEsito>000</,
      bigConcurrency,
    ),
  );
  await admin('POST', '/reset');
}

// Processing (after reception): three big files, decryption full, schema validation on.
await admin('PATCH', '/settings', { decryption: { mode: 'full' } });
for (let i = 0; i < 3; i++) {
  const request = uploadRequest(bigDocuments);
  await fetch(`${base}${UPLOAD_PATH}`, {
    method: 'POST',
    headers: { 'content-type': request.contentType, soapaction: '""', authorization },
    body: request.body,
  });
}
const processingStarted = performance.now();
await admin('POST', '/uploads/process');
const processingSeconds = (performance.now() - processingStarted) / 1000;
console.log(
  `processing of 3 × ${bigDocuments}-document files (decryption full): ${((3 * bigDocuments) / processingSeconds).toFixed(0)} documents/s (${processingSeconds.toFixed(2)} s)`,
);

stop();
