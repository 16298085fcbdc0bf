import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT } from '../errors.ts';
import type { CliIo } from '../sts-cli.ts';

/**
 * Operator commands, run by a service's own CLI as a child process (a package imports no service):
 * they work on that service's database or queues, not through the public API.
 */
export const OPERATOR_COMMANDS: Record<string, { entry: string; description: string }> = {
  tenants: {
    entry: 'services/gateway/src/cli.ts',
    description:
      "tenants (create, disable): an operator command, run by the gateway's CLI on its database (needs DATABASE_URL)",
  },
  'api-keys': {
    entry: 'services/gateway/src/cli.ts',
    description:
      "API keys (create, list, revoke): an operator command, run by the gateway's CLI on its database (needs DATABASE_URL)",
  },
  jobs: {
    entry: 'services/submitter/src/cli.ts',
    description:
      "the submitter's failed jobs (failed, retry): an operator command, run by the submitter's CLI on its queues (needs REDIS_URL)",
  },
  documents: {
    entry: 'services/submitter/src/cli.ts',
    description:
      "documents whose send had no answer: `documents uncertain` lists them, `documents reconcile [--credential <id>] [--document <id>…]` reconciles them now; an operator command, run by the submitter's CLI (needs DATABASE_URL and REDIS_URL)",
  },
};
const REPOSITORY = fileURLToPath(new URL('../../../../', import.meta.url));

/** The operator commands in `sts --help` (runSts hands them to their service's CLI before parsing). */
export function registerOperatorCommands(cli: Command): void {
  for (const [name, { description }] of Object.entries(OPERATOR_COMMANDS))
    cli.command(name).description(description);
}

/** Runs a service's CLI (`node services/<name>/src/cli.ts …`) with the same arguments; its output and exit code. */
export async function runOperatorCommand(entry: string, argv: readonly string[], io: CliIo): Promise<number> {
  const path = join(REPOSITORY, entry);
  if (!existsSync(path))
    throw new Error(`${entry} is not here: operator commands run where the services are installed`);
  const child = spawn(process.execPath, [path, ...argv], {
    env: io.env as NodeJS.ProcessEnv,
    stdio: ['inherit', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => io.stdout(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => io.stderr(chunk.toString()));
  return await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? EXIT.failure)));
}
