import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Api } from '../api.ts';
import { ApiError, EXIT } from '../errors.ts';
import type { CliContext } from '../sts-cli.ts';

/** What `GET /v1/submissions/:protocol` answers. */
interface Submission {
  protocol: string;
  credentialId: string;
  state: string;
  sentAt: string | null;
  completedAt: string | null;
  documents: {
    total: number;
    accepted: number;
    acceptedWithWarnings: number;
    rejected: number;
    pending: number;
  };
  receiptUrl: string | null;
  errorsUrl: string | null;
}

const FILES = {
  receipt: { what: 'receipt', suffix: 'receipt.pdf', example: 'receipt.pdf' },
  errors: { what: 'error file', suffix: 'errors.csv', example: 'errors.csv' },
} as const;

const path = (protocol: string, file?: keyof typeof FILES) =>
  `/v1/submissions/${encodeURIComponent(protocol)}${file ? `/${file}` : ''}`;

/** A 404 said as what is missing; other errors as they are. */
async function orNotFound<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404)
      throw new ApiError(404, {
        type: error.type,
        title: 'Not found',
        detail: `${what}: no submission of this tenant has this protocol, or it has none`,
      });
    if (error instanceof ApiError && error.status === 409) {
      const body = error.body as { detail?: string } | undefined;
      throw new ApiError(409, {
        ...(typeof error.body === 'object' ? error.body : {}),
        title: 'Not ready',
        detail: `${what}: the STS has not produced it yet${body?.detail ? ` (${body.detail})` : ''}; try again later`,
      });
    }
    throw error;
  }
}

/** `sts submissions show|receipt|errors <protocol>`. */
export function registerSubmissions(cli: Command, context: CliContext): void {
  const { out, apiOf, setExit } = context;
  const submissions = cli
    .command('submissions')
    .description('submissions to the STS (a file or a single send), by the protocol the STS gave them');

  submissions
    .command('show')
    .description('a submission: its state, when it was sent and completed, what became of its documents')
    .argument('<protocol>', 'the STS protocol (sts status <invoice-id> shows the one of a document)')
    .addHelpText(
      'after',
      '\nExit codes: 0 every document accepted (with or without warnings); 3 some rejected or not final yet; 1 not found or failed.',
    )
    .action(async (protocol: string, _options: unknown, command: Command) => {
      const api = apiOf(command);
      const answer = await orNotFound(`Submission ${protocol}`, () =>
        api.request<Submission>('GET', path(protocol), { retries: 3 }),
      );
      const s = answer.body;
      const d = s.documents;
      const lines = [
        `Submission ${s.protocol}  ${s.state}  credential ${s.credentialId}`,
        `  sent ${s.sentAt ?? '—'}, completed ${s.completedAt ?? '—'}`,
        `  documents: ${d.total}: ${d.accepted} accepted, ${d.acceptedWithWarnings} accepted with warnings, ${d.rejected} rejected, ${d.pending} not final`,
        // A single-document send has neither (its routes answer 404): the STS's answer was its proof.
        ...(s.receiptUrl
          ? [`  receipt: sts submissions receipt ${s.protocol} -o ${FILES.receipt.example}`]
          : []),
        ...(s.errorsUrl
          ? [
              `  errors:  sts submissions errors ${s.protocol} -o ${FILES.errors.example} (when the STS reported any)`,
            ]
          : []),
      ];
      out(command, lines.join('\n'), s);
      setExit(d.rejected || d.pending ? EXIT.partial : EXIT.ok);
    });

  for (const file of ['receipt', 'errors'] as const) {
    const { what, suffix, example } = FILES[file];
    submissions
      .command(file)
      .description(
        file === 'receipt'
          ? 'download the STS receipt of a submission (PDF), as the STS gave it'
          : 'download the per-document errors the STS reported for a submission (CSV), as the STS gave them',
      )
      .argument('<protocol>', 'the STS protocol')
      .option('-o, --output <file>', `where to write it (default: <protocol>-${suffix}; - for stdout)`)
      .addHelpText(
        'after',
        `\nExample: sts submissions ${file} 26030211354512345 -o ${example}\nExit codes: 0 written; 1 not found, not produced by the STS yet, or failed.`,
      )
      .action(async (protocol: string, options: { output?: string }, command: Command) => {
        const api: Api = apiOf(command);
        const download = await orNotFound(`The ${what} of submission ${protocol}`, () =>
          api.download(path(protocol, file), { retries: 3 }),
        );
        const target = options.output ?? `${protocol}-${suffix}`;
        const contentType = download.headers.get('content-type') ?? undefined;
        if (target === '-') {
          process.stdout.write(download.bytes);
          return;
        }
        writeFileSync(target, download.bytes);
        out(command, `The ${what} of ${protocol}: ${target} (${download.bytes.length} bytes).`, {
          protocol,
          file: target,
          bytes: download.bytes.length,
          contentType,
        });
      });
  }
}
