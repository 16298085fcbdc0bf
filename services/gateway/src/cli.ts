import { runGatewayCli } from './cli/gateway-cli.ts';

/**
 * The gateway's tenants and API keys from the command line (a later issue folds it into `sts`):
 *
 *   node services/gateway/src/cli.ts tenants create --name "Clinica San Luca" [--scopes ...] [--json]
 *   node services/gateway/src/cli.ts api-keys create --tenant <id> --scopes invoices:write [--label ...]
 *   node services/gateway/src/cli.ts api-keys list --tenant <id>
 *   node services/gateway/src/cli.ts api-keys revoke <key-id>
 *   node services/gateway/src/cli.ts tenants disable <tenant-id>
 *
 * Reads DATABASE_URL, runs the gateway's migrations first. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
process.exitCode = await runGatewayCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
