/**
 * How many invoice events the real gateway takes in (issue 11): `POST /v1/invoices` one event per
 * request, `POST /v1/invoices/batch` as JSON (1,000 events) and as NDJSON (10,000 lines), and whether
 * its memory stays flat under a steady load (soak).
 *
 * Starts Postgres and Redis as the testkit does (TESTKIT_MODES, default `local`: the machine's
 * binaries, fsync off), runs the gateway's migrations, creates a tenant and its API key, then starts
 * the real credentials service and the real gateway as child processes (`src/main.ts` of each, as in
 * production, LOG_LEVEL=warn) and creates a test-environment credential through `POST /v1/credentials`.
 * Load comes from another child process (this file with `--loader`) running autocannon, every request
 * a distinct document. While it runs, the gateway's RSS and heap (from `/metrics`), the CPU used by
 * each process, Postgres connections and the outbox are sampled. Everything is stopped at the end.
 *
 *   node services/gateway/bench/intake.ts [--duration 30] [--mode single|batch|ndjson|all|soak]
 *     [--soak 600] [--rate 250] [--connections N] [--pool-max N] [--sample 5] [--cpu-prof]
 *
 * --mode all runs single, batch and ndjson for --duration seconds each; --soak N adds (or with
 * --mode soak is) N seconds of single events at a steady --rate (requests/s), memory sampled every
 * 30 s. --cpu-prof starts the gateway under `--cpu-prof` and prints its hottest functions at the end.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPool, createRedis, type Pool, type Redis, runMigrations } from '@sts/shared';
import { startTestStack, type TestStack } from '@sts/testkit';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { gatewayMigrations } from '../src/db/migrations.ts';
import { FIND_EVENTS_SQL } from '../src/invoices/invoice-store.ts';
import { gatewayAccounts } from '../test-support/index.ts';
import { CLINIC_VAT_NUMBER, invoiceEvent } from '../test-support/invoice-events.ts';

type Mode = 'single' | 'batch' | 'ndjson' | 'soak';

/** What the loader process is told to do. */
interface LoadPlan {
  base: string;
  apiKey: string;
  mode: Mode;
  seconds: number;
  connections: number;
  /** Requests per second across all connections (soak); none: as fast as answered. */
  rate?: number;
  /** The first document number of this phase; every request takes the next ones. */
  firstDocument: number;
  eventsPerRequest: number;
}

/** What the loader reports back. */
interface LoadResult {
  seconds: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** From the answers of batches: events accepted, duplicates, rejected (single: from the status). */
  accepted: number;
  duplicates: number;
  rejected: number;
  firstRejection?: string;
  documentsSent: number;
}

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// ---------------------------------------------------------------------------------------------
// The loader process: autocannon, unique documents per request.
// ---------------------------------------------------------------------------------------------

