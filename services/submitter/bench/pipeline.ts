/**
 * The whole pipeline end to end (issue 12): invoice events posted to the gateway until the STS
 * (the simulator) has accepted them, as separate processes on real Postgres and Redis.
 *
 *   node services/submitter/bench/pipeline.ts [--documents 200000] [--mode batch|realtime|all]
 *     [--streams 4] [--lines 10000] [--queued 50000] [--realtime-documents 300]
 *
 * Starts Postgres and Redis as the testkit does (TESTKIT_MODES, default `local`: the machine's
 * binaries, fsync off), then the simulator (`STS_SIM_DECRYPTION=sampled`, processing delay 50 ms),
 * the credentials service, the gateway and the submitter with tests/support/stack.ts (each
 * `node <part>/src/main.ts`, LOG_LEVEL=warn; submitter: flush interval 5 s, files of 30,000, first
 * EsitoInvii after 1 s). The submitter talks to the simulator through a pass-through HTTP proxy in
 * this process that times every STS call. A tenant is made with the gateway's CLI (a child process).
 *
 * realtime (first: the batch run leaves the gateway a long backlog of status events): one realtime
 *   credential (pacing at the API's maximum, one call in flight, 600 a minute), single events one
 *   after the other (`POST /v1/invoices`, each waited for until final at the gateway). Per document:
 *   the STS call as the proxy saw it, and the submitter's `submitting` and final status events
 *   (their `at`, the submitter's clock): what the submitter adds around the call = (final −
 *   submitting) − the call; wider, (final recorded by the gateway − received by it) − the call.
 * batch: the in-process ceiling first (before anything else starts: the same documents validated,
 *   their codice fiscale encrypted, built into 730 files of 30,000 and zipped, on this one core),
 *   then one batch credential, the documents posted as NDJSON through `POST /v1/invoices/batch`
 *   (--streams at once, --lines per request), timed from the first post to the last document final
 *   in the submitter (accepted at the simulator, its receipt read); how far the gateway's view got
 *   meanwhile is measured, not waited for. Then a backlog: the submitter stopped, --queued more
 *   documents posted, the `documents-accepted` queue's bytes in Redis (MEMORY USAGE) before and
 *   after the gateway's relay queued them; the submitter started again and the backlog timed.
 *
 * Every part's RSS (Postgres: PSS) and CPU are sampled from /proc; "others" is the rest of the
 * machine (other people's work). Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { taxCodeCheckCharacter, vatNumberCheckDigit } from '@sts/shared/identifiers';
import {
  createSanitelEncryptor,
  type ExpenseDocument,
  encryptTaxCode,
  type PlainExpenseDocument,
  packPrecompilataFiles,
  stsKitDir,
  validateExpenseDocument,
} from '@sts/sts';
import { startTestStack, type TestStack } from '@sts/testkit';
import { type Stack, startStack } from '../../../tests/support/stack.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FINAL = ['accepted', 'accepted_with_warnings', 'rejected'];
const FILE_TARGET = 30_000;

const vat = (firstTen: string) => firstTen + vatNumberCheckDigit(firstTen);
const BATCH_DOCTOR = { username: 'BTCMRA80A01H501U', password: 'Batch.Pw.1', pincode: '7310486295' };
const REALTIME_DOCTOR = { username: 'RLTMRA80A01H501U', password: 'Realtime.Pw.1', pincode: '7310486296' };
const BATCH_VAT = vat('0123456789');
const REALTIME_VAT = vat('0987654321');

/** A valid codice fiscale, different for each n (as the gateway's test support makes them). */
function patientTaxCode(n: number): string {
  const letters = 'BCDFGHLMNPRSTVZ';
  const pick = (k: number) => letters[k % letters.length]!;
  const name = `${pick(n)}${pick(n >> 4)}${pick(n >> 8)}${pick(n >> 12)}${pick(n >> 16)}${pick(n >> 20)}`;
  const first15 = `${name}${String(40 + (n % 60)).padStart(2, '0')}${'ABCDEHLMPRST'[n % 12]}${String(1 + (n % 28)).padStart(2, '0')}H501`;
  return first15 + taxCodeCheckCharacter(first15);
}

/** The n-th invoice event as a clinic posts it: an insert paid in 2026, patient identified. */
function invoiceEvent(n: number, vatNumber: string, prefix: string) {
  const date = `2026-${String(1 + (n % 11)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`;
  return {
    operation: 'insert',
    document: {
      id: { vatNumber, issueDate: date, device: 1, number: `${prefix}/${n}` },
      paymentDate: date,
      patient: { kind: 'identified', taxCode: patientTaxCode(n) },
      traceablePayment: true,
      documentType: 'invoice',
      lines: [{ expenseType: 'SR', amount: `${50 + (n % 400)}.00`, vatNature: 'N4' }],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------------

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (value: number) => value.toFixed(1);
const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN;
const log = (text: string) => console.log(text);

function machineLine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  const cores = cpuinfo.match(/^processor/gm)?.length ?? 0;
  const memory = Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s*(\d+)/)?.[1] ?? 0);
  return (
    `machine: ${cores} logical CPUs (${cpu}), ${(memory / 1024 / 1024).toFixed(1)} GiB, Node ${process.version}, ` +
    `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${new Date().toISOString()}`
  );
}

