import { Command, CommanderError, Option } from 'commander';
import { type Api, createApi } from './api.ts';
import { registerCredentials } from './commands/credentials.ts';
import { registerImport } from './commands/import.ts';
import { registerInvoices } from './commands/invoices.ts';
import { OPERATOR_COMMANDS, registerOperatorCommands, runOperatorCommand } from './commands/operator.ts';
import { registerReport } from './commands/report.ts';
import { registerStatus } from './commands/status.ts';
import { registerSubmissions } from './commands/submissions.ts';
import { resolveConnection } from './config.ts';
import { ApiError, EXIT, UsageError } from './errors.ts';

export { EXIT } from './errors.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Whether stderr is a terminal: progress bars and prompts only then. */
  stderrIsTTY: boolean;
}

interface GlobalOptions {
  json?: boolean;
  apiKey?: string;
  url?: string;
}

/** What every command group gets: the io, the global options read from a command, the exit code. */
export interface CliContext {
  io: CliIo;
  /** Whether --json was given. */
  json: (command: Command) => boolean;
  /** Prints `human`, or `machine` as one JSON line with --json, on stdout. */
  out: (command: Command, human: string, machine: unknown) => void;
  /** The gateway's API client from --url / --api-key, the environment or the config file. */
  apiOf: (command: Command) => Api;
  /** The exit code once the command has run (default 0). */
  setExit: (code: number) => void;
}

function program(io: CliIo, setExit: (code: number) => void): Command {
  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;
  const json = (command: Command) => Boolean(globals(command).json);
  const context: CliContext = {
    io,
    json,
    out: (command, human, machine) =>
      io.stdout(json(command) ? `${JSON.stringify(machine)}\n` : `${human}\n`),
    apiOf: (command) => {
      const options = globals(command);
      return createApi(resolveConnection({ url: options.url, apiKey: options.apiKey }, io.env));
    },
    setExit,
  };

  const cli = new Command('sts')
    .description(
      [
        "The STS gateway's command line: a client of its public HTTP API.",
        'API key: --api-key, else STS_API_KEY, else "apiKey" in the config file (STS_CONFIG, default ~/.config/sts/config.json).',
        'Gateway: --url, else STS_GATEWAY_URL, else "url" in the config file, else http://127.0.0.1:8080.',
        'Exit codes: 0 done, 1 failed, 2 bad usage, 3 partly done (some events or documents rejected).',
      ].join('\n'),
    )
    .addOption(new Option('--json', 'print JSON for machines (errors too, on stderr)'))
    .addOption(new Option('--api-key <key>', 'the API key (sts_…)'))
    .addOption(new Option('--url <url>', "the gateway's URL"))
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: () => {},
    });

  // One line per command group (packages/cli/src/commands/), in the order `sts --help` lists them.
  registerImport(cli, context);
  registerStatus(cli, context);
  registerInvoices(cli, context);
  registerSubmissions(cli, context);
  registerReport(cli, context);
  registerCredentials(cli, context);
  registerOperatorCommands(cli);
  return cli;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function runSts(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const fail = (code: number, type: string, message: string, extra?: Record<string, unknown>) => {
    io.stderr(
      json
        ? `${JSON.stringify({ error: { type, message, ...extra } })}\n`
        : `${code === EXIT.usage ? 'Usage error' : 'Failed'}: ${message}${code === EXIT.usage ? '\n(see --help)' : ''}\n`,
    );
    return code;
  };
  let exit: number = EXIT.ok;
  try {
    // The command is the first word that is not an option nor the value of --api-key / --url.
    let first = 0;
    while (first < argv.length && argv[first]!.startsWith('-'))
      first += argv[first] === '--api-key' || argv[first] === '--url' ? 2 : 1;
    const name = argv[first];
    const operator = name ? OPERATOR_COMMANDS[name] : undefined;
    if (operator) {
      // The options before the command are ours (--api-key, --url make no sense there); --json goes on.
      return await runOperatorCommand(
        operator.entry,
        [...argv.slice(first), ...(json && !argv.slice(first).includes('--json') ? ['--json'] : [])],
        io,
      );
    }
    await program(io, (code) => {
      exit = code;
    }).parseAsync([...argv], { from: 'user' });
    return exit;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.help')
        return EXIT.ok;
      return fail(EXIT.usage, 'usage', error.message.replace(/^error: /, ''));
    }
    if (error instanceof UsageError) return fail(EXIT.usage, 'usage', error.message);
    if (error instanceof ApiError) {
      return fail(error.status === 400 ? EXIT.usage : EXIT.failure, error.type, error.message, {
        status: error.status,
        ...(error.errors.length ? { errors: error.errors } : {}),
      });
    }
    return fail(EXIT.failure, 'failure', (error as Error).message ?? String(error));
  }
}