async function runLoader(): Promise<void> {
  const plan = await new Promise<LoadPlan>((resolve) => process.once('message', resolve as never));
  let next = plan.firstDocument;
  const counts = { accepted: 0, duplicates: 0, rejected: 0, documentsSent: 0 };
  let firstRejection: string | undefined;
  const line = (n: number) => JSON.stringify(invoiceEvent(n));
  const body = (): string => {
    const first = next;
    next += plan.eventsPerRequest;
    counts.documentsSent += plan.eventsPerRequest;
    if (plan.mode === 'single' || plan.mode === 'soak') return line(first);
    const lines: string[] = [];
    for (let n = first; n < first + plan.eventsPerRequest; n++) lines.push(line(n));
    return plan.mode === 'batch' ? `{"events":[${lines.join(',')}]}` : `${lines.join('\n')}\n`;
  };
  const batched = plan.mode === 'batch' || plan.mode === 'ndjson';
  const instance = autocannon({
    url: plan.base,
    connections: plan.connections,
    duration: plan.seconds,
    timeout: 60,
    ...(plan.rate ? { overallRate: plan.rate } : {}),
    requests: [
      {
        method: 'POST',
        path: batched ? '/v1/invoices/batch' : '/v1/invoices',
        headers: {
          authorization: `Bearer ${plan.apiKey}`,
          'content-type': plan.mode === 'ndjson' ? 'application/x-ndjson' : 'application/json',
        },
        setupRequest: (request) => ({ ...request, body: body() }),
        onResponse: (status, responseBody) => {
          if (!batched) {
            if (status === 202) counts.accepted += 1;
            else if (status === 200) counts.duplicates += 1;
            else {
              counts.rejected += 1;
              firstRejection ??= `${status} ${String(responseBody).slice(0, 300)}`;
            }
            return;
          }
          if (status !== 200) {
            firstRejection ??= `${status} ${String(responseBody).slice(0, 300)}`;
            return;
          }
          const answer = JSON.parse(responseBody) as {
            summary: { accepted: number; duplicates: number; rejected: number };
            items: { outcome: string; errors?: unknown }[];
          };
          counts.accepted += answer.summary.accepted;
          counts.duplicates += answer.summary.duplicates;
          counts.rejected += answer.summary.rejected;
          if (answer.summary.rejected > 0 && !firstRejection) {
            const item = answer.items.find((candidate) => candidate.outcome === 'rejected');
            firstRejection = JSON.stringify(item).slice(0, 300);
          }
        },
      },
    ],
  });
  const result = await instance;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stat.count ?? 0;
  const report: LoadResult = {
    seconds: result.duration,
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    ...counts,
    ...(firstRejection ? { firstRejection } : {}),
  };
  // Stays until the parent has read this process's CPU time, then lets go of the channel.
  process.once('disconnect', () => process.exit(0));
  process.send!(report);
}

// ---------------------------------------------------------------------------------------------
// The benchmark: servers, services, phases, samples, report.
// ---------------------------------------------------------------------------------------------

interface Services {
  stack: TestStack;
  databaseUrl: string;
  redisUrl: string;
  pool: Pool;
  redis: Redis;
  gateway: ChildProcess;
  credentials: ChildProcess;
  base: string;
  apiKey: string;
  tenantId: string;
  profileDir?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '30' },
      mode: { type: 'string', default: 'all' },
      soak: { type: 'string' },
      rate: { type: 'string', default: '250' },
      connections: { type: 'string' },
      'pool-max': { type: 'string' },
      sample: { type: 'string', default: '5' },
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const mode = values.mode as Mode | 'all';
  if (!['single', 'batch', 'ndjson', 'all', 'soak'].includes(mode)) {
    throw new Error(`--mode must be single, batch, ndjson, all or soak (not ${mode})`);
  }
  const seconds = Number(values.duration);
  const soakSeconds = values.soak ? Number(values.soak) : mode === 'soak' ? 600 : 0;
  const phases: Mode[] = mode === 'all' ? ['single', 'batch', 'ndjson'] : mode === 'soak' ? [] : [mode];
  if (soakSeconds > 0) phases.push('soak');

  const env = process.env;
  printMachine();
  const services = await startEverything({
    poolMax: values['pool-max'],
    cpuProfile: values['cpu-prof'] ?? false,
  });
  const stopAll = once(() => stopEverything(services));
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    // JIT, pools and caches warm before anything is measured.
    await runPhase(services, {
      label: 'warm-up (not counted)',
      mode: 'single',
      seconds: 5,
      connections: 16,
      sampleSeconds: 5,
      quiet: true,
    });
    const results: PhaseReport[] = [];
    for (const phase of phases) {
      const connections = values.connections
        ? Number(values.connections)
        : { single: 32, batch: 8, ndjson: 4, soak: 32 }[phase];
      results.push(
        await runPhase(services, {
          label: phase,
          mode: phase,
          seconds: phase === 'soak' ? soakSeconds : seconds,
          connections,
          sampleSeconds: phase === 'soak' ? 30 : Number(values.sample),
          ...(phase === 'soak' ? { rate: Number(values.rate) } : {}),
        }),
      );
    }
    printSummary(results, env);
    await explainLookup(services);
  } finally {
    await stopAll();
  }
  if (services.profileDir) printProfile(services.profileDir);
}