// ---------------------------------------------------------------------------------------------
// The in-process ceiling: validate, encrypt, build, zip the same documents on this one core.
// ---------------------------------------------------------------------------------------------

async function ceiling(count: number): Promise<{ seconds: number; perSecond: number; files: number }> {
  const certificate = new X509Certificate(
    readFileSync(path.join(stsKitDir(), 'certs/SanitelCF_2024-01-23_to_2027-01-23.pem')),
  );
  const encryptor = createSanitelEncryptor(certificate);
  // The events as posted (generated outside the timing, as the bodies of the posts are).
  const events = Array.from({ length: count }, (_, i) => invoiceEvent(i + 1, BATCH_VAT, 'BN2026'));
  const started = performance.now();
  let files = 0;
  let documents = 0;
  for (let first = 0; first < count; first += FILE_TARGET) {
    function* prepared(): Generator<ExpenseDocument> {
      for (const event of events.slice(first, first + FILE_TARGET)) {
        const checked = validateExpenseDocument({
          ...event.document,
          operation: 'insert',
        } as unknown as PlainExpenseDocument);
        if (!checked.ok) throw new Error(`document refused: ${JSON.stringify(checked.violations[0])}`);
        const plain = checked.value;
        yield {
          ...plain,
          patient:
            plain.patient.kind === 'identified'
              ? { kind: 'identified', taxCode: encryptTaxCode(encryptor, plain.patient.taxCode) }
              : { kind: 'opposed' },
        };
      }
    }
    for await (const file of packPrecompilataFiles(prepared(), {
      sender: { kind: 'professional', taxCode: 'RSSMRA85T10A562S' },
      encryptor,
    })) {
      files += 1;
      documents += file.documentCount;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (documents !== count) throw new Error(`the ceiling packed ${documents} of ${count} documents`);
  return { seconds, perSecond: count / seconds, files };
}

// ---------------------------------------------------------------------------------------------
// The STS proxy: passes every call through to the simulator, times it.
// ---------------------------------------------------------------------------------------------

interface StsCall {
  /** Epoch ms (fractional): request headers in, last byte of the answer out. */
  start: number;
  end: number;
  action: string;
  number?: string;
  bytes: number;
}

const epochNow = () => performance.timeOrigin + performance.now();

function startStsProxy(target: () => string) {
  const calls: StsCall[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const start = epochNow();
    const url = new URL(request.url ?? '/', target());
    const head: Buffer[] = [];
    let headBytes = 0;
    let bytes = 0;
    const upstream = httpRequest(
      url,
      { method: request.method, headers: { ...request.headers, host: url.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('end', () => {
          const text = Buffer.concat(head).toString('latin1');
          const number = text.match(/numDocumento>([^<]+)</)?.[1];
          calls.push({
            start,
            end: epochNow(),
            action:
              String(request.headers.soapaction ?? '').replaceAll('"', '') ||
              String(request.headers['content-type'] ?? '').match(/action="?([^";]+)/)?.[1] ||
              url.pathname,
            ...(number ? { number } : {}),
            bytes,
          });
        });
      },
    );
    upstream.on('error', () => response.destroy());
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (headBytes < 64 * 1024) {
        head.push(chunk);
        headBytes += chunk.length;
      }
    });
    request.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  return {
    calls,
    server,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
  };
}

// ---------------------------------------------------------------------------------------------
// Processes: pids of each part (children of this process, Postgres and Redis by port), CPU, RSS.
// ---------------------------------------------------------------------------------------------

interface ProcRow {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

function processTable(): ProcRow[] {
  const table: ProcRow[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      table.push({
        pid: Number(entry),
        ppid: Number(stat.slice(close + 2).split(' ')[1]),
        comm: stat.slice(stat.indexOf('(') + 1, close),
        cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '),
      });
    } catch {}
  }
  return table;
}

function processGroups(servers: TestStack): Record<string, number[]> {
  const table = processTable();
  const pgPort = new URL(servers.postgresAdminUrl).port;
  const redisPort = new URL(servers.redisUrl).port;
  const child = (entry: string) =>
    table.filter((row) => row.ppid === process.pid && row.cmdline.includes(entry)).map((row) => row.pid);
  const postmaster = table.find(
    (row) => row.comm === 'postgres' && row.cmdline.includes(` -p ${pgPort} `) && row.cmdline.includes('-D'),
  );
  const redis = table.find(
    (row) => row.comm.startsWith('redis-server') && row.cmdline.includes(`:${redisPort}`),
  );
  return {
    gateway: child('services/gateway/src/main.ts'),
    submitter: child('services/submitter/src/main.ts'),
    simulator: child('packages/sts-simulator/src/main.ts'),
    credentials: child('services/credentials/src/main.ts'),
    postgres: postmaster
      ? [postmaster.pid, ...table.filter((row) => row.ppid === postmaster.pid).map((row) => row.pid)]
      : [],
    redis: redis ? [redis.pid] : [],
    bench: [process.pid],
  };
}

/** CPU seconds used so far per part (processes that ended since are lost: a lower bound). */
function cpuSeconds(groups: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    let ticks = 0;
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {}
    }
    out[name] = ticks / 100;
  }
  return out;
}

