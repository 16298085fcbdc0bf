import type { Command } from 'commander';
import { CSV_COLUMNS } from '../csv-events.ts';
import { EXIT } from '../errors.ts';
import { formatOf, type ImportSummary, importFile } from '../import-file.ts';
import { positiveInt } from '../options.ts';
import { createProgress } from '../progress.ts';
import type { CliContext } from '../sts-cli.ts';

/** `sts import <file>`: a file's events to POST /v1/invoices/batch, in idempotent chunks. */
export function registerImport(cli: Command, context: CliContext): void {
  const { io, json, out, apiOf, setExit } = context;
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
}