function printMachine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  const memory = Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s*(\d+)/)?.[1] ?? 0);
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 0;
  console.log(
    `machine: ${cores} logical CPUs (${cpu}), ${(memory / 1024 / 1024).toFixed(1)} GiB, Node ${process.version}, ` +
      `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${new Date().toISOString()}`,
  );
}

/** What to stop if start-up fails half way (in reverse order). */
const started: (() => Promise<unknown>)[] = [];

async function startEverything(options: {
  poolMax: string | undefined;
  cpuProfile: boolean;
}): Promise<Services> {
  try {
    return await startServices(options);
  } catch (error) {
    stopping = true;
    for (const stop of started.reverse()) await stop().catch(() => {});
    throw error;
  }
}

async function startServices(options: {
  poolMax: string | undefined;
  cpuProfile: boolean;
}): Promise<Services> {
  const stack = await startTestStack({ ...process.env, TESTKIT_MODES: process.env.TESTKIT_MODES ?? 'local' });
  started.push(() => stack.stop());
  console.log(`servers: ${stack.describe()}`);
  const admin = createPool({ url: stack.postgresAdminUrl, max: 1, applicationName: 'gateway-bench' });
  await admin.query('create database gateway_bench');
  await admin.end();
  const databaseUrl = stack.postgresAdminUrl.replace(/\/[^/]*$/, '/gateway_bench');
  const redisUrl = stack.redisUrl;
  await runMigrations(databaseUrl, gatewayMigrations);
  const pool = createPool({ url: databaseUrl, applicationName: 'gateway-bench' });
  const redis = createRedis(redisUrl, 'gateway-bench');
  started.push(async () => redis.disconnect());
  started.push(() => pool.end());
  const { tenants } = gatewayAccounts(pool);
  const created = await tenants.create({
    name: 'Clinica Benchmark',
    scopes: ['invoices:write', 'invoices:read', 'credentials:manage'],
  });
  const apiKey = created.firstKey.key;

  const common = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
  };
  const credentialsPort = await freePort();
  const credentials = startChild('credentials', ['services/credentials/src/main.ts'], [], {
    ...common,
    PORT: String(credentialsPort),
    CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: 'true',
  });
  started.push(() => stopProcess(credentials));
  await waitForHealth(`http://127.0.0.1:${credentialsPort}`, credentials);

  const gatewayPort = await freePort();
  const profileDir = options.cpuProfile ? mkdtempSync(join(tmpdir(), 'gateway-cpu-prof-')) : undefined;
  const gateway = startChild(
    'gateway',
    ['services/gateway/src/main.ts'],
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    {
      ...common,
      PORT: String(gatewayPort),
      GATEWAY_ALLOW_DEVELOPMENT_KEYS: 'true',
      GATEWAY_RATE_LIMIT_PER_MINUTE: '100000000',
      CREDENTIALS_URL: `http://127.0.0.1:${credentialsPort}`,
      ...(options.poolMax ? { DATABASE_POOL_MAX: options.poolMax } : {}),
    },
  );
  started.push(() => stopProcess(gateway));
  const base = `http://127.0.0.1:${gatewayPort}`;
  await waitForHealth(base, gateway);

  // A test-environment credential for the clinic's VAT number (no STS call without ?test=true).
  const response = await fetch(`${base}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      label: 'Benchmark doctor',
      environment: 'test',
      kind: 'basic',
      user: 'GTWMRA80A01H501U',
      password: 'Bench.Pw.2026',
      pincode: '7310486295',
      owner: { taxCode: 'GTWMRA80A01H501U' },
      vatNumbers: [CLINIC_VAT_NUMBER],
    }),
  });
  if (response.status !== 201) {
    throw new Error(`creating the credential: ${response.status} ${await response.text()}`);
  }
  console.log(
    `gateway pid ${gateway.pid} (${base}), credentials pid ${credentials.pid}; tenant ${created.tenant.id}`,
  );
  return {
    stack,
    databaseUrl,
    redisUrl,
    pool,
    redis,
    gateway,
    credentials,
    base,
    apiKey,
    tenantId: created.tenant.id,
    ...(profileDir ? { profileDir } : {}),
  };
}

/** A service's `src/main.ts` in its own process; its output (warnings and worse) goes on, prefixed. */
function startChild(name: string, args: string[], nodeArgs: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  const relay = (chunk: Buffer) => {
    for (const text of chunk.toString().split('\n')) {
      if (!text.trim()) continue;
      lines += 1;
      if (lines <= 20) process.stderr.write(`[${name}] ${text.slice(0, 400)}\n`);
      else if (lines === 21) process.stderr.write(`[${name}] … further output not shown\n`);
    }
  };
  child.stdout!.on('data', relay);
  child.stderr!.on('data', relay);
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`[${name}] exited unexpectedly (code ${code}, signal ${signal})`);
  });
  return child;
}

let stopping = false;

async function waitForHealth(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${base}: the process exited (${child.exitCode})`);
    try {
      const response = await fetch(`${base}/health`);
      if (response.ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${base} did not become healthy within 60 s`);
}

async function stopEverything(services: Services): Promise<void> {
  stopping = true;
  await Promise.all([stopProcess(services.gateway), stopProcess(services.credentials)]);
  await services.pool.end().catch(() => {});
  services.redis.disconnect();
  await services.stack.stop();
  console.log('stopped: gateway, credentials service, Postgres, Redis');
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------
// One phase: load from the loader process, samples meanwhile, the outbox drained afterwards.
// ---------------------------------------------------------------------------------------------

interface PhaseReport {
  label: string;
  mode: Mode;
  connections: number;
  rate?: number;
  load: LoadResult;
  documentsStored: number;
  cpu: Record<string, number>;
  machineBusy: number;
  memory: { rss: number[]; heap: number[] };
  pg: { transactionsPerSecond: number; meanActive: number; meanWaitingLock: number; maxConnections: number };
  outbox: { maxRows: number; rowsAtEnd: number; drainSeconds: number };
  jobs: Record<string, number>;
  redisMemory: string;
}

const EVENTS_PER_REQUEST: Record<Mode, number> = { single: 1, soak: 1, batch: 1000, ndjson: 10_000 };
const FIRST_DOCUMENT: Record<Mode, number> = {
  single: 10_000_000,
  batch: 20_000_000,
  ndjson: 40_000_000,
  soak: 80_000_000,
};
let warmUpDone = false;

async function runPhase(
  services: Services,
  options: {
    label: string;
    mode: Mode;
    seconds: number;
    connections: number;
    sampleSeconds: number;
    rate?: number;
    quiet?: boolean;
  },
): Promise<PhaseReport> {
  const { mode } = options;
  console.log(
    `\n== ${options.label}: ${options.seconds} s, ${options.connections} connections` +
      `${options.rate ? `, ${options.rate} requests/s` : ''}, ${EVENTS_PER_REQUEST[mode]} event(s) per request`,
  );
  const firstDocument = FIRST_DOCUMENT[mode] + (mode === 'single' && warmUpDone ? 5_000_000 : 0);
  if (mode === 'single') warmUpDone = true;
  const storedBefore = await countInvoices(services.pool);
  const loader = fork(SCRIPT, ['--loader'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<LoadResult>((resolve, reject) => {
    loader.once('message', (message) => resolve(message as LoadResult));
    loader.once('exit', (code) => reject(new Error(`the loader exited (${code}) without a result`)));
  });
  const plan: LoadPlan = {
    base: services.base,
    apiKey: services.apiKey,
    mode,
    seconds: options.seconds,
    connections: options.connections,
    firstDocument,
    eventsPerRequest: EVENTS_PER_REQUEST[mode],
    ...(options.rate ? { rate: options.rate } : {}),
  };
  loader.send(plan);

  const groups = () => processGroups(services, loader);
  const cpuStart = cpuTicks(groups());
  const machineStart = machineTicks();
  const pgStart = await pgCommits(services.pool);
  const samples: Sample[] = [];
  const started = Date.now();
  let finished = false;
  void result.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  let previous = { at: Date.now(), cpu: cpuStart, machine: machineStart };
  while (!finished) {
    const wait = Math.min(
      options.sampleSeconds * 1000,
      started + options.seconds * 1000 + 60_000 - Date.now(),
    );
    await Promise.race([sleep(Math.max(wait, 100)), result.catch(() => {})]);
    if (finished) break;
    const now = { at: Date.now(), cpu: cpuTicks(groups()), machine: machineTicks() };
    const sample = await takeSample(services, previous, now);
    samples.push(sample);
    previous = now;
    if (!options.quiet) printSample(Math.round((now.at - started) / 1000), sample);
  }
  const load = await result;
  // Counted when the load stops: requests still in flight then (the loader closed their
  // connections) are not the load's throughput.
  const documentsStored = (await countInvoices(services.pool)) - storedBefore;
  const cpuEnd = cpuTicks(groups());
  const machineEnd = machineTicks();
  loader.disconnect();
  const pgEnd = await pgCommits(services.pool);
  const elapsed = (Date.now() - started) / 1000;

  // The relay drains what is left; how long it takes says whether it kept up.
  const drainStarted = Date.now();
  let rowsAtEnd = await outboxRows(services.pool);
  const leftAtLoadEnd = rowsAtEnd;
  while (rowsAtEnd > 0 && Date.now() - drainStarted < 120_000) {
    await sleep(250);
    rowsAtEnd = await outboxRows(services.pool);
  }
  const drainSeconds = leftAtLoadEnd === 0 ? 0 : (Date.now() - drainStarted) / 1000;
  const jobs = await jobCounts(services.redisUrl);
  const report: PhaseReport = {
    label: options.label,
    mode,
    connections: options.connections,
    ...(options.rate ? { rate: options.rate } : {}),
    load,
    documentsStored,
    cpu: cpuShare(cpuStart, cpuEnd, elapsed),
    machineBusy: busyShare(machineStart, machineEnd),
    memory: {
      rss: samples.map((sample) => sample.rss),
      heap: samples.map((sample) => sample.heapUsed),
    },
    pg: {
      transactionsPerSecond: (pgEnd - pgStart) / elapsed,
      meanActive: mean(samples.map((sample) => sample.pgActive)),
      meanWaitingLock: mean(samples.map((sample) => sample.pgWaitingLock)),
      maxConnections: Math.max(0, ...samples.map((sample) => sample.pgConnections)),
    },
    outbox: {
      maxRows: Math.max(leftAtLoadEnd, ...samples.map((sample) => sample.outboxRows)),
      rowsAtEnd: leftAtLoadEnd,
      drainSeconds,
    },
    jobs,
    redisMemory: await redisMemory(services.redis),
  };
  if (!options.quiet) printPhase(report);
  return report;
}

interface Sample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  cpu: Record<string, number>;
  machineBusy: number;
  outboxRows: number;
  pgConnections: number;
  pgActive: number;
  pgWaitingLock: number;
}

async function takeSample(
  services: Services,
  previous: { at: number; cpu: Record<string, Map<number, number>>; machine: number[] },
  now: { at: number; cpu: Record<string, Map<number, number>>; machine: number[] },
): Promise<Sample> {
  const metrics = await gatewayMemory(services.base, services.gateway.pid!);
  const activity = await services.pool.query<{ state: string | null; wait: string | null; count: string }>(
    `select state, wait_event_type as wait, count(*) from pg_stat_activity
      where datname = current_database() and application_name = 'gateway' group by 1, 2`,
  );
  const count = (filter: (row: { state: string | null; wait: string | null }) => boolean) =>
    activity.rows.filter(filter).reduce((sum, row) => sum + Number(row.count), 0);
  return {
    ...metrics,
    cpu: cpuShare(previous.cpu, now.cpu, (now.at - previous.at) / 1000),
    machineBusy: busyShare(previous.machine, now.machine),
    outboxRows: await outboxRows(services.pool),
    pgConnections: count(() => true),
    pgActive: count((row) => row.state === 'active'),
    pgWaitingLock: count((row) => row.state === 'active' && row.wait === 'Lock'),
  };
}

/** RSS from /proc (the truth), heap from the gateway's prom-client default metrics. */
async function gatewayMemory(base: string, pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(status.match(/VmRSS:\s*(\d+)/)?.[1] ?? 0) * 1024;
  const text = await (await fetch(`${base}/metrics`)).text();
  const metric = (name: string) =>
    Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm'))?.[1] ?? NaN);
  return {
    rss,
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    heapTotal: metric('nodejs_heap_size_total_bytes'),
  };
}

/** What the rest of the machine used (other people's work: the machine is shared). */
const others = (machine: number, ours: Record<string, number>) =>
  Math.max(0, machine - Object.values(ours).reduce((a, b) => a + b, 0));
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const pct = (share: number | undefined) => `${((share ?? 0) * 100).toFixed(0)}%`;
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
const int = (value: number) => Math.round(value).toLocaleString('en-US');

function printSample(at: number, sample: Sample) {
  const cpu = Object.entries(sample.cpu)
    .map(([name, share]) => `${name} ${pct(share)}`)
    .join(', ');
  console.log(
    `  t=${String(at).padStart(4)} s  rss ${MB(sample.rss)}  heap ${MB(sample.heapUsed)}/${MB(sample.heapTotal)}` +
      `  cpu: ${cpu}, others ${pct(others(sample.machineBusy, sample.cpu))}` +
      `  pg: ${sample.pgActive}/${sample.pgConnections} active (${sample.pgWaitingLock} on locks)  outbox ${sample.outboxRows}`,
  );
}

function printPhase(report: PhaseReport) {
  const { load } = report;
  const documentsPerSecond = report.documentsStored / load.seconds;
  console.log(
    `-- ${report.label}: ${int(load.ok / load.seconds)} requests/s (2xx), ${int(documentsPerSecond)} documents/s stored` +
      ` (${int(report.documentsStored)} in ${load.seconds.toFixed(1)} s)`,
  );
  console.log(
    `   latency ms p50 ${load.latency.p50}  p90 ${load.latency.p90}  p99 ${load.latency.p99}  max ${load.latency.max}` +
      `  | requests ${int(load.requests)}, 2xx ${int(load.ok)}, non-2xx ${load.non2xx}, errors ${load.errors}, timeouts ${load.timeouts}` +
      `  status ${JSON.stringify(load.statusCodes)}`,
  );
  console.log(
    `   answers: accepted ${int(load.accepted)}, duplicates ${load.duplicates}, rejected ${load.rejected}` +
      `${load.firstRejection ? `; first rejection: ${load.firstRejection}` : ''}`,
  );
  console.log(
    `   cpu over the phase (100% = one core): ${Object.entries(report.cpu)
      .map(([name, share]) => `${name} ${pct(share)}`)
      .join(
        ', ',
      )}; everything else on the machine ${pct(others(report.machineBusy, report.cpu))} (machine ${pct(report.machineBusy)} of 200%)`,
  );
  console.log(
    `   postgres: ${int(report.pg.transactionsPerSecond)} commits/s, gateway connections ${report.pg.maxConnections}` +
      ` (mean active ${report.pg.meanActive.toFixed(1)}, on locks ${report.pg.meanWaitingLock.toFixed(1)})`,
  );
  console.log(
    `   outbox: at most ${int(report.outbox.maxRows)} rows waiting, ${report.outbox.rowsAtEnd} at the end of the load,` +
      ` drained in ${report.outbox.drainSeconds.toFixed(1)} s; documents-accepted jobs ${JSON.stringify(report.jobs)};` +
      ` redis ${report.redisMemory}`,
  );
  const rss = report.memory.rss;
  const heap = report.memory.heap;
  if (rss.length > 0) {
    console.log(
      `   gateway memory: rss first ${MB(rss[0]!)}, last ${MB(rss.at(-1)!)}, max ${MB(Math.max(...rss))};` +
        ` heap used first ${MB(heap[0]!)}, last ${MB(heap.at(-1)!)}, max ${MB(Math.max(...heap))}` +
        `${rss.length >= 4 ? `; trend after the first quarter: rss ${slope(rss)}, heap ${slope(heap)}` : ''}`,
    );
  }
}

/** Least-squares slope of the samples after the first quarter, in MB per sample interval. */
function slope(values: number[]): string {
  const tail = values.slice(Math.floor(values.length / 4));
  const xs = tail.map((_, i) => i);
  const mx = mean(xs);
  const my = mean(tail);
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * (tail[i]! - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0) || 1;
  const mb = num / den / 1024 / 1024;
  return `${mb >= 0 ? '+' : ''}${mb.toFixed(2)} MB/sample`;
}

function printSummary(results: PhaseReport[], env: NodeJS.ProcessEnv) {
  console.log('\n== summary');
  console.log(
    '| phase | connections | requests/s | documents/s | p50 ms | p90 ms | p99 ms | non-2xx | errors | gateway CPU | postgres CPU | loader CPU | others CPU |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
  for (const report of results) {
    const { load } = report;
    console.log(
      `| ${report.label}${report.rate ? ` (${report.rate}/s)` : ''} | ${report.connections} | ${int(load.ok / load.seconds)} | ` +
        `${int(report.documentsStored / load.seconds)} | ${load.latency.p50} | ${load.latency.p90} | ${load.latency.p99} | ` +
        `${load.non2xx} | ${load.errors + load.timeouts} | ${pct(report.cpu.gateway)} | ${pct(report.cpu.postgres)} | ${pct(report.cpu.loader)} | ${pct(others(report.machineBusy, report.cpu))} |`,
    );
  }
  if (env.TESTKIT_MODES === undefined || env.TESTKIT_MODES === 'local') {
    console.log('(Postgres as the testkit runs it: fsync, synchronous_commit and full_page_writes off.)');
  }
}

// ---------------------------------------------------------------------------------------------
// Observations: /proc, Postgres, Redis.
// ---------------------------------------------------------------------------------------------

/** The processes of each part, by pid: Postgres is its postmaster and every backend under it. */
function processGroups(services: Services, loader: ChildProcess): Record<string, number[]> {
  const pgPort = new URL(services.stack.postgresAdminUrl).port;
  const redisPort = new URL(services.redisUrl).port;
  const table: { pid: number; ppid: number; comm: string; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      table.push({ pid: Number(entry), ppid, comm, cmdline });
    } catch {}
  }
  const postmaster = table.find(
    (row) => row.comm === 'postgres' && row.cmdline.includes(` -p ${pgPort} `) && row.cmdline.includes('-D'),
  );
  const redis = table.find(
    (row) => row.comm.startsWith('redis-server') && row.cmdline.includes(`:${redisPort}`),
  );
  return {
    gateway: [services.gateway.pid!],
    postgres: postmaster
      ? [postmaster.pid, ...table.filter((row) => row.ppid === postmaster.pid).map((row) => row.pid)]
      : [],
    redis: redis ? [redis.pid] : [],
    credentials: [services.credentials.pid!],
    loader: loader.pid ? [loader.pid] : [],
  };
}

function cpuTicks(groups: Record<string, number[]>): Record<string, Map<number, number>> {
  const out: Record<string, Map<number, number>> = {};
  for (const [name, pids] of Object.entries(groups)) {
    const ticks = new Map<number, number>();
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      } catch {}
    }
    out[name] = ticks;
  }
  return out;
}

/** Share of one core each part used between two readings (clock ticks of 10 ms). */
function cpuShare(
  before: Record<string, Map<number, number>>,
  after: Record<string, Map<number, number>>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ticks] of Object.entries(after)) {
    let used = 0;
    for (const [pid, value] of ticks) used += value - (before[name]?.get(pid) ?? 0);
    out[name] = used / 100 / seconds;
  }
  return out;
}

function machineTicks(): number[] {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
}

/** Share of the whole machine busy (of every core: 1 is both cores full) between two readings. */
function busyShare(before: number[], after: number[]): number {
  const delta = after.map((value, i) => value - (before[i] ?? 0));
  const total = delta.reduce((a, b) => a + b, 0);
  const idle = (delta[3] ?? 0) + (delta[4] ?? 0);
  return total > 0 ? (2 * (total - idle)) / total : 0;
}

/** The plan of the intake's look-up of a document's chain (invoice-store.ts findEventsOf), on the filled table. */
async function explainLookup(services: Services): Promise<void> {
  const { rows } = await services.pool.query<{ document_key: string }>(
    'select document_key from gateway.invoices order by received_at desc limit 1',
  );
  const known = rows[0]?.document_key ?? 'none';
  const plan = await services.pool.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, buffers) ${FIND_EVENTS_SQL}`,
    [services.tenantId, [known, 'not-a-stored-key']],
  );
  console.log(
    `\n== plan of the chain look-up (findEventsOf), ${int(await countInvoices(services.pool))} invoices stored`,
  );
  for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
}