/**
 * Resident memory per part: RSS of each Node process and of Redis; for Postgres the sum of PSS over
 * its processes (the sum of their RSS would count the shared buffers once per backend).
 */
function rssBytes(groups: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    let rss = 0;
    for (const pid of pids) {
      try {
        rss +=
          name === 'postgres'
            ? Number(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/Pss:\s*(\d+)/)?.[1] ?? 0) * 1024
            : Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s*(\d+)/)?.[1] ?? 0) * 1024;
      } catch {}
    }
    out[name] = rss;
  }
  return out;
}

function machineBusy(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

/** Samples RSS every `everyMs` until stopped; keeps the maximum and the last per part. */
function rssSampler(servers: TestStack, everyMs = 2000) {
  const max: Record<string, number> = {};
  let last: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      last = rssBytes(processGroups(servers));
      for (const [name, value] of Object.entries(last)) max[name] = Math.max(max[name] ?? 0, value);
      await sleep(everyMs);
    }
  })();
  return {
    max,
    last: () => last,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** CPU of each part and of the whole machine over a phase. */
function cpuMeter(servers: TestStack) {
  const before = cpuSeconds(processGroups(servers));
  const machineBefore = machineBusy();
  const started = Date.now();
  return () => {
    const after = cpuSeconds(processGroups(servers));
    const machineAfter = machineBusy();
    const seconds = (Date.now() - started) / 1000;
    const used: Record<string, number> = {};
    for (const [name, value] of Object.entries(after)) used[name] = value - (before[name] ?? 0);
    const share =
      (2 * (machineAfter.busy - machineBefore.busy)) / Math.max(1, machineAfter.total - machineBefore.total);
    const ours = Object.values(used).reduce((a, b) => a + b, 0);
    return { used, seconds, machineCores: share, othersCores: Math.max(0, share - ours / seconds) };
  };
}

/**
 * The jobs of one BullMQ queue in Redis: how many job hashes, and their bytes (`MEMORY USAGE` of up
 * to 300 of them, scaled to all), plus the queue's lists and sets.
 */
async function queueMemory(redis: Redis, queue: string) {
  const prefix = `bull:${queue}:`;
  const STRUCTURES = ['wait', 'active', 'completed', 'failed', 'delayed', 'events', 'meta', 'id'];
  let cursor = '0';
  const jobKeys: string[] = [];
  const structures: string[] = [];
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    for (const key of keys) {
      const rest = key.slice(prefix.length);
      if (rest.includes(':')) continue; // a job's logs or locks
      if (STRUCTURES.includes(rest) || !/\d|-/.test(rest)) structures.push(key);
      else jobKeys.push(key);
    }
  } while (cursor !== '0');
  // Every job when they are few, else an even sample of 1,000 (SAMPLES 0: every field counted).
  const step = Math.max(1, Math.floor(jobKeys.length / 1000));
  const sample = jobKeys.filter((_, i) => i % step === 0);
  const usage = (key: string) => redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>;
  const sizes = await Promise.all(sample.map(usage));
  const bytesPerJob = sizes.length ? sizes.reduce((a: number, b) => a + Number(b ?? 0), 0) / sizes.length : 0;
  const structureBytes = (await Promise.all(structures.map(usage))).reduce(
    (a: number, b) => a + Number(b ?? 0),
    0,
  );
  return { jobs: jobKeys.length, bytesPerJob, bytes: jobKeys.length * bytesPerJob + structureBytes };
}

async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(info.match(/used_memory:(\d+)/)?.[1] ?? NaN);
}

// ---------------------------------------------------------------------------------------------
// The stack and the accounts.
// ---------------------------------------------------------------------------------------------

interface Bench {
  servers: TestStack;
  stack: Stack;
  databaseUrl: string;
  pool: Pool;
  redis: Redis;
  proxy: ReturnType<typeof startStsProxy>;
  apiKey: string;
}

async function start(): Promise<Bench> {
  const servers = await startTestStack({
    ...process.env,
    TESTKIT_MODES: process.env.TESTKIT_MODES ?? 'local',
  });
  log(`servers: ${servers.describe()}`);
  try {
    const admin = createPool({ url: servers.postgresAdminUrl, max: 1, applicationName: 'pipeline-bench' });
    await admin.query('create database pipeline_bench');
    await admin.end();
    const databaseUrl = servers.postgresAdminUrl.replace(/\/[^/]*$/, '/pipeline_bench');
    let simulatorUrl = '';
    const proxy = startStsProxy(() => simulatorUrl);
    const proxyUrl = await proxy.listen();
    const stack = await startStack({
      databaseUrl,
      redisUrl: servers.redisUrl,
      simulatorUsers: [
        { ...BATCH_DOCTOR, kind: 'professional', owner: { vatNumber: BATCH_VAT } },
        { ...REALTIME_DOCTOR, kind: 'professional', owner: { vatNumber: REALTIME_VAT } },
      ],
      env: {
        simulator: { STS_SIM_DECRYPTION: 'sampled', STS_SIM_PROCESSING_DELAY_MS: '50' },
        gateway: { GATEWAY_RATE_LIMIT_PER_MINUTE: '100000000' },
        submitter: {
          STS_TEST_BASE_URL: proxyUrl,
          SUBMITTER_FLUSH_INTERVAL_MS: '5000',
          SUBMITTER_FILE_TARGET_DOCUMENTS: String(FILE_TARGET),
          SUBMITTER_FIRST_POLL_DELAY_MS: '1000',
          SUBMITTER_STUCK_AFTER_MS: '120000',
          STS_RESPONSE_TIMEOUT_MS: '60000',
          SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: '6000',
        },
      },
    }).catch(async (error: unknown) => {
      proxy.server.close();
      throw error;
    });
    simulatorUrl = stack.urls.simulator;
    const pool = createPool({ url: databaseUrl, applicationName: 'pipeline-bench' });
    const redis = createRedis(servers.redisUrl, 'pipeline-bench');
    const apiKey = await createTenant(databaseUrl);
    log(`stack: ${JSON.stringify(stack.urls)}; STS calls through ${proxyUrl}`);
    return { servers, stack, databaseUrl, pool, redis, proxy, apiKey };
  } catch (error) {
    await servers.stop();
    throw error;
  }
}

