import { type Command, Option } from 'commander';
import { EXIT, UsageError } from '../errors.ts';
import { positiveInt } from '../options.ts';
import { readSecrets } from '../secrets.ts';
import type { CliContext } from '../sts-cli.ts';

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

/** `sts credentials add|test|list|status`. */
export function registerCredentials(cli: Command, context: CliContext): void {
  const { io, out, apiOf, setExit } = context;
  const credentials = cli.command('credentials').description("the tenant's STS credentials");

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
    .option(
      '--owner-tax-code <code>',
      "the owner's codice fiscale (default: --user; optional for a structure)",
    )
    .option(
      '--owner-office <region-asl-ssa>',
      "a structure's code as region-ASL-SSA (e.g. 120-101-888888): the credential is a structure's, not a professional's",
    )
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
        owner: ownerOf(options),
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
}

/** The owner (proprietario): a professional by codice fiscale, or a structure by its region-ASL-SSA code. */
function ownerOf(options: Record<string, any>) {
  if (!options.ownerOffice) return { taxCode: options.ownerTaxCode ?? options.user };
  const parts = String(options.ownerOffice).split('-');
  if (parts.length !== 3 || parts.some((part) => part === ''))
    throw new UsageError(
      '--owner-office must be region-ASL-SSA, three codes joined by "-" (e.g. 120-101-888888)',
    );
  const [regionCode, aslCode, ssaCode] = parts as [string, string, string];
  return { regionCode, aslCode, ssaCode, ...(options.ownerTaxCode ? { taxCode: options.ownerTaxCode } : {}) };
}