async function countInvoices(pool: Pool): Promise<number> {
  return Number(
    (await pool.query<{ count: string }>('select count(*) from gateway.invoices')).rows[0]!.count,
  );
}

async function outboxRows(pool: Pool): Promise<number> {
  return Number((await pool.query<{ count: string }>('select count(*) from gateway.outbox')).rows[0]!.count);
}

async function pgCommits(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ commits: string }>(
    'select xact_commit as commits from pg_stat_database where datname = current_database()',
  );
  return Number(rows[0]!.commits);
}

async function jobCounts(redisUrl: string): Promise<Record<string, number>> {
  const connection = createRedis(redisUrl, 'gateway-bench-jobs');
  const queue = new Queue('documents-accepted', { connection });
  try {
    return await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function redisMemory(redis: Redis): Promise<string> {
  const info = await redis.info('memory');
  return info.match(/used_memory_human:(\S+)/)?.[1] ?? '?';
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

/** The gateway's hottest functions by self time, from the profile it wrote on exit. */
function printProfile(dir: string) {
  const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      nodes: {
        id: number;
        hitCount: number;
        callFrame: { functionName: string; url: string; lineNumber: number };
      }[];
    };
    const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
    const byFunction = new Map<string, number>();
    const byPackage = new Map<string, number>();
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame;
      const short = url.replace(/^file:\/\//, '').replace(ROOT, '');
      const name = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + node.hitCount);
      const pkg =
        short.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ??
        (short.startsWith('node:')
          ? 'node:*'
          : short === ''
            ? functionName || '(native)'
            : short.split('/').slice(0, 2).join('/'));
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.hitCount);
    }
    const top = (map: Map<string, number>, count: number) =>
      [...map.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, count)
        .map(([name, hits]) => `  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`)
        .join('\n');
    console.log(`\n== gateway CPU profile ${join(dir, file)} (${total} samples)`);
    console.log(`by package or folder (self time):\n${top(byPackage, 20)}`);
    console.log(`by function (self time):\n${top(byFunction, 30)}`);
  }
}

// Last, so that every module-level declaration above is initialised.
if (process.argv.includes('--loader')) {
  await runLoader();
} else {
  await main();
}