async function stop(bench: Bench): Promise<void> {
  await bench.stack.stop();
  bench.proxy.server.closeAllConnections();
  bench.proxy.server.close();
  await bench.pool.end().catch(() => {});
  bench.redis.disconnect();
  await bench.servers.stop();
  log('stopped: simulator, credentials, gateway, submitter, Postgres, Redis');
}

/** A tenant and its first API key, through the gateway's own CLI (another service: not imported). */
async function createTenant(databaseUrl: string): Promise<string> {
  const child = spawn(
    process.execPath,
    ['services/gateway/src/cli.ts', 'tenants', 'create', '--name', 'Clinica Pipeline', '--json'],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`gateway CLI tenants create: exit ${code}\n${out}\n${err}`);
  const line = out.trim().split('\n').at(-1)!;
  return (JSON.parse(line) as { apiKey: { key: string } }).apiKey.key;
}

async function api(
  bench: Bench,
  method: string,
  pathname: string,
  body?: string,
  contentType = 'application/json',
) {
  const response = await fetch(`${bench.stack.urls.gateway}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${bench.apiKey}`,
      ...(body !== undefined ? { 'content-type': contentType } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers };
}

async function createCredential(
  bench: Bench,
  doctor: typeof BATCH_DOCTOR,
  vatNumber: string,
  sendingMode: 'batch' | 'realtime',
): Promise<string> {
  const answer = await api(
    bench,
    'POST',
    '/v1/credentials?test=true',
    JSON.stringify({
      label: `Dr ${sendingMode}`,
      environment: 'test',
      kind: 'basic',
      user: doctor.username,
      password: doctor.password,
      pincode: doctor.pincode,
      owner: { taxCode: doctor.username },
      vatNumbers: [vatNumber],
      sendingMode,
      // The API's maximum pacing.
      pacing: { maxInFlight: 1, requestsPerMinute: 600 },
    }),
  );
  if (answer.status !== 201) throw new Error(`credential: ${answer.status} ${answer.text}`);
  const json = JSON.parse(answer.text) as { credential: { id: string }; test: { outcome: string } };
  if (json.test.outcome !== 'valid') throw new Error(`credential test: ${answer.text}`);
  return json.credential.id;
}

// ---------------------------------------------------------------------------------------------
// Batch: posted through the gateway, timed until accepted.
// ---------------------------------------------------------------------------------------------

/** NDJSON bodies of `lines` events each, built before the clock starts. */
function bodies(first: number, count: number, lines: number, prefix: string): string[] {
  const out: string[] = [];
  for (let start = first; start < first + count; start += lines) {
    const parts: string[] = [];
    for (let n = start; n < Math.min(first + count, start + lines); n++)
      parts.push(JSON.stringify(invoiceEvent(n, BATCH_VAT, prefix)));
    out.push(`${parts.join('\n')}\n`);
  }
  return out;
}

/** Posts the bodies over `streams` concurrent requests; the accepted count and the time of the last answer. */
async function post(bench: Bench, all: string[], streams: number) {
  let next = 0;
  let accepted = 0;
  let problems = 0;
  let firstProblem: string | undefined;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: streams }, async () => {
      while (next < all.length) {
        const body = all[next++]!;
        const started = Date.now();
        const answer = await api(bench, 'POST', '/v1/invoices/batch', body, 'application/x-ndjson');
        latencies.push(Date.now() - started);
        if (answer.status !== 200) {
          problems += 1;
          firstProblem ??= `${answer.status} ${answer.text.slice(0, 300)}`;
          continue;
        }
        const summary = (JSON.parse(answer.text) as { summary: { accepted: number; rejected: number } })
          .summary;
        accepted += summary.accepted;
        if (summary.rejected > 0) {
          problems += summary.rejected;
          firstProblem ??= answer.text.slice(0, 300);
        }
      }
    }),
  );
  return { accepted, problems, firstProblem, at: Date.now(), latencies };
}

async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pool.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
}

