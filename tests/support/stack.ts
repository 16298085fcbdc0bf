import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The whole product as separate processes, as `./run start` runs it: the STS simulator, then the
 * credentials service, the gateway and the submitter, each `node <part>/src/main.ts` on a free port,
 * on the test's Postgres and Redis. For end-to-end and fault tests: a part can be killed (SIGKILL)
 * and started again; every process's output is kept for the failure message.
 */
export type PartName = 'simulator' | 'credentials' | 'gateway' | 'submitter';

const ENTRY: Record<PartName, string> = {
  simulator: 'packages/sts-simulator/src/main.ts',
  credentials: 'services/credentials/src/main.ts',
  gateway: 'services/gateway/src/main.ts',
  submitter: 'services/submitter/src/main.ts',
};

export interface StackOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Accounts of the simulator (`STS_SIM_USERS`). */
  simulatorUsers?: readonly Record<string, unknown>[];
  /** Extra environment per part (timings, faults, calendar …). */
  env?: Partial<Record<PartName, Record<string, string>>>;
}

export interface Stack {
  urls: Record<PartName, string>;
  adminToken: string;
  /** Kills a part at once (SIGKILL: no shutdown, as a crash). */
  kill(part: PartName): Promise<void>;
  /** Starts a part again on the same port and waits until it is healthy. */
  start(part: PartName): Promise<void>;
  output(part: PartName): string;
  /**
   * Starts one more submitter replica (`node services/submitter/src/main.ts` on a port of its own,
   * with the submitter's environment) and waits until it is healthy; `stop()` stops it too.
   */
  addSubmitter(): Promise<Replica>;
  stop(): Promise<void>;
}

/** A further replica of a part, started by `addSubmitter`. */
export interface Replica {
  url: string;
  output(): string;
  /** Kills it at once (SIGKILL). */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a child has ended: `exitCode` stays null for one killed by a signal (SIGKILL), `signalCode` tells. */
const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function waitHealthy(url: string, process: ChildProcess, output: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(process))
      throw new Error(`${url} exited (${process.exitCode ?? process.signalCode}):\n${output().slice(-4000)}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms:\n${output().slice(-4000)}`);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'sts-stack-'));
  const ports = {
    simulator: await freePort(),
    credentials: await freePort(),
    gateway: await freePort(),
    submitter: await freePort(),
  };
  const urls = Object.fromEntries(
    Object.entries(ports).map(([part, port]) => [part, `http://127.0.0.1:${port}`]),
  ) as Record<PartName, string>;
  const adminToken = `admin-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const certificate = join(dir, 'sanitel-stand-in.pem');
  const common = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
  const env: Record<PartName, Record<string, string>> = {
    simulator: {
      ...common,
      PORT: String(ports.simulator),
      STS_SIM_CERTIFICATE_FILE: certificate,
      STS_SIM_PRIVATE_KEY_FILE: join(dir, 'sanitel-stand-in.key'),
      STS_SIM_STATE_FILE: join(dir, 'simulator-state.ndjson'),
      STS_SIM_ADMIN_TOKEN: adminToken,
      STS_SIM_PROCESSING_DELAY_MS: '300',
      ...(options.simulatorUsers ? { STS_SIM_USERS: JSON.stringify(options.simulatorUsers) } : {}),
      ...options.env?.simulator,
    },
    credentials: {
      ...common,
      PORT: String(ports.credentials),
      CREDENTIALS_ALLOW_DEVELOPMENT_KEYS: 'true',
      STS_TEST_BASE_URL: urls.simulator,
      SANITEL_TEST_CERTIFICATE_FILE: certificate,
      ...options.env?.credentials,
    },
    gateway: {
      ...common,
      PORT: String(ports.gateway),
      GATEWAY_ALLOW_DEVELOPMENT_KEYS: 'true',
      CREDENTIALS_URL: urls.credentials,
      SUBMITTER_URL: urls.submitter,
      SANITEL_TEST_CERTIFICATE_FILES: certificate,
      GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000',
      GATEWAY_WEBHOOK_ALLOW_HTTP: 'true',
      GATEWAY_RELAY_INTERVAL_MS: '50',
      ...options.env?.gateway,
    },
    submitter: {
      ...common,
      PORT: String(ports.submitter),
      SUBMITTER_ALLOW_DEVELOPMENT_KEYS: 'true',
      CREDENTIALS_URL: urls.credentials,
      STS_TEST_BASE_URL: urls.simulator,
      SANITEL_TEST_CERTIFICATE_FILES: certificate,
      SUBMITTER_FLUSH_INTERVAL_MS: '500',
      SUBMITTER_FIRST_POLL_DELAY_MS: '500',
      SUBMITTER_SWEEP_INTERVAL_MS: '500',
      SUBMITTER_IDLE_AFTER_MS: '3000',
      SUBMITTER_STUCK_AFTER_MS: '10000',
      SUBMITTER_RELAY_INTERVAL_MS: '50',
      STS_RESPONSE_TIMEOUT_MS: '5000',
      ...options.env?.submitter,
    },
  };
  const processes = new Map<PartName, ChildProcess>();
  const outputs: Record<PartName, string[]> = { simulator: [], credentials: [], gateway: [], submitter: [] };
  const output = (part: PartName) => outputs[part].join('');

  async function start(part: PartName) {
    const child = spawn(process.execPath, [ENTRY[part]], {
      env: env[part],
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      outputs[part].push(chunk.toString());
      if (outputs[part].length > 2000) outputs[part].splice(0, 1000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    processes.set(part, child);
    await waitHealthy(urls[part], child, () => output(part));
  }

  async function kill(part: PartName) {
    const child = processes.get(part);
    if (!child || hasExited(child)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  const replicas: ChildProcess[] = [];
  async function addSubmitter(): Promise<Replica> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const chunks: string[] = [];
    const child = spawn(process.execPath, [ENTRY.submitter], {
      env: { ...env.submitter, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      chunks.push(chunk.toString());
      if (chunks.length > 2000) chunks.splice(0, 1000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    replicas.push(child);
    await waitHealthy(url, child, () => chunks.join(''));
    return {
      url,
      output: () => chunks.join(''),
      async kill() {
        if (hasExited(child)) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  async function stop() {
    await Promise.all(
      [...processes.values(), ...replicas].map(async (child) => {
        if (hasExited(child)) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  try {
    await start('simulator');
    await start('credentials');
    await Promise.all([start('gateway'), start('submitter')]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, adminToken, kill, start, output, addSubmitter, stop };
}
