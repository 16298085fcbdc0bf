import type { Command } from 'commander';
import type { Api } from './api.ts';
import { EXIT } from './errors.ts';
import { describeInvoice } from './invoice-lines.ts';
import { positiveInt, sleep } from './options.ts';
import { createProgress, WAIT_FORMAT } from './progress.ts';
import type { CliContext } from './sts-cli.ts';

const FINAL = new Set(['accepted', 'accepted_with_warnings', 'rejected']);
/** Ids per `POST /v1/invoices/lookup` (the gateway's limit). */
export const LOOKUP_CHUNK = 1000;
/** Reasons of rejection shown, and documents named under each. */
const REASONS_SHOWN = 20;
const EXAMPLES_SHOWN = 10;

export interface WaitOptions {
  timeout: number;
  interval: number;
}

/** Adds --timeout and --interval to a command that waits. */
export const waitOptions = (command: Command) =>
  command
    .option('--timeout <seconds>', 'give up after this long (exit 1)', positiveInt('--timeout', 86_400), 600)
    .option('--interval <ms>', 'between two looks', positiveInt('--interval', 60_000), 1000);

/** An item of `POST /v1/invoices/lookup`. */
interface LookupItem {
  id: string;
  status: string;
  statusCause?: string | null;
  messages?: { code: string; kind: string; text: string }[];
  [field: string]: unknown;
}

export interface WaitCounts {
  accepted: number;
  acceptedWithWarnings: number;
  rejected: number;
}

/** One reason of rejection: an STS code, its (most frequent) text, the documents it rejected. */
export interface RejectionReason {
  code: string;
  message: string | null;
  count: number;
  /** The first documents it rejected: the invoice id and, after an import, the line of the file. */
  documents: { id: string; line?: number }[];
}

export interface WaitReport extends WaitCounts {
  /** Documents waited for (distinct ids). */
  total: number;
  /** Ids still not final when the time ran out. */
  pending: string[];
  /** Ids the gateway has no invoice event of (for this tenant). */
  missing: string[];
  rejections: RejectionReason[];
  /** The final documents, as the look-up answered them. */
  invoices: LookupItem[];
}

const countsOf = (final: Map<string, LookupItem>): WaitCounts => {
  const counts = { accepted: 0, acceptedWithWarnings: 0, rejected: 0 };
  for (const item of final.values()) {
    if (item.status === 'accepted') counts.accepted++;
    else if (item.status === 'accepted_with_warnings') counts.acceptedWithWarnings++;
    else counts.rejected++;
  }
  return counts;
};

/**
 * Looks at the documents `LOOKUP_CHUNK` at a time (`POST /v1/invoices/lookup`) every `interval` ms
 * until each is final, unknown to the gateway, or the time is up; only those not final yet are asked
 * for again.
 */
async function waitFinal(
  api: Api,
  ids: string[],
  options: WaitOptions,
  onProgress: (final: Map<string, LookupItem>) => void,
) {
  const final = new Map<string, LookupItem>();
  const missing: string[] = [];
  const deadline = Date.now() + options.timeout * 1000;
  let pending = [...new Set(ids.map((id) => id.toLowerCase()))];
  for (;;) {
    const next: string[] = [];
    for (let start = 0; start < pending.length; start += LOOKUP_CHUNK) {
      const chunk = pending.slice(start, start + LOOKUP_CHUNK);
      const answer = await api.request<{ items: LookupItem[]; missing: string[] }>(
        'POST',
        '/v1/invoices/lookup',
        {
          body: { ids: chunk },
          retries: 3,
        },
      );
      const found = new Set<string>();
      for (const item of answer.body.items) {
        found.add(item.id);
        if (FINAL.has(item.status)) final.set(item.id, item);
        else next.push(item.id);
      }
      for (const id of answer.body.missing) if (!found.has(id)) missing.push(id);
      onProgress(final);
    }
    pending = next;
    if (pending.length === 0 || Date.now() >= deadline) return { final, pending, missing };
    await sleep(options.interval);
  }
}