/** Documents of the credential final in the submitter (files table: small, cheap to poll). */
async function fileProgress(pool: Pool, credentialId: string) {
  const { rows } = await pool.query<{ state: string; files: string; documents: string }>(
    `select state, count(*) as files, coalesce(sum(document_count), 0) as documents
       from submitter.files where credential_id = $1 group by state`,
    [credentialId],
  );
  const by = Object.fromEntries(
    rows.map((row) => [row.state, { files: Number(row.files), documents: Number(row.documents) }]),
  );
  const done = (by.completed?.documents ?? 0) + (by.rejected?.documents ?? 0);
  return { by, done };
}

interface BatchFigures {
  documents: number;
  postSeconds: number;
  submitterSeconds: number;
  gatewayFinal: number;
  gatewayRate: number;
  statusJobs: Awaited<ReturnType<typeof queueMemory>>;
  ceiling: Awaited<ReturnType<typeof ceiling>>;
  statuses: Record<string, number>;
  cpu: ReturnType<ReturnType<typeof cpuMeter>>;
  rssMax: Record<string, number>;
  redisMax: number;
}

async function runBatch(
  bench: Bench,
  options: { documents: number; streams: number; lines: number },
  ceilingFigures: Awaited<ReturnType<typeof ceiling>>,
): Promise<BatchFigures> {
  const credentialId = await createCredential(bench, BATCH_DOCTOR, BATCH_VAT, 'batch');
  const prepared = bodies(1, options.documents, options.lines, 'BN2026');
  log(
    `\n== batch: ${int(options.documents)} documents, ${prepared.length} NDJSON requests of ${int(options.lines)} lines, ${options.streams} at once; credential ${credentialId}`,
  );
  const rss = rssSampler(bench.servers);
  const cpu = cpuMeter(bench.servers);
  let redisMax = 0;
  const t0 = Date.now();
  const posting = post(bench, prepared, options.streams);
  let posted: Awaited<typeof posting> | undefined;
  void posting.then((value) => (posted = value));
  const deadline = t0 + 40 * 60_000;
  let lastLine = 0;
  let done = 0;
  while (Date.now() < deadline) {
    await sleep(1000);
    const progress = await fileProgress(bench.pool, credentialId);
    done = progress.done;
    redisMax = Math.max(redisMax, await redisUsedMemory(bench.redis));
    if (Date.now() - lastLine >= 5000 || done >= options.documents) {
      lastLine = Date.now();
      const last = rss.last();
      log(
        `  t=${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s  posted ${posted ? int(posted.accepted) : 'in progress'}` +
          `  files ${JSON.stringify(Object.fromEntries(Object.entries(progress.by).map(([state, value]) => [state, `${value.files}/${int(value.documents)}`])))}` +
          `  rss ${Object.entries(last)
            .filter(([name]) => name !== 'bench')
            .map(([name, value]) => `${name} ${MB(value)}`)
            .join(', ')}`,
      );
    }
    if (posted && done >= posted.accepted) break;
  }
  const postedResult = await posting;
  // The gateway learns of each state through the submitter's status relay (`document.status` jobs of
  // up to 500 events): how far it got is measured, not waited for.
  const statusJobs = await queueMemory(bench.redis, 'document-status');
  const historyRows = await count(
    bench.pool,
    `select count(*) as n from gateway.invoice_history h join gateway.invoices i on i.id = h.invoice_id where i.credential_id = $1`,
    [credentialId],
  );
  const cpuUsed = cpu();
  await rss.stop();
  const times = (
    await bench.pool.query<{ submitter: Date }>(
      `select max(updated_at) as submitter from submitter.documents where credential_id = $1 and state in ('accepted','accepted_with_warnings','rejected')`,
      [credentialId],
    )
  ).rows[0]!;
  const measuredAt = Date.now();
  const statuses = Object.fromEntries(
    (
      await bench.pool.query<{ status: string; n: string }>(
        'select status, count(*) as n from gateway.invoices where credential_id = $1 group by status',
        [credentialId],
      )
    ).rows.map((row) => [row.status, Number(row.n)]),
  );
  const files = await bench.pool.query<{
    documents: number;
    zip: number;
    created: Date;
    sent: Date | null;
    updated: Date;
    state: string;
  }>(
    `select document_count as documents, zip_bytes as zip, created_at as created, sent_at as sent, updated_at as updated, state
       from submitter.files where credential_id = $1 order by created_at`,
    [credentialId],
  );
  const at = (date: Date | null) => (date ? `${((date.getTime() - t0) / 1000).toFixed(1)} s` : '–');
  const lat = [...postedResult.latencies].sort((a, b) => a - b);
  log(
    `-- posted: ${int(postedResult.accepted)} accepted by the gateway in ${((postedResult.at - t0) / 1000).toFixed(1)} s` +
      ` (${int(postedResult.accepted / ((postedResult.at - t0) / 1000))} documents/s), problems ${postedResult.problems}` +
      `${postedResult.firstProblem ? ` (first: ${postedResult.firstProblem})` : ''}; request p50 ${quantile(lat, 0.5)} ms, max ${lat.at(-1)} ms`,
  );
  log('-- files (times from the first post): built → sent → final');
  for (const file of files.rows)
    log(
      `   ${int(file.documents)} documents, ${int(file.zip)} B zip: built ${at(file.created)}, sent ${at(file.sent)}, ${file.state} ${at(file.updated)}`,
    );
  const submitterSeconds = (times.submitter.getTime() - t0) / 1000;
  const gatewayFinal = FINAL.reduce((sum, status) => sum + (statuses[status] ?? 0), 0);
  const gatewayRate = historyRows / ((measuredAt - t0) / 1000);
  log(`-- statuses at the gateway when the submitter was done: ${JSON.stringify(statuses)}`);
  log(
    `-- last document final in the submitter at ${submitterSeconds.toFixed(1)} s: ${int(postedResult.accepted / submitterSeconds)} documents/s (first post → accepted at the simulator and known to the submitter)`,
  );
  log(
    `-- the gateway's view: ${int(gatewayFinal)} of ${int(postedResult.accepted)} final, ${int(historyRows)} status events applied in ${((measuredAt - t0) / 1000).toFixed(0)} s` +
      ` (${int(gatewayRate)} events/s, ${int(gatewayRate / 4)} documents/s at 4 events each: queued, submitting, submitted, accepted);` +
      ` ${int(statusJobs.jobs)} document.status jobs still in Redis (~${int(statusJobs.bytesPerJob)} B each)`,
  );
  printCpu(cpuUsed, postedResult.accepted);
  printStsCalls(bench.proxy.calls, t0, times.submitter.getTime());
  log(
    `-- RSS max: ${Object.entries(rss.max)
      .map(([name, value]) => `${name} ${MB(value)}`)
      .join(', ')}; Redis used_memory max ${MB(redisMax)}`,
  );
  return {
    documents: postedResult.accepted,
    postSeconds: (postedResult.at - t0) / 1000,
    submitterSeconds,
    gatewayFinal,
    gatewayRate,
    statusJobs,
    ceiling: ceilingFigures,
    statuses,
    cpu: cpuUsed,
    rssMax: rss.max,
    redisMax,
  };
}

