import {
  API_KEY_SCOPE_NAMES,
  configFragments,
  createPool,
  type Pool,
  ProblemError,
  runMigrations,
  systemClock,
} from '@sts/shared';
import { Command, CommanderError, Option } from 'commander';
import {
  type ApiKeyService,
  type ApiKeyView,
  checkedScopes,
  createApiKeyService,
} from '../api-keys/api-key-service.ts';
import { createDatabase } from '../db/database.ts';
import { gatewayMigrations } from '../db/migrations.ts';
import { createTenantService, type TenantService } from '../tenants/tenant-service.ts';
import { isUuid } from '../tenants/tenant-store.ts';

/** Exit codes scripts can use. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** A mistake in how the command was called: exit 2. */
class UsageError extends Error {}

const ONCE_NOTE =
  'This is the only time the key is shown: store it now. It cannot be shown again; if it is lost, create another key (api-keys create) and revoke this one.';

interface Accounts {
  tenants: TenantService;
  apiKeys: ApiKeyService;
}

/** Opens the database named by DATABASE_URL, runs the gateway's migrations, and runs `work`. */
async function withAccounts<T>(io: CliIo, work: (accounts: Accounts) => Promise<T>): Promise<T> {
  const url = configFragments.postgres.DATABASE_URL.safeParse(io.env.DATABASE_URL);
  if (!url.success) {
    throw new UsageError(
      `DATABASE_URL: ${io.env.DATABASE_URL ? 'must be a postgres:// or postgresql:// URL' : 'not set'} (the gateway's database).`,
    );
  }
  await runMigrations(url.data, gatewayMigrations);
  const pool: Pool = createPool({ url: url.data, max: 2, applicationName: 'gateway-cli' });
  try {
    const db = createDatabase(pool);
    return await work({
      tenants: createTenantService({ db, clock: systemClock }),
      apiKeys: createApiKeyService({ db, clock: systemClock }),
    });
  } finally {
    await pool.end();
  }
}

/** `--scopes a b`, `--scopes a,b` or both, as one list. */
const scopeList = (given: readonly string[] | undefined) =>
  given
    ?.flatMap((value) => value.split(','))
    .map((scope) => scope.trim())
    .filter(Boolean);

function checkedId(what: string, value: string): string {
  if (!isUuid(value)) throw new UsageError(`${what} "${value.slice(0, 64)}" is not an id (a UUID).`);
  return value.toLowerCase();
}

