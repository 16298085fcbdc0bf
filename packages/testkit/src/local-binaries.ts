import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface RunningServer {
  url: string;
  description: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
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

/** PostgreSQL refuses to run as root; when we are root, the server runs as the `postgres` user. */
function postgresIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as');
  }
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Keeps the last few KB a server printed, for the error message if it does not come up. */
function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

/** Waits until the server answers; if it does not, the process is stopped before the error is thrown. */
async function waitForServer(
  what: string,
  bin: string,
  child: ChildProcess,
  output: () => string,
  attempt: () => Promise<boolean>,
): Promise<void> {
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot run ${bin}: ${err.message}`))),
  );
  try {
    await Promise.race([spawnError, waitFor(what, child, output, attempt)]);
  } catch (error) {
    await stopProcess(child, 'SIGKILL');
    throw error;
  }
}

async function waitFor(
  what: string,
  child: ChildProcess,
  output: () => string,
  attempt: () => Promise<boolean>,
) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode}: ${output().trim()}`);
    if (await attempt()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not become ready within 30 s: ${output().trim()}`);
}

/** A throw-away PostgreSQL cluster from the machine's binaries, tuned for tests (no fsync). */
export async function startLocalPostgres(binDir: string): Promise<RunningServer> {
  const postgresBin = join(binDir, 'postgres');
  if (!existsSync(postgresBin))
    throw new Error(`no PostgreSQL server at ${postgresBin} (set TESTKIT_PG_BIN)`);
  const identity = postgresIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'testkit-pg-'));
  if (identity) chownSync(dir, identity.uid, identity.gid);
  const dataDir = join(dir, 'data');
  execFileSync(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    {
      stdio: 'pipe',
      ...identity,
    },
  );
  const port = await freePort();
  const child = spawn(
    postgresBin,
    [
      ...['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
      ...[
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...identity },
  );
  const output = captureOutput(child);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitForServer('PostgreSQL', postgresBin, child, output, async () => {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    url,
    description: `local ${postgresBin} (127.0.0.1:${port})`,
    async stop() {
      await stopProcess(child, 'SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throw-away Redis from the machine's `redis-server`, nothing persisted. */
export async function startLocalRedis(serverBin: string, databases: number): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(
    serverBin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--databases',
      String(databases),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = captureOutput(child);
  await waitForServer('Redis', serverBin, child, output, async () =>
    output().includes('Ready to accept connections'),
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    description: `local ${serverBin} (127.0.0.1:${port})`,
    stop: () => stopProcess(child, 'SIGTERM'),
  };
}
