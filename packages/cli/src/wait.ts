import type { Command } from 'commander';
import type { Api } from './api.ts';
import { EXIT } from './errors.ts';
import { describeInvoice } from './invoice-lines.ts';
import { positiveInt, sleep } from './options.ts';
import { createProgress } from './progress.ts';
import type { CliContext } from './sts-cli.ts';

const FINAL = ['accepted', 'accepted_with_warnings', 'rejected'];

export interface WaitOptions {
  timeout: number;
  interval: number;
}

/** Adds --timeout and --interval to a command that waits. */
export const waitOptions = (command: Command) =>
  command
    .option('--timeout <seconds>', 'give up after this long (exit 1)', positiveInt('--timeout', 86_400), 600)
    .option('--interval <ms>', 'between two looks', positiveInt('--interval', 60_000), 1000);

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

/** Waits until every id is final (or the timeout), prints the outcome and sets the exit code. */
export async function reportWait(
  context: CliContext,
  command: Command,
  api: Api,
  ids: string[],
  options: WaitOptions,
) {
  const { io, json, out, setExit } = context;
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
    for (const invoice of ids.length <= 20 ? invoices : shown) lines.push(`  ${describeInvoice(invoice)}`);
  if (result.pending.length)
    lines.push(
      `Not final: ${result.pending.slice(0, 20).join(' ')}${result.pending.length > 20 ? ' …' : ''}`,
    );
  out(command, lines.join('\n'), { ...counts, invoices, pending: result.pending });
  setExit(counts.pending ? EXIT.failure : counts.rejected ? EXIT.partial : EXIT.ok);
}
