import { createRedis } from '@sts/shared';
import { Command } from 'commander';
import { createFailedJobs } from './operations/failed-jobs.ts';

/**
 * Operations on the submitter's queues (a later issue folds them into `sts`):
 *
 *   node services/submitter/src/cli.ts jobs failed [--job file.send] [--json]
 *   node services/submitter/src/cli.ts jobs retry [--job file.send] [--id <job id>] [--json]
 *
 * Reads REDIS_URL. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
const program = new Command('submitter')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });
const jobs = program.command('jobs').description("the submitter's failed jobs");

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
    process.exitCode = (error as Error).message.startsWith('unknown job type') ? 2 : 1;
  }
}
