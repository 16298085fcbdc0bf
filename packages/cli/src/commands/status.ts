import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { invoiceLinesOfState } from '../import-file.ts';
import { describeInvoice } from '../invoice-lines.ts';
import type { CliContext } from '../sts-cli.ts';
import { reportWait, type WaitOptions, waitOptions } from '../wait.ts';

const WAIT_HELP = `
Waiting looks at the documents 1,000 at a time (POST /v1/invoices/lookup) every --interval ms,
until each is final (accepted, accepted_with_warnings, rejected) or --timeout seconds pass. On a
terminal a progress bar shows final/total with the accepted, warnings and rejected so far. The
summary counts each outcome and groups the rejections by STS code, with their text and documents
(by line of the file with --file).`;

/** `sts status <id…> [--wait]` and `sts wait [--file <state>] [id…]`. */
export function registerStatus(cli: Command, context: CliContext): void {
  const { out, apiOf } = context;
  waitOptions(
    cli
      .command('status')
      .description('the status of invoice events, by id (the id POST /v1/invoices or sts import gave)')
      .argument('<invoice-id...>')
      .option('--wait', 'wait until each is final (accepted, accepted_with_warnings, rejected)'),
  )
    .addHelpText(
      'after',
      `${WAIT_HELP}\n\nExit codes: 0 found (with --wait: all final, none rejected), 3 some rejected, 1 not found or not final in time.`,
    )
    .action(async (ids: string[], options: WaitOptions & { wait?: boolean }, command: Command) => {
      const api = apiOf(command);
      if (options.wait) return reportWait(context, command, api, ids, options);
      const invoices = [];
      for (const id of ids)
        invoices.push(
          (await api.request('GET', `/v1/invoices/${encodeURIComponent(id)}`, { retries: 3 })).body,
        );
      out(command, invoices.map(describeInvoice).join('\n'), ids.length === 1 ? invoices[0] : { invoices });
    });

  waitOptions(
    cli
      .command('wait')
      .description('wait until the documents of an import (its state file) or the ids given are final')
      .option('--file <state>', 'the state file of an import (<file>.sts-import)')
      .argument('[invoice-id...]'),
  )
    .addHelpText(
      'after',
      `${WAIT_HELP}\n\nExit codes: 0 all final and none rejected, 3 some rejected, 1 not all final in time or not found.`,
    )
    .action(async (ids: string[], options: WaitOptions & { file?: string }, command: Command) => {
      const lines = options.file ? invoiceLinesOfState(options.file) : undefined;
      const all = [...ids, ...(lines?.keys() ?? [])];
      if (all.length === 0) throw new UsageError('give invoice ids or --file <import state>');
      await reportWait(context, command, apiOf(command), all, options, lines);
    });
}
