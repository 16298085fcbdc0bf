import type { Command } from 'commander';
import { CSV_COLUMNS } from '../csv-events.ts';
import { EXIT } from '../errors.ts';
import { formatOf, type ImportSummary, importFile, invoiceLinesOfState } from '../import-file.ts';
import { positiveInt } from '../options.ts';
import { createProgress } from '../progress.ts';
import type { CliContext } from '../sts-cli.ts';
import {
  describeWait,
  type WaitOptions,
  type WaitReport,
  waitExit,
  waitForDocuments,
  waitOptions,
} from '../wait.ts';

/** `sts import <file>`: a file's events to POST /v1/invoices/batch, in idempotent chunks. */
export function registerImport(cli: Command, context: CliContext): void {
  const { io, json, out, apiOf, setExit } = context;
  const csvHelp = Object.entries(CSV_COLUMNS)
    .map(([name, what]) => `  ${name.padEnd(18)} ${what}`)
    .join('\n');
  waitOptions(
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
      .option('--wait', 'then wait until every document stored is final, and print what became of them'),
  )
    .addHelpText(
      'after',
      `
Each request carries Idempotency-Key sts-import:<sha-256 of the file>:<chunk size>:<chunk index>;
the state file records each answered chunk. Run the same command again after an interruption:
recorded chunks are skipped, and the gateway answers a chunk it has seen from its idempotency record,
so no event is stored twice. Rejections are listed by line of the file (and CSV column).

With --wait, the documents stored are then looked at 1,000 at a time until each is final (as
sts wait --file does): a progress bar on a terminal, then a summary of accepted, accepted with
warnings, rejected (by STS code, with the lines of the file) and not final after --timeout.

CSV: a header row, then one row per expense line; consecutive rows with the same operation,
vatNumber, issueDate, device and number are one document with several lines (leave the other
document columns empty on its further rows). Columns (any order, case-insensitive):
${csvHelp}

Exit codes: 0 all stored (or duplicates) and, with --wait, all accepted; 3 some rejected (by the
gateway or, with --wait, by the STS); 1 all rejected, failed, or with --wait not all final in time;
2 bad usage.`,
    )
    .action(
      async (
        file: string,
        options: WaitOptions & {
          format?: string;
          chunkSize: number;
          state?: string;
          delimiter?: string;
          wait?: boolean;
        },
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
        const statePath = summary.state;
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
        const stored = summary.accepted + summary.duplicates;
        const importExit = summary.rejected === 0 ? EXIT.ok : stored > 0 ? EXIT.partial : EXIT.failure;
        let wait: WaitReport | undefined;
        if (options.wait && stored > 0) {
          // What was imported is said before the wait starts (its progress bar follows it).
          if (!json(command)) io.stdout(`${lines.join('\n')}\n`);
          const byLine = invoiceLinesOfState(statePath);
          wait = await waitForDocuments(context, command, api, [...byLine.keys()], options, byLine);
          const waited = describeWait(wait, options).join('\n');
          out(command, `At the STS: ${waited}`, { ...summary, wait });
        } else out(command, lines.join('\n'), summary);
        const exits = [importExit, ...(wait ? [waitExit(wait)] : [])];
        setExit(
          exits.includes(EXIT.failure) ? EXIT.failure : exits.includes(EXIT.partial) ? EXIT.partial : EXIT.ok,
        );
      },
    );
}
