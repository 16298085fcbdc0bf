import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type Api, createApi } from './api.ts';
import { resolveConnection } from './config.ts';
import { CSV_COLUMNS } from './csv-events.ts';
import { ApiError, EXIT, UsageError } from './errors.ts';
import { formatOf, type ImportSummary, importFile, invoiceIdsOfState } from './import-file.ts';
import { createProgress } from './progress.ts';
import { readSecrets } from './secrets.ts';

export { EXIT } from './errors.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Whether stderr is a terminal: progress bars and prompts only then. */
  stderrIsTTY: boolean;
}

const FINAL = ['accepted', 'accepted_with_warnings', 'rejected'];
/**
 * Operator commands, run by a service's own CLI as a child process (a package imports no service):
 * they work on that service's database or queues, not through the public API.
 */
const OPERATOR_COMMANDS: Record<string, { entry: string; description: string }> = {
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
};
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));

interface GlobalOptions {
  json?: boolean;
  apiKey?: string;
  url?: string;
}

const positiveInt = (name: string, max: number) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max)
    throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
  return number;
};

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function program(io: CliIo, setExit: (code: number) => void): Command {
  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;
  const json = (command: Command) => Boolean(globals(command).json);
  const out = (command: Command, human: string, machine: unknown) =>
    io.stdout(json(command) ? `${JSON.stringify(machine)}\n` : `${human}\n`);
  const apiOf = (command: Command): Api => {
    const options = globals(command);
    return createApi(resolveConnection({ url: options.url, apiKey: options.apiKey }, io.env));
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

  // ---- import -------------------------------------------------------------------------------
  const csvHelp = Object.entries(CSV_COLUMNS)
    .map(([name, what]) => `  ${name.padEnd(18)} ${what}`)
    .join('\n');
  cli
    .command('import')
    .description(
      'send the invoice events of an NDJSON or CSV file; resumable: run the same command again after an interruption',
    )
    .argument('<file>', 'file.ndjson / file.jsonl (one event a line, as POST /v1/invoices) or file.csv')
    .option('--format <format>', 'csv or ndjson (default: from the file name)')
    .option('--chunk-size <events>', 'events per request', positiveInt('--chunk-size', 10_000), 1000)
    .option('--state <file>', 'the state file of this import (default: <file>.sts-import)')
    .option('--delimiter <char>', 'the CSV delimiter (default: the one of the header row: , ; or tab)')
    .addHelpText(
      'after',
      `
Each request carries Idempotency-Key sts-import:<sha-256 of the file>:<chunk size>:<chunk index>;
the state file records each answered chunk. Run the same command again after an interruption:
recorded chunks are skipped, and the gateway answers a chunk it has seen from its idempotency record,
so no event is stored twice. Rejections are listed by line of the file (and CSV column).

CSV: a header row, then one row per expense line; consecutive rows with the same operation,
vatNumber, issueDate, device and number are one document with several lines (leave the other
document columns empty on its further rows). Columns (any order, case-insensitive):
${csvHelp}

Exit codes: 0 all stored (or duplicates), 3 some rejected, 1 all rejected or failed, 2 bad usage.`,
    )
    .action(
      async (
        file: string,
        options: { format?: string; chunkSize: number; state?: string; delimiter?: string },
        command: Command,
      ) => {
        formatOf(file, options.format);
        const api = apiOf(command);
        const progress = createProgress(io.stderrIsTTY && !json(command));
        let summary: ImportSummary;
        try {
          summary = await importFile(api, {
            file,
            format: options.format as 'csv' | 'ndjson' | undefined,
            chunkSize: options.chunkSize,
            statePath: options.state ?? `${file}.sts-import`,
            delimiter: options.delimiter,
            onStart: (total, resumed) => progress.start(total, resumed),
            onChunk: (done) => progress.update(done),
          });
        } finally {
          progress.stop();
        }
        const lines = [
          `${summary.file}: ${summary.events} events: ${summary.accepted} accepted, ${summary.duplicates} duplicates, ${summary.rejected} rejected.`,
          `Chunks: ${summary.chunks.total} (${summary.chunks.sent} sent now, ${summary.chunks.resumed} answered earlier). State: ${summary.state} (sts wait --file ${summary.state}).`,
        ];
        if (summary.rejections.length) {
          lines.push('Rejected:');
          for (const r of summary.rejections)
            lines.push(
              `  line ${r.line}${r.column ? `, column ${r.column}` : ''}${r.field ? ` (${r.field})` : ''}: ${r.message} [${r.rule}]${r.hint ? ` — ${r.hint}` : ''}`,
            );
        }
        out(command, lines.join('\n'), summary);
        const stored = summary.accepted + summary.duplicates;
        setExit(summary.rejected === 0 ? EXIT.ok : stored > 0 ? EXIT.partial : EXIT.failure);
      },
    );

  // ---- status / wait / invoices ---------------------------------------------------------------
  const describe = (invoice: any) => {
    const doc = invoice.document ?? {};
    const messages = (invoice.messages ?? [])
      .map((m: any) =>
        `\n    ${m.code ?? ''} ${m.text ?? m.message ?? ''}${m.explanation?.en ? ` — ${m.explanation.en}` : ''}`.trimEnd(),
      )
      .join('');
    return `${invoice.id}  ${invoice.status}${invoice.statusCause ? ` (${invoice.statusCause})` : ''}  ${invoice.operation} ${doc.vatNumber ?? ''} ${doc.issueDate ?? ''} ${doc.device ?? ''} ${doc.number ?? ''}${invoice.protocol ? `  protocol ${invoice.protocol}` : ''}${messages}`;
  };

  async function waitFinal(
    api: Api,
    ids: string[],
    timeoutSeconds: number,
    intervalMs: number,
    onProgress?: (done: number) => void,
  ) {
    const final = new Map<string, any>();
    const deadline = Date.now() + timeoutSeconds * 1000;
    let pending = [...new Set(ids)];
    for (;;) {
      const next: string[] = [];
      for (let start = 0; start < pending.length; start += 16) {
        const slice = pending.slice(start, start + 16);
        const answers = await Promise.all(
          slice.map((id) => api.request('GET', `/v1/invoices/${encodeURIComponent(id)}`, { retries: 3 })),
        );
        answers.forEach((answer, index) => {
          if (FINAL.includes(answer.body.status)) final.set(slice[index]!, answer.body);
          else next.push(slice[index]!);
        });
      }
      pending = next;
      onProgress?.(final.size);
      if (pending.length === 0 || Date.now() >= deadline) return { final, pending };
      await sleep(intervalMs);
    }
  }

  async function reportWait(
    command: Command,
    api: Api,
    ids: string[],
    options: { timeout: number; interval: number },
  ) {
    const progress = createProgress(io.stderrIsTTY && !json(command));
    progress.start(new Set(ids).size, 0);
    let result: Awaited<ReturnType<typeof waitFinal>>;
    try {
      result = await waitFinal(api, ids, options.timeout, options.interval, (done) => progress.update(done));
    } finally {
      progress.stop();
    }
    const invoices = [...result.final.values()];
    const count = (status: string) => invoices.filter((invoice) => invoice.status === status).length;
    const counts = {
      accepted: count('accepted'),
      acceptedWithWarnings: count('accepted_with_warnings'),
      rejected: count('rejected'),
      pending: result.pending.length,
    };
    const lines = [
      `${counts.accepted} accepted, ${counts.acceptedWithWarnings} accepted with warnings, ${counts.rejected} rejected, ${counts.pending} not final${counts.pending ? ` after ${options.timeout} s` : ''}.`,
    ];
    const shown = invoices.filter((invoice) => invoice.status !== 'accepted');
    if (ids.length <= 20 || shown.length)
      for (const invoice of ids.length <= 20 ? invoices : shown) lines.push(`  ${describe(invoice)}`);
    if (result.pending.length)
      lines.push(
        `Not final: ${result.pending.slice(0, 20).join(' ')}${result.pending.length > 20 ? ' …' : ''}`,
      );
    out(command, lines.join('\n'), { ...counts, invoices, pending: result.pending });
    setExit(counts.pending ? EXIT.failure : counts.rejected ? EXIT.partial : EXIT.ok);
  }

  const waitOptions = (command: Command) =>
    command
      .option(
        '--timeout <seconds>',
        'give up after this long (exit 1)',
        positiveInt('--timeout', 86_400),
        600,
      )
      .option('--interval <ms>', 'between two looks', positiveInt('--interval', 60_000), 1000);

  waitOptions(
    cli
      .command('status')
      .description('the status of invoice events, by id (the id POST /v1/invoices or sts import gave)')
      .argument('<invoice-id...>')
      .option('--wait', 'wait until each is final (accepted, accepted_with_warnings, rejected)'),
  )
    .addHelpText(
      'after',
      '\nExit codes: 0 found (with --wait: all final, none rejected), 3 some rejected, 1 not found or not final in time.',
    )
    .action(
      async (
        ids: string[],
        options: { wait?: boolean; timeout: number; interval: number },
        command: Command,
      ) => {
        const api = apiOf(command);
        if (options.wait) return reportWait(command, api, ids, options);
        const invoices = [];
        for (const id of ids)
          invoices.push(
            (await api.request('GET', `/v1/invoices/${encodeURIComponent(id)}`, { retries: 3 })).body,
          );
        out(command, invoices.map(describe).join('\n'), ids.length === 1 ? invoices[0] : { invoices });
      },
    );

  waitOptions(
    cli
      .command('wait')
      .description('wait until the documents of an import (its state file) or the ids given are final')
      .option('--file <state>', 'the state file of an import (<file>.sts-import)')
      .argument('[invoice-id...]'),
  )
    .addHelpText(
      'after',
      '\nExit codes: 0 all final and none rejected, 3 some rejected, 1 not all final in time.',
    )
    .action(
      async (
        ids: string[],
        options: { file?: string; timeout: number; interval: number },
        command: Command,
      ) => {
        const all = [...ids, ...(options.file ? invoiceIdsOfState(options.file) : [])];
        if (all.length === 0) throw new UsageError('give invoice ids or --file <import state>');
        await reportWait(command, apiOf(command), all, options);
      },
    );

  const invoices = cli.command('invoices').description('invoice events');
  invoices
    .command('list')
    .description('list invoice events, newest first (GET /v1/invoices)')
    .option(
      '--status <status>',
      'one status or a comma list (received, queued, …, accepted, accepted_with_warnings, rejected)',
    )
    .option('--operation <operation>', 'insert, update, refund or cancel')
    .option('--credential <id>', 'one sender credential')
    .option('--tax-year <year>', 'one tax year')
    .option('--limit <n>', 'at most this many', positiveInt('--limit', 100_000), 50)
    .action(
      async (
        options: {
          status?: string;
          operation?: string;
          credential?: string;
          taxYear?: string;
          limit: number;
        },
        command: Command,
      ) => {
        const api = apiOf(command);
        const items: any[] = [];
        let cursor: string | undefined;
        do {
          const page = await api.request('GET', '/v1/invoices', {
            query: {
              status: options.status,
              operation: options.operation,
              credentialId: options.credential,
              taxYear: options.taxYear,
              limit: Math.min(500, options.limit - items.length),
              cursor,
            },
            retries: 3,
          });
          items.push(...page.body.items);
          cursor = page.body.next ?? undefined;
        } while (cursor && items.length < options.limit);
        out(command, items.length ? items.map(describe).join('\n') : 'No invoice events.', { items });
      },
    );

  // ---- credentials -------------------------------------------------------------------------------
  const credentials = cli.command('credentials').description("the tenant's STS credentials");
  const credentialLine = (c: any) =>
    `${c.id}  ${c.status}${c.statusReason ? ` (${c.statusReason})` : ''}  ${c.environment} ${c.kind} ${c.user ?? ''}  "${c.label ?? ''}"  VAT ${(c.vatNumbers ?? []).join(',')}  ${c.sendingMode ?? ''}`;
  const testLines = (test: any) =>
    [
      `Test: ${test.outcome} → ${test.status}${test.usable ? ' (usable)' : ' (not usable)'}`,
      ...(test.remedy?.en ? [`Remedy: ${test.remedy.en}`] : []),
      ...(test.remedy?.it ? [`Rimedio: ${test.remedy.it}`] : []),
      ...(test.tests?.pausedUntil || test.tests?.pausedReason
        ? [
            `Tests paused${test.tests.pausedUntil ? ` until ${test.tests.pausedUntil}` : ' until the credential changes'} (${test.tests.pausedReason})`,
          ]
        : []),
    ].join('\n');

  credentials
    .command('add')
    .description(
      'add an STS credential (kind basic); the password and pincode are read without echo from the terminal, or as two lines on stdin',
    )
    .requiredOption('--label <label>', 'what it is (e.g. "Dr Rossi")')
    .requiredOption('--user <user>', "the STS user: the doctor's codice fiscale or a structure's user code")
    .requiredOption('--vat-number <vat...>', 'the VAT number(s) it sends for')
    .addOption(
      new Option('--environment <env>', 'test (the simulator or the STS test system) or production')
        .choices(['test', 'production'])
        .default('production'),
    )
    .option('--owner-tax-code <code>', "the owner's codice fiscale (default: --user)")
    .addOption(
      new Option('--sending-mode <mode>', 'how its documents go').choices(['auto', 'realtime', 'batch']),
    )
    .option('--max-in-flight <n>', 'calls to the STS at once', positiveInt('--max-in-flight', 100))
    .option(
      '--requests-per-minute <n>',
      'calls to the STS a minute',
      positiveInt('--requests-per-minute', 100_000),
    )
    .option('--password-changed-at <date>', 'YYYY-MM-DD, for expiry warnings')
    .option(
      '--password-validity-days <days>',
      'how long the STS password lasts',
      positiveInt('--password-validity-days', 3650),
    )
    .option('--no-test', 'do not test it against the STS (one harmless call) once saved')
    .addHelpText(
      'after',
      '\nNever give the password or pincode on the command line. On a terminal they are asked for without echo;\notherwise stdin gives them as two lines: the password, then the pincode.\nExit codes: 0 saved (and valid when tested), 1 refused or the test failed, 2 bad usage.',
    )
    .action(async (options: Record<string, any>, command: Command) => {
      const api = apiOf(command);
      const secrets = await readSecrets(io);
      const body = {
        label: options.label,
        environment: options.environment,
        kind: 'basic',
        user: options.user,
        password: secrets.password,
        pincode: secrets.pincode,
        owner: { taxCode: options.ownerTaxCode ?? options.user },
        vatNumbers: (options.vatNumber as string[]).flatMap((v) => v.split(',')).filter(Boolean),
        ...(options.sendingMode ? { sendingMode: options.sendingMode } : {}),
        ...(options.maxInFlight || options.requestsPerMinute
          ? {
              pacing: {
                ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
                ...(options.requestsPerMinute ? { requestsPerMinute: options.requestsPerMinute } : {}),
              },
            }
          : {}),
        ...(options.passwordChangedAt ? { passwordChangedAt: options.passwordChangedAt } : {}),
        ...(options.passwordValidityDays ? { passwordValidityDays: options.passwordValidityDays } : {}),
      };
      const answer = await api.request('POST', '/v1/credentials', {
        body,
        query: { test: options.test ? 'true' : undefined },
      });
      const { credential, test, testRefused, warnings } = answer.body;
      const lines = [`Credential ${credential.id} saved.`, credentialLine(credential)];
      for (const warning of warnings ?? [])
        lines.push(`Warning: ${warning.message ?? JSON.stringify(warning)}`);
      if (test) lines.push(testLines(test));
      if (testRefused)
        lines.push(`Not tested: ${testRefused.detail ?? testRefused.title ?? testRefused.type}`);
      out(command, lines.join('\n'), answer.body);
      if (test && !test.usable) setExit(EXIT.failure);
    });

  credentials
    .command('test')
    .description('test a credential against the STS (one harmless call) and print the remedy when it fails')
    .argument('<credential-id>')
    .addHelpText(
      'after',
      '\nExit codes: 0 valid, 1 not usable (the remedy says what to do) or the test could not run.',
    )
    .action(async (id: string, _options: unknown, command: Command) => {
      const answer = await apiOf(command).request('POST', `/v1/credentials/${encodeURIComponent(id)}/test`);
      out(command, testLines(answer.body), answer.body);
      if (!answer.body.usable) setExit(EXIT.failure);
    });

  credentials
    .command('list')
    .description("list the tenant's credentials (never a secret)")
    .option('--status <status>', 'only this status (untested, valid, password_expiring, invalid, expired)')
    .action(async (options: { status?: string }, command: Command) => {
      const api = apiOf(command);
      const items: any[] = [];
      let after: string | undefined;
      do {
        const page = await api.request('GET', '/v1/credentials', {
          query: { status: options.status, after, limit: 100 },
        });
        items.push(...page.body.items);
        after = page.body.next ?? undefined;
      } while (after);
      out(command, items.length ? items.map(credentialLine).join('\n') : 'No credentials.', { items });
    });

  credentials
    .command('status')
    .description("a credential's status, tests and login budget")
    .argument('<credential-id>')
    .action(async (id: string, _options: unknown, command: Command) => {
      const answer = await apiOf(command).request('GET', `/v1/credentials/${encodeURIComponent(id)}`);
      const c = answer.body.credential;
      const budget = c.loginBudget;
      const lines = [
        credentialLine(c),
        ...(c.tests?.pausedReason
          ? [
              `Tests paused${c.tests.pausedUntil ? ` until ${c.tests.pausedUntil}` : ' until the credential changes'} (${c.tests.pausedReason})`,
            ]
          : []),
        ...(budget
          ? [
              `Login budget: ${budget.attemptsUsed}/${budget.budget} failed logins used${budget.spent ? ' (spent)' : ''}`,
            ]
          : []),
        ...(budget?.stopped?.remedy?.en ? [`Remedy: ${budget.stopped.remedy.en}`] : []),
      ];
      out(command, lines.join('\n'), answer.body);
    });

  // ---- operator commands (a service's own CLI) ------------------------------------------------
  for (const [name, { description }] of Object.entries(OPERATOR_COMMANDS))
    cli.command(name).description(description);
  return cli;
}

/** Runs a service's CLI (`node services/<name>/src/cli.ts …`) with the same arguments; its output and exit code. */
async function runOperatorCommand(entry: string, argv: readonly string[], io: CliIo): Promise<number> {
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
