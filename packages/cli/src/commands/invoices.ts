import type { Command } from 'commander';
import { describeInvoice } from '../invoice-lines.ts';
import { positiveInt } from '../options.ts';
import type { CliContext } from '../sts-cli.ts';

/** `sts invoices list`. */
export function registerInvoices(cli: Command, context: CliContext): void {
  const { out, apiOf } = context;
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
        out(command, items.length ? items.map(describeInvoice).join('\n') : 'No invoice events.', { items });
      },
    );
}