/** The STS calls of a phase by action: how many, how long, and how busy they kept the line. */
function printStsCalls(calls: StsCall[], from: number, to: number) {
  const phase = calls.filter((call) => call.start >= from && call.start <= to);
  const byAction = new Map<string, StsCall[]>();
  for (const call of phase) byAction.set(call.action, [...(byAction.get(call.action) ?? []), call]);
  const busy = phase.reduce((sum, call) => sum + (call.end - call.start), 0);
  log(
    `-- STS calls (through the proxy): ${phase.length}, busy ${(busy / 1000).toFixed(1)} s of ${((to - from) / 1000).toFixed(1)} s` +
      ` (${((100 * busy) / (to - from)).toFixed(0)}%: with one call in flight per credential, the line's occupancy)`,
  );
  for (const [action, list] of byAction) {
    const durations = list.map((call) => call.end - call.start).sort((a, b) => a - b);
    const total = durations.reduce((a, b) => a + b, 0);
    log(
      `   ${(action.split('/').filter(Boolean).at(-1) ?? action).padEnd(40)} ${String(list.length).padStart(5)} calls, ${(total / 1000).toFixed(1)} s in all,` +
        ` p50 ${ms(quantile(durations, 0.5))} ms, max ${ms(durations.at(-1)!)} ms, ${int(list.reduce((a, call) => a + call.bytes, 0) / list.length)} B sent on average`,
    );
  }
}

function printCpu(cpu: ReturnType<ReturnType<typeof cpuMeter>>, documents: number) {
  log(
    `-- CPU over ${cpu.seconds.toFixed(1)} s (seconds; µs per document): ${Object.entries(cpu.used)
      .map(([name, value]) => `${name} ${value.toFixed(1)} s (${int((value * 1e6) / documents)} µs)`)
      .join(
        ', ',
      )}; machine busy ${(cpu.machineCores * 100).toFixed(0)}% of 200%, others ${(cpu.othersCores * 100).toFixed(0)}%`,
  );
}

