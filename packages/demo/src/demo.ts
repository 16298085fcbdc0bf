import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { romeDate } from '@sts/shared';
import { stsKitDir } from '@sts/sts';
import { loadKitUsers } from '@sts/sts-simulator';
import { sampleInvoices } from './sample-invoices.ts';

/**
 * The first-run demo (`./run start`): everything a new user would do by hand, done through the
 * `sts` CLI against the running stack, and the gateway's own figures at the end.
 *
 * 1. A demo clinic (tenant) and its API key, created once with the operator command
 *    `sts tenants create` and kept in `<stateDir>/config.json`, the CLI's config file format.
 * 2. Two credentials from the official kit's test users (a batch one, a realtime one), added with
 *    `sts credentials add` (password and pincode on stdin) and tested against the simulator.
 * 3. A sample file of `documents` documents plus corrections and cancellations, written once.
 * 4. `sts import --wait`: sent in idempotent chunks (a second run finds them sent), then followed
 *    with a progress bar until every event is final.
 * 5. The summary the gateway gives (`GET /v1/invoices/summary`), and where to look next.
 */

export interface DemoOptions {
  /** Documents in the sample file (inserts; corrections and cancellations come on top). */
  documents: number;
  /** Where the demo keeps its config file, sample file and import state. */
  stateDir: string;
  gatewayUrl: string;
  /** The environment of the CLI's operator commands (`DATABASE_URL` for `sts tenants create`). */
  env: Record<string, string | undefined>;
  /** How long to wait for every event to be final, in seconds. */
  waitTimeoutSeconds: number;
  /** Lines for the person watching. */
  say: (text: string) => void;
  /** Whether the CLI may draw progress bars (its stderr is our terminal). */
  interactive: boolean;
  /** Other URLs to print at the end. */
  links?: { credentials?: string; submitter?: string; simulator?: string };
  /** Today in Rome (default: the clock's). */
  today?: string;
}

export interface DemoSummary {
  tenantId: string;
  reused: { tenant: boolean; credential: boolean; file: boolean };
  events: number;
  gateway: GatewaySummary;
}

export interface GatewaySummary {
  total: number;
  final: number;
  pending: number;
  byStatus: Record<string, number>;
  rejections: { code: string | null; message: string | null; count: number }[];
}

/**
 * The kit's test user the demo sends with: the parafarmacia AWG7L09T. The kit's professionals carry
 * partite IVA whose check digit is wrong, which the gateway refuses as the STS's rules say; of the
 * kit's subjects that send their own documents it is the one with a valid partita IVA
 * (docs/decisions.md, "The demo's credential").
 */
const DEMO_CREDENTIAL = {
  user: 'AWG7L09T',
  sendingMode: 'batch',
  label: 'Demo parafarmacia (kit user AWG7L09T)',
} as const;

const CLI_MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));

export class DemoError extends Error {}

interface CliRun {
  code: number;
  stdout: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { say } = options;
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const configFile = join(options.stateDir, 'config.json');
  const cliEnv = {
    ...options.env,
    STS_CONFIG: configFile,
    STS_GATEWAY_URL: options.gatewayUrl,
  } as Record<string, string>;
  delete cliEnv.STS_API_KEY;

