import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Redis of the fault test's own, from the machine's `redis-server` (as packages/testkit starts its
 * local one), that can be restarted on the same port: the testkit's Redis is shared by every test
 * file, so it cannot be. `aof`: append-only file, fsync on every write (what production needs, see
 * docs/decisions.md), a restart loses nothing; `none`: nothing persisted, a restart empties it.
 */
export interface RestartableRedis {
  url: string;
  /** SHUTDOWN (the AOF flushed when there is one), then the same server again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRestartableRedis(options: {
  persistence: 'aof' | 'none';
  serverBin?: string;
}): Promise<RestartableRedis> {
  const serverBin = options.serverBin ?? process.env.TESTKIT_REDIS_SERVER ?? 'redis-server';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sts-fault-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--databases',
    '2',
    '--maxmemory-policy',
    'noeviction',
    ...(options.persistence === 'aof'
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no']),
  ];
  let child: ChildProcess | undefined;
  let output = '';

  async function start() {
    output = '';
    const started = spawn(serverBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_192);
    };
    started.stdout!.on('data', keep);
    started.stderr!.on('data', keep);
    const deadline = Date.now() + 20_000;
    while (!output.includes('Ready to accept connections')) {
      if (started.exitCode !== null) throw new Error(`redis-server exited (${started.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server not ready after 20 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function shutdown(signal: NodeJS.Signals) {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    // SIGTERM makes Redis run SHUTDOWN: the AOF is flushed and fsynced, nothing else is written.
    running.kill(signal);
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    async restart({ downMs = 1_000 } = {}) {
      await shutdown('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    async stop() {
      await shutdown('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
