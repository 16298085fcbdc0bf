import { createPool, createRedis } from '@sts/shared';
import { Command } from 'commander';
import { createFailedJobs } from './operations/failed-jobs.ts';
import {
  createUncertainDocuments,
  type ReconcileReport,
  type UncertainEntry,
  type UncertainReport,
} from './operations/uncertain-documents.ts';

/**
 * Operations on the submitter's queues (a later issue folds them into `sts`):
 *
 *   node services/submitter/src/cli.ts jobs failed [--job file.send] [--json]
 *   node services/submitter/src/cli.ts jobs retry [--job file.send] [--id <job id>] [--json]
 *   node services/submitter/src/cli.ts documents uncertain [--credential <id>] [--json]
 *   node services/submitter/src/cli.ts documents reconcile [--credential <id>] [--document <id>…] [--json]
 *
 * Reads REDIS_URL (and DATABASE_URL for `documents`). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
const program = new Command('submitter')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });
const jobs = program.command('jobs').description("the submitter's failed jobs");
const documents = program
  .command('documents')
  .description('documents whose send had no answer (uncertain), and their reconciliation');

/** Bad arguments: exit code 2. */
class UsageError extends Error {}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOption = (name: string, value: string | undefined) => {
  if (value !== undefined && !UUID.test(value))
    throw new UsageError(`${name} must be a UUID, not "${value}"`);
  return value?.toLowerCase();
};

const withJobs = async <T>(work: (failed: ReturnType<typeof createFailedJobs>) => Promise<T>): Promise<T> => {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set');
  const redis = createRedis(url, 'submitter-cli');
  const failed = createFailedJobs(redis);
  try {
    return await work(failed);
  } finally {
    await failed.close();
    redis.disconnect();
  }
};

const withUncertain = async <T>(
  work: (uncertain: ReturnType<typeof createUncertainDocuments>) => Promise<T>,
): Promise<T> => {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set');
  if (!redisUrl) throw new Error('REDIS_URL is not set');
  const pool = createPool({ url: databaseUrl, applicationName: 'submitter-cli', max: 2 });
  const redis = createRedis(redisUrl, 'submitter-cli');
  const uncertain = createUncertainDocuments({ pool, redis });
  try {
    return await work(uncertain);
  } finally {
    await uncertain.close();
    redis.disconnect();
    await pool.end();
  }
};

/** 45s, 12m, 3h 5m, 2d 4h. */
const age = (seconds: number) => {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
};
const sendLine = (send: UncertainEntry) =>
  `${send.target === 'file' ? `file ${send.targetId} (${send.documents} documents)` : `document ${send.invoiceId} (single send ${send.targetId})`}` +
  ` credential ${send.credentialId} tenant ${send.tenantId}: uncertain for ${age(send.ageSeconds)}, send attempt ${send.sendAttempt}`;
const jobLine = (send: UncertainEntry) =>
  `reconcile job ${send.reconcile.state === 'none' ? 'none' : `${send.reconcile.jobId} ${send.reconcile.state}`}` +
  ` (${send.reconcile.attempts} attempts${send.reconcile.reason ? `: ${send.reconcile.reason}` : ''})`;

function printUncertain(report: UncertainReport) {
  if (report.sends.length === 0 && report.perCredential.length === 0) {
    process.stdout.write('No uncertain documents.\n');
    return;
  }
  for (const send of report.sends) process.stdout.write(`${sendLine(send)}; ${jobLine(send)}\n`);
  process.stdout.write('Per credential:\n');
  for (const row of report.perCredential)
    process.stdout.write(
      `  ${row.credentialId} (tenant ${row.tenantId}): ${row.documents} documents uncertain (${row.files} files, ${row.singleSends} single sends), oldest since ${row.oldestSince}\n`,
    );
}

function printReconcile(report: ReconcileReport) {
  if (report.requested.length === 0) process.stdout.write('Nothing uncertain to reconcile.\n');
  for (const send of report.requested)
    process.stdout.write(`${send.action}: ${sendLine(send)}; ${jobLine(send)}\n`);
  for (const skipped of report.skipped)
    process.stdout.write(`not reconciled: document ${skipped.invoiceId} is ${skipped.state}\n`);
}

documents
  .command('uncertain')
  .description(
    'list the sends whose answer was lost (files and single sends), with age, attempts, reconcile job; counts per credential',
  )
  .option('--credential <id>', 'only this credential')
  .option('--json', 'machine-readable output')
  .action(async (options: { credential?: string; json?: boolean }) => {
    const credentialId = uuidOption('--credential', options.credential);
    const report = await withUncertain((uncertain) => uncertain.list(credentialId ? { credentialId } : {}));
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printUncertain(report);
  });

documents
  .command('reconcile')
  .description(
    'ask for reconciliation now: enqueue the reconcile job of each uncertain send (one already queued is not doubled)',
  )
  .option('--credential <id>', 'only this credential')
  .option('--document <id...>', 'only the sends of these documents (invoice ids)')
  .option('--json', 'machine-readable output')
  .action(async (options: { credential?: string; document?: string[]; json?: boolean }) => {
    const credentialId = uuidOption('--credential', options.credential);
    const invoiceIds = options.document?.map((id) => uuidOption('--document', id)!);
    const report = await withUncertain((uncertain) =>
      uncertain.reconcile({
        ...(credentialId ? { credentialId } : {}),
        ...(invoiceIds ? { invoiceIds } : {}),
      }),
    );
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReconcile(report);
    // A document named that could not be reconciled: the operator's request was not done.
    if (report.skipped.length > 0) process.exitCode = 1;
  });

jobs
  .command('failed')
  .description('list jobs that used up their attempts, with the reason')
  .option('--job <type>', 'one job type (file.send, outcome.poll …)')
  .option('--json', 'machine-readable output')
  .action(async (options: { job?: string; json?: boolean }) => {
    const list = await withJobs((failed) => failed.list(options.job));
    if (options.json) process.stdout.write(`${JSON.stringify(list)}\n`);
    else if (list.length === 0) process.stdout.write('No failed jobs.\n');
    else
      for (const job of list)
        process.stdout.write(
          `${job.job} ${job.id} (${job.attempts} attempts, ${job.failedAt ?? '?'}): ${job.reason}\n`,
        );
  });

jobs
  .command('retry')
  .description('re-drive failed jobs from their first attempt')
  .option('--job <type>', 'only this job type')
  .option('--id <jobId>', 'only this job')
  .option('--json', 'machine-readable output')
  .action(async (options: { job?: string; id?: string; json?: boolean }) => {
    const count = await withJobs((failed) => failed.retry(options.job, options.id));
    process.stdout.write(
      options.json ? `${JSON.stringify({ retried: count })}\n` : `Retried ${count} job(s).\n`,
    );
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exitCode = 0;
  else if (code?.startsWith('commander.')) process.exitCode = 2;
  else {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode =
      error instanceof UsageError || (error as Error).message.startsWith('unknown job type') ? 2 : 1;
  }
}