  const cli = (args: string[], run: { stdin?: string; show?: boolean } = {}) =>
    new Promise<CliRun>((resolve, reject) => {
      const child: ChildProcess = spawn(process.execPath, [CLI_MAIN, ...args], {
        env: cliEnv,
        // Shown on a terminal: the CLI draws its progress on our stderr (our stdout is the summary's).
        stdio: run.show && options.interactive ? ['pipe', 2, 2] : ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk;
        if (run.show) say(chunk.toString().trimEnd());
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk;
        if (run.show) say(chunk.toString().trimEnd());
      });
      child.stdin!.end(run.stdin ?? '');
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0 && code !== 3 && !run.show)
          reject(new DemoError(`sts ${args.slice(0, 2).join(' ')} failed (exit ${code}): ${stderr.trim()}`));
        else resolve({ code: code ?? 1, stdout });
      });
    });

  // 1. The demo clinic.
  const tenant = await demoTenant(configFile, options, cli);
  say(
    tenant.reused
      ? `Demo clinic ${tenant.id}: reused (its API key is in ${configFile}).`
      : `Demo clinic ${tenant.id} created; its API key is in ${configFile} (mode 0600).`,
  );

  // 2. Its credentials, from the kit's test users.
  const kit = new Map(loadKitUsers(stsKitDir()).users.map((user) => [user.username, user]));
  const existing = JSON.parse((await cli(['credentials', 'list', '--json'])).stdout).items as {
    id: string;
    label: string;
    status: string;
    vatNumbers: string[];
  }[];
  const user = kit.get(DEMO_CREDENTIAL.user);
  const office = user?.owner && 'office' in user.owner ? user.owner.office : undefined;
  const vatNumber = user?.owner?.vatNumber;
  if (!user?.password || !user.pincode || !vatNumber || !office)
    throw new DemoError(`the kit has no usable test user ${DEMO_CREDENTIAL.user} (packages/sts/kit)`);
  const found = existing.find((credential) => credential.label === DEMO_CREDENTIAL.label);
  if (found) {
    say(
      found.status === 'valid'
        ? `Credential "${found.label}": reused, valid.`
        : `Credential "${found.label}" is ${found.status}: see \`bin/sts credentials status ${found.id}\`.`,
    );
  } else {
    const added = await cli(
      [
        'credentials',
        'add',
        '--json',
        '--label',
        DEMO_CREDENTIAL.label,
        '--environment',
        'test',
        '--user',
        DEMO_CREDENTIAL.user,
        '--owner-office',
        office,
        ...(user.owner?.taxCode ? ['--owner-tax-code', user.owner.taxCode] : []),
        '--vat-number',
        vatNumber,
        '--sending-mode',
        DEMO_CREDENTIAL.sendingMode,
      ],
      { stdin: `${user.password}\n${user.pincode}\n` },
    );
    const answer = JSON.parse(added.stdout);
    if (answer.test?.outcome !== 'valid')
      throw new DemoError(`the kit user ${DEMO_CREDENTIAL.user} was refused: ${JSON.stringify(answer.test)}`);
    say(
      `Credential "${DEMO_CREDENTIAL.label}" added (${DEMO_CREDENTIAL.sendingMode}) and tested against the simulator: valid.`,
    );
  }

  // 3. The sample file, written once for a size.
  const today = options.today ?? romeDate(new Date());
  const file = join(options.stateDir, `invoices-${today.slice(0, 4)}-${options.documents}.ndjson`);
  const reusedFile = existsSync(file);
  let events: number;
  if (reusedFile) {
    events = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } else {
    const sample = sampleInvoices({ documents: options.documents, today, vatNumber });
    writeFileSync(file, `${sample.lines.join('\n')}\n`);
    events = sample.lines.length;
    const c = sample.counts;
    say(
      `Sample file ${file}: ${c.inserts} documents (${c.closedYear} paid in a closed tax year, which the STS refuses), ` +
        `${c.updates} corrections, ${c.cancels} cancellations.`,
    );
  }

  // 4. Through the CLI, with its progress, until every event is final.
  say(`Importing ${events} events with \`sts import --wait\`…`);
  const imported = await cli(['import', file, '--wait', '--timeout', String(options.waitTimeoutSeconds)], {
    show: true,
  });
  if (imported.code !== 0 && imported.code !== 3)
    throw new DemoError(`sts import stopped with exit code ${imported.code} (see above)`);

  // 5. What the gateway reports.
  const gateway = await gatewaySummary(options.gatewayUrl, tenant.apiKey);
  return {
    tenantId: tenant.id,
    reused: { tenant: tenant.reused, credential: Boolean(found), file: reusedFile },
    events,
    gateway,
  };
}