/** Redis bytes per queued document: the submitter stopped, documents posted, the relay's jobs waiting. */
async function runQueued(bench: Bench, documents: number, options: { streams: number; lines: number }) {
  log(`\n== memory of a backlog: the submitter stopped, ${int(documents)} documents posted`);
  await bench.stack.kill('submitter');
  await sleep(1000);
  const before = await redisUsedMemory(bench.redis);
  const queueBefore = await queueMemory(bench.redis, 'documents-accepted');
  const dbBefore = await count(bench.pool, 'select pg_database_size(current_database()) as n');
  const prepared = bodies(50_000_000, documents, options.lines, 'QN2026');
  const posted = await post(bench, prepared, options.streams);
  while ((await count(bench.pool, 'select count(*) as n from gateway.outbox')) > 0) await sleep(500);
  await sleep(1000);
  const after = await redisUsedMemory(bench.redis);
  const queueAfter = await queueMemory(bench.redis, 'documents-accepted');
  const dbAfter = await count(bench.pool, 'select pg_database_size(current_database()) as n');
  const perDocument = (queueAfter.bytes - queueBefore.bytes) / posted.accepted;
  log(
    `-- the documents-accepted queue: ${int(queueBefore.jobs)} → ${int(queueAfter.jobs)} jobs, ${MB(queueBefore.bytes)} → ${MB(queueAfter.bytes)}:` +
      ` ${int(perDocument)} B per queued document (${int(posted.accepted)} queued); Redis used_memory ${MB(before)} → ${MB(after)}` +
      ` (${int((after - before) / posted.accepted)} B per document, but the gateway was meanwhile consuming the batch run's status jobs);` +
      ` Postgres database ${MB(dbBefore)} → ${MB(dbAfter)}: ${int((dbAfter - dbBefore) / posted.accepted)} B per document (gateway rows)`,
  );
  // The backlog drained by the submitter alone.
  const rss = rssSampler(bench.servers);
  const cpu = cpuMeter(bench.servers);
  const t0 = Date.now();
  await bench.stack.start('submitter');
  const credentialId = (
    await bench.pool.query<{ id: string }>(
      `select credential_id as id from gateway.invoices where number = $1 limit 1`,
      ['QN2026/50000000'],
    )
  ).rows[0]!.id;
  const deadline = t0 + 30 * 60_000;
  // Only the backlog's files: those built after the submitter came back.
  const since = new Date(t0 - 1000);
  let done = 0;
  while (Date.now() < deadline) {
    await sleep(1000);
    done = await count(
      bench.pool,
      `select coalesce(sum(document_count), 0) as n from submitter.files
        where credential_id = $1 and created_at >= $2 and state in ('completed','rejected')`,
      [credentialId, since],
    );
    if (done >= posted.accepted) break;
  }
  const last = await bench.pool.query<{ at: Date }>(
    `select max(updated_at) as at from submitter.documents where credential_id = $1 and state in ('accepted','accepted_with_warnings','rejected')`,
    [credentialId],
  );
  const seconds = (last.rows[0]!.at.getTime() - t0) / 1000;
  const cpuUsed = cpu();
  await rss.stop();
  log(
    `-- the backlog, submitter alone (started at 0): ${int(done)} documents final at ${seconds.toFixed(1)} s, ${int(done / seconds)} documents/s`,
  );
  printCpu(cpuUsed, done);
  printStsCalls(bench.proxy.calls, t0, last.rows[0]!.at.getTime());
  log(
    `-- RSS max: ${Object.entries(rss.max)
      .map(([name, value]) => `${name} ${MB(value)}`)
      .join(', ')}`,
  );
  return {
    perDocument,
    queued: posted.accepted,
    backlogSeconds: seconds,
    backlogRate: done / seconds,
    rssMax: rss.max,
    dbPerDocument: (dbAfter - dbBefore) / posted.accepted,
  };
}

// ---------------------------------------------------------------------------------------------
// Realtime: single events one after the other, the submitter's time around the STS call.
// ---------------------------------------------------------------------------------------------