/** The reasons of the rejected documents by STS error code (one count per document), most frequent first. */
function rejectionReasons(
  items: Iterable<LookupItem>,
  lines?: ReadonlyMap<string, number>,
): RejectionReason[] {
  type Reason = { texts: Map<string, number>; documents: { id: string; line?: number }[] };
  const reasons = new Map<string, Reason>();
  for (const item of items) {
    if (item.status !== 'rejected') continue;
    const errors = (item.messages ?? []).filter((message) => message.kind === 'error');
    const codes = new Map<string, string | undefined>();
    for (const error of errors) if (!codes.has(error.code)) codes.set(error.code, error.text);
    if (codes.size === 0) codes.set(item.statusCause ?? 'rejected', undefined);
    for (const [code, text] of codes) {
      const reason: Reason = reasons.get(code) ?? { texts: new Map(), documents: [] };
      reasons.set(code, reason);
      if (text !== undefined) reason.texts.set(text, (reason.texts.get(text) ?? 0) + 1);
      const line = lines?.get(item.id);
      reason.documents.push({ id: item.id, ...(line !== undefined ? { line } : {}) });
    }
  }
  return [...reasons.entries()]
    .map(([code, reason]) => ({
      code,
      message: [...reason.texts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
      count: reason.documents.length,
      documents: reason.documents.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** Waits until every id is final (or the timeout), with a progress bar on a terminal; the outcome. */
export async function waitForDocuments(
  context: CliContext,
  command: Command,
  api: Api,
  ids: string[],
  options: WaitOptions,
  lines?: ReadonlyMap<string, number>,
): Promise<WaitReport> {
  const total = new Set(ids.map((id) => id.toLowerCase())).size;
  const progress = createProgress(context.io.stderrIsTTY && !context.json(command), WAIT_FORMAT);
  const payload = (counts: WaitCounts) => ({
    accepted: counts.accepted,
    warnings: counts.acceptedWithWarnings,
    rejected: counts.rejected,
  });
  progress.start(total, 0, payload({ accepted: 0, acceptedWithWarnings: 0, rejected: 0 }));
  let result: Awaited<ReturnType<typeof waitFinal>>;
  try {
    result = await waitFinal(api, ids, options, (final) =>
      progress.update(final.size, payload(countsOf(final))),
    );
  } finally {
    progress.stop();
  }
  const invoices = [...result.final.values()];
  return {
    total,
    ...countsOf(result.final),
    pending: result.pending,
    missing: result.missing,
    rejections: rejectionReasons(invoices, lines),
    invoices,
  };
}

/** The report as text: the counts, the reasons of rejection by code, what is not final or not found. */
export function describeWait(report: WaitReport, options: WaitOptions): string[] {
  const text = [
    `${report.total} documents: ${report.accepted} accepted, ${report.acceptedWithWarnings} accepted with warnings, ${report.rejected} rejected, ${report.pending.length} not final${report.pending.length ? ` after ${options.timeout} s` : ''}${report.missing.length ? `, ${report.missing.length} not found` : ''}.`,
  ];
  if (report.total <= 20) for (const invoice of report.invoices) text.push(`  ${describeInvoice(invoice)}`);
  if (report.rejections.length) {
    text.push('Rejected, by STS code:');
    for (const reason of report.rejections.slice(0, REASONS_SHOWN)) {
      text.push(`  ${reason.code} × ${reason.count}${reason.message ? `: ${reason.message}` : ''}`);
      const shown = reason.documents.slice(0, EXAMPLES_SHOWN);
      const more = reason.documents.length > shown.length ? ' …' : '';
      if (shown.every((document) => document.line !== undefined))
        text.push(`      lines ${shown.map((document) => document.line).join(', ')}${more}`);
      else text.push(`      ${shown.map((document) => document.id).join(' ')}${more}`);
    }
    if (report.rejections.length > REASONS_SHOWN)
      text.push(`  … and ${report.rejections.length - REASONS_SHOWN} more codes (--json lists them all)`);
  }
  if (report.pending.length)
    text.push(`Not final: ${report.pending.slice(0, 20).join(' ')}${report.pending.length > 20 ? ' …' : ''}`);
  if (report.missing.length)
    text.push(`Not found: ${report.missing.slice(0, 20).join(' ')}${report.missing.length > 20 ? ' …' : ''}`);
  return text;
}

/** 1 when something is not final or not found, 3 when some were rejected, else 0. */
export const waitExit = (report: WaitReport): number =>
  report.pending.length || report.missing.length ? EXIT.failure : report.rejected ? EXIT.partial : EXIT.ok;

/** Waits, prints the outcome and sets the exit code (`sts wait`, `sts status --wait`). */
export async function reportWait(
  context: CliContext,
  command: Command,
  api: Api,
  ids: string[],
  options: WaitOptions,
  lines?: ReadonlyMap<string, number>,
) {
  const report = await waitForDocuments(context, command, api, ids, options, lines);
  context.out(command, describeWait(report, options).join('\n'), report);
  context.setExit(waitExit(report));
}