async function demoTenant(
  configFile: string,
  options: DemoOptions,
  cli: (args: string[]) => Promise<CliRun>,
): Promise<{ id: string; apiKey: string; reused: boolean }> {
  if (existsSync(configFile)) {
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { apiKey?: string; tenantId?: string };
    const whoami = await fetch(`${options.gatewayUrl}/v1/whoami`, {
      headers: { authorization: `Bearer ${config.apiKey}` },
    });
    if (whoami.ok && config.apiKey)
      return {
        id: ((await whoami.json()) as { tenant: { id: string } }).tenant.id,
        apiKey: config.apiKey,
        reused: true,
      };
    options.say(
      `The demo key in ${configFile} is refused (HTTP ${whoami.status}): creating a new demo clinic.`,
    );
  }
  if (!options.env.DATABASE_URL) throw new DemoError('DATABASE_URL is needed to create the demo clinic');
  const created = JSON.parse(
    (await cli(['tenants', 'create', '--name', 'Demo clinic', '--json'])).stdout,
  ) as { tenant: { id: string }; apiKey: { key: string } };
  // Written beside it with mode 0600, then renamed over it: the key is never readable by others,
  // even for a moment when a refused key's file is replaced.
  const written = `${configFile}.${process.pid}.tmp`;
  writeFileSync(
    written,
    `${JSON.stringify({ url: options.gatewayUrl, apiKey: created.apiKey.key, tenantId: created.tenant.id }, null, 2)}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  renameSync(written, configFile);
  return { id: created.tenant.id, apiKey: created.apiKey.key, reused: false };
}

export async function gatewaySummary(gatewayUrl: string, apiKey: string): Promise<GatewaySummary> {
  const response = await fetch(`${gatewayUrl}/v1/invoices/summary`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (!response.ok) throw new DemoError(`GET /v1/invoices/summary answered ${response.status}`);
  return (await response.json()) as GatewaySummary;
}

const number = (n: number) => n.toLocaleString('en-GB');

/** The closing words: the gateway's figures, then where to look. */
export function describeSummary(
  summary: DemoSummary,
  options: Pick<DemoOptions, 'gatewayUrl' | 'stateDir' | 'links'>,
): string {
  const g = summary.gateway;
  const by = (status: string) => g.byStatus[status] ?? 0;
  const lines = [
    '',
    `The gateway reports, for the demo clinic's ${number(g.total)} invoice events:`,
    `  accepted by the STS                 ${number(by('accepted'))}`,
    `  accepted with warnings              ${number(by('accepted_with_warnings'))}`,
    `  rejected                            ${number(by('rejected'))}`,
    ...g.rejections.map((r) => `      ${number(r.count)} × ${r.code ?? '?'} ${r.message ?? ''}`.trimEnd()),
    `  not final yet                       ${number(g.pending)}`,
    ...(g.pending
      ? Object.entries(g.byStatus)
          .filter(
            ([status, n]) => n > 0 && !['accepted', 'accepted_with_warnings', 'rejected'].includes(status),
          )
          .map(([status, n]) => `      ${number(n)} ${status}`)
      : []),
    '',
    'Where to look next:',
    `  API documentation     ${options.gatewayUrl}/docs`,
    `  health and metrics    ${options.gatewayUrl}/health  ${options.gatewayUrl}/metrics` +
      (options.links?.submitter
        ? `  ${options.links.submitter}/health  ${options.links.submitter}/metrics`
        : ''),
    `  the CLI, as the demo  STS_CONFIG=${join(options.stateDir, 'config.json')} bin/sts --help`,
    '  receipts              bin/sts invoices list --status accepted   (each shows its protocol), then',
    '                        bin/sts submissions show <protocol>; bin/sts submissions receipt <protocol> -o receipt.pdf',
    `  deadline report       bin/sts report deadline`,
  ];
  return lines.join('\n');
}