const column = (rows: string[][]): string => {
  const widths = rows[0]?.map((_, index) => Math.max(...rows.map((row) => row[index]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, index) => cell.padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const keyLine = (key: ApiKeyView) =>
  `API key ${key.id} (prefix ${key.prefix}, scopes ${key.scopes.join(' ')}${key.label ? `, label "${key.label}"` : ''})`;

function program(io: CliIo, json: () => boolean): Command {
  const out = (human: string, machine: unknown) =>
    io.stdout(json() ? `${JSON.stringify(machine)}\n` : `${human}\n`);
  const scopesHelp = `one or more of ${API_KEY_SCOPE_NAMES.join(', ')} (space or comma separated)`;

  const cli = new Command('gateway')
    .description(
      "The gateway's tenants and API keys. Reads DATABASE_URL and runs the gateway's migrations first.\nExit codes: 0 done, 1 failed, 2 bad usage.",
    )
    .addOption(new Option('--json', 'print JSON for machines'))
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: () => {
        // Said once, by runGatewayCli, in text or JSON.
      },
    })
    .showHelpAfterError(false);

  const tenants = cli.command('tenants').description('tenants (clinics)');
  tenants
    .command('create')
    .description('create a tenant and print its first API key (shown once)')
    .requiredOption('--name <name>', "the tenant's name")
    .option('--scopes <scopes...>', `the first key's scopes: ${scopesHelp}; default all`)
    .option('--label <label>', "the first key's label", 'first key')
    .action(async (options: { name: string; scopes?: string[]; label: string }) => {
      const given = scopeList(options.scopes);
      const scopes = given && checkedScopes(given);
      const { tenant, firstKey } = await withAccounts(io, ({ tenants }) =>
        tenants.create({ name: options.name, scopes, label: options.label }),
      );
      out(
        `Tenant ${tenant.id} "${tenant.name}" created.\nIts first ${keyLine(firstKey.apiKey)}:\n\n  ${firstKey.key}\n\n${ONCE_NOTE}`,
        { tenant, apiKey: { ...firstKey.apiKey, key: firstKey.key }, note: ONCE_NOTE },
      );
    });
  tenants
    .command('disable')
    .description('disable a tenant: none of its API keys is accepted any more')
    .argument('<tenant-id>')
    .action(async (tenantId: string) => {
      const id = checkedId('tenant', tenantId);
      const tenant = await withAccounts(io, ({ tenants }) => tenants.disable(id));
      out(`Tenant ${tenant.id} "${tenant.name}" disabled since ${tenant.disabledAt}.`, { tenant });
    });

  const apiKeys = cli.command('api-keys').description("a tenant's API keys");
  apiKeys
    .command('create')
    .description('create an API key for a tenant (shown once)')
    .requiredOption('--tenant <tenant-id>', 'the tenant')
    .requiredOption('--scopes <scopes...>', scopesHelp)
    .option('--label <label>', 'what the key is for (e.g. "front desk")')
    .action(async (options: { tenant: string; scopes: string[]; label?: string }) => {
      const tenantId = checkedId('tenant', options.tenant);
      const scopes = checkedScopes(scopeList(options.scopes) ?? []);
      const issued = await withAccounts(io, ({ apiKeys }) =>
        apiKeys.create(tenantId, { scopes, label: options.label }),
      );
      out(`${keyLine(issued.apiKey)} created:\n\n  ${issued.key}\n\n${ONCE_NOTE}`, {
        apiKey: { ...issued.apiKey, key: issued.key },
        note: ONCE_NOTE,
      });
    });
  apiKeys
    .command('list')
    .description("list a tenant's API keys (never their secrets)")
    .requiredOption('--tenant <tenant-id>', 'the tenant')
    .action(async (options: { tenant: string }) => {
      const tenantId = checkedId('tenant', options.tenant);
      const keys = await withAccounts(io, ({ apiKeys }) => apiKeys.list(tenantId));
      const rows = [
        ['ID', 'PREFIX', 'SCOPES', 'LABEL', 'CREATED', 'LAST USED', 'REVOKED'],
        ...keys.map((key) => [
          key.id,
          key.prefix,
          key.scopes.join(','),
          key.label ?? '-',
          key.createdAt,
          key.lastUsedAt ?? 'never',
          key.revokedAt ?? '-',
        ]),
      ];
      out(keys.length ? column(rows) : 'The tenant has no API keys.', { apiKeys: keys });
    });
  apiKeys
    .command('revoke')
    .description('revoke an API key: it is refused from the next request on')
    .argument('<key-id>')
    .action(async (keyId: string) => {
      const id = checkedId('API key', keyId);
      const { apiKey, alreadyRevoked } = await withAccounts(io, ({ apiKeys }) => apiKeys.revoke(id));
      out(
        alreadyRevoked
          ? `API key ${apiKey.id} was already revoked, on ${apiKey.revokedAt}.`
          : `API key ${apiKey.id} revoked; it is refused from now on.`,
        { apiKey, alreadyRevoked },
      );
    });
  return cli;
}

/**
 * What went wrong, said by the error at the bottom of the chain (drizzle wraps the driver's error in
 * one that quotes the query and its parameters, which a terminal has no use for).
 */
function rootCause(error: unknown): string {
  let cause = error;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  const inner = cause instanceof AggregateError ? cause.errors.find((e) => e instanceof Error) : undefined;
  return (
    cause.message ||
    (inner instanceof Error && inner.message) ||
    (typeof code === 'string' ? code : 'unknown error')
  );
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function runGatewayCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = () => argv.includes('--json');
  const fail = (code: number, type: string, message: string, errors?: unknown) => {
    io.stderr(
      json()
        ? `${JSON.stringify({ error: { type, message, ...(errors ? { errors } : {}) } })}\n`
        : `${code === EXIT.usage ? 'Usage error' : 'Failed'}: ${message}${code === EXIT.usage ? '\n(see --help)' : ''}\n`,
    );
    return code;
  };
  try {
    await program(io, json).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok; // --help, --version
      return fail(EXIT.usage, 'usage', error.message.replace(/^error: /, ''));
    }
    if (error instanceof UsageError) return fail(EXIT.usage, 'usage', error.message);
    if (error instanceof ProblemError) {
      const usage = error.status === 400;
      const details = error.errors?.map((problem) => problem.message).join(' ');
      return fail(usage ? EXIT.usage : EXIT.failure, error.type, details || error.message, error.errors);
    }
    return fail(EXIT.failure, 'failure', rootCause(error));
  }
}