async function runRealtime(bench: Bench, documents: number) {
  const credentialId = await createCredential(bench, REALTIME_DOCTOR, REALTIME_VAT, 'realtime');
  const warmUp = Math.min(20, Math.floor(documents / 5));
  log(
    `\n== realtime: ${documents} single events one after the other (the first ${warmUp} not counted); credential ${credentialId}`,
  );
  const rss = rssSampler(bench.servers);
  const cpu = cpuMeter(bench.servers);
  const ids: { id: string; number: string; posted: number; seen: number }[] = [];
  for (let n = 1; n <= documents; n++) {
    const event = invoiceEvent(n, REALTIME_VAT, 'RT2026');
    const posted = epochNow();
    const answer = await api(bench, 'POST', '/v1/invoices', JSON.stringify(event));
    if (answer.status !== 202) throw new Error(`single event: ${answer.status} ${answer.text}`);
    const id = answer.headers.get('location')!.split('/').at(-1)!;
    for (;;) {
      const { rows } = await bench.pool.query<{ status: string }>(
        'select status from gateway.invoices where id = $1',
        [id],
      );
      if (FINAL.includes(rows[0]!.status)) break;
      await sleep(5);
    }
    ids.push({ id, number: event.document.id.number, posted, seen: epochNow() });
  }
  const cpuUsed = cpu();
  await rss.stop();
  const history = await bench.pool.query<{
    id: string;
    status: string;
    at: Date;
    recorded: Date;
    received: Date;
  }>(
    `select i.id, h.status, h.at, h.recorded_at as recorded, i.received_at as received
       from gateway.invoice_history h join gateway.invoices i on i.id = h.invoice_id where i.credential_id = $1`,
    [credentialId],
  );
  const byId = new Map<string, typeof history.rows>();
  for (const row of history.rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
  const callsByNumber = new Map<string, StsCall[]>();
  for (const call of bench.proxy.calls)
    if (call.number) callsByNumber.set(call.number, [...(callsByNumber.get(call.number) ?? []), call]);
  const around: number[] = [];
  const wide: number[] = [];
  const sts: number[] = [];
  const beforeCall: number[] = [];
  const seenByClient: number[] = [];
  let unmatched = 0;
  for (const [index, entry] of ids.entries()) {
    if (index < warmUp) continue;
    const rows = byId.get(entry.id) ?? [];
    const submitting = rows.find((row) => row.status === 'submitting');
    const final = rows.find((row) => FINAL.includes(row.status));
    const calls = callsByNumber.get(entry.number) ?? [];
    if (!submitting || !final || calls.length !== 1) {
      unmatched += 1;
      continue;
    }
    const call = calls[0]!;
    const stsMs = call.end - call.start;
    sts.push(stsMs);
    around.push(final.at.getTime() - submitting.at.getTime() - stsMs);
    wide.push(final.recorded.getTime() - final.received.getTime() - stsMs);
    beforeCall.push(call.start - final.received.getTime());
    seenByClient.push(entry.seen - entry.posted - stsMs);
  }
  const row = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    log(
      `   ${label.padEnd(64)} p50 ${ms(quantile(sorted, 0.5)).padStart(7)}  p90 ${ms(quantile(sorted, 0.9)).padStart(7)}  p99 ${ms(quantile(sorted, 0.99)).padStart(7)}  max ${ms(sorted.at(-1) ?? NaN).padStart(7)} ms`,
    );
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
  };
  log(
    `-- ${sts.length} documents measured (${unmatched} without one STS call, a submitting and a final event: left out)`,
  );
  const figures = {
    sts: row('the STS call (simulator, as the proxy saw it)', sts),
    around: row('submitter around the call: (final − submitting) − STS call', around),
    beforeCall: row('gateway received → STS call starts', beforeCall),
    wide: row('gateway received → final recorded by the gateway, − STS call', wide),
    client: row('client: POST sent → final seen (polling 5 ms), − STS call', seenByClient),
  };
  printCpu(cpuUsed, documents);
  log(
    `-- RSS max: ${Object.entries(rss.max)
      .map(([name, value]) => `${name} ${MB(value)}`)
      .join(', ')}`,
  );
  return figures;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      documents: { type: 'string', default: '200000' },
      mode: { type: 'string', default: 'all' },
      streams: { type: 'string', default: '4' },
      lines: { type: 'string', default: '10000' },
      queued: { type: 'string', default: '50000' },
      'realtime-documents': { type: 'string', default: '300' },
    },
  });
  const mode = values.mode!;
  if (!['batch', 'realtime', 'all'].includes(mode))
    throw new Error(`--mode must be batch, realtime or all (not ${mode})`);
  const documents = Number(values.documents);
  const streams = Number(values.streams);
  const lines = Number(values.lines);
  log(machineLine());

  let ceilingFigures: Awaited<ReturnType<typeof ceiling>> | undefined;
  if (mode !== 'realtime') {
    ceilingFigures = await ceiling(documents);
    log(
      `in-process ceiling (validate + encrypt + build + zip, files of ${int(FILE_TARGET)}, this one core): ${int(documents)} documents,` +
        ` ${ceilingFigures.files} files in ${ceilingFigures.seconds.toFixed(2)} s: ${int(ceilingFigures.perSecond)} documents/s`,
    );
  }

  const bench = await start();
  const stopOnce = (() => {
    let promise: Promise<void> | undefined;
    return () => (promise ??= stop(bench));
  })();
  process.once('SIGINT', () => void stopOnce().then(() => process.exit(130)));
  try {
    const summary: string[] = [];
    if (mode !== 'batch') {
      // First, while the gateway's status queue is empty (the batch run leaves it a long backlog).
      const realtime = await runRealtime(bench, Number(values['realtime-documents']));
      summary.push(
        `realtime, submitter around the STS call: p50 ${ms(realtime.around.p50)} ms, p99 ${ms(realtime.around.p99)} ms; gateway received → final recorded, less the call: p50 ${ms(realtime.wide.p50)} ms, p99 ${ms(realtime.wide.p99)} ms`,
      );
    }
    if (ceilingFigures) {
      const batch = await runBatch(bench, { documents, streams, lines }, ceilingFigures);
      const rate = batch.documents / batch.submitterSeconds;
      summary.push(
        `batch end to end: ${int(batch.documents)} documents, first post → last final in the submitter ${batch.submitterSeconds.toFixed(1)} s = ${int(rate)} documents/s` +
          ` (the posts alone ${batch.postSeconds.toFixed(1)} s = ${int(batch.documents / batch.postSeconds)}/s)`,
        `the gateway's view then: ${int(batch.gatewayFinal)} final; its status consumer ${int(batch.gatewayRate)} events/s; ${int(batch.statusJobs.jobs)} document.status jobs waiting, ~${int(batch.statusJobs.bytesPerJob)} B each`,
        `in-process ceiling: ${int(ceilingFigures.perSecond)} documents/s; ratio end to end / ceiling = ${(rate / ceilingFigures.perSecond).toFixed(3)} (1 : ${(ceilingFigures.perSecond / rate).toFixed(1)})`,
      );
      const queued = await runQueued(bench, Number(values.queued), { streams, lines });
      summary.push(
        `Redis: ${int(queued.perDocument)} B per queued document (${int(queued.queued)} queued) → ${MB(queued.perDocument * 1_000_000)} for 1,000,000 (extrapolated)`,
        `backlog drained by the submitter alone: ${int(queued.backlogRate)} documents/s`,
        `RSS max during the batch run: ${Object.entries(batch.rssMax)
          .map(([name, value]) => `${name} ${MB(value)}`)
          .join(', ')}`,
      );
    }
    log('\n== summary');
    for (const line of summary) log(`  ${line}`);
  } catch (error) {
    for (const part of ['submitter', 'gateway', 'simulator'] as const)
      console.error(`[${part} output, last 2,000 characters]\n${bench.stack.output(part).slice(-2000)}`);
    throw error;
  } finally {
    await stopOnce();
  }
}

await main();
