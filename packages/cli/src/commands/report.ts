import type { Command } from 'commander';
import { EXIT, UsageError } from '../errors.ts';
import type { CliContext } from '../sts-cli.ts';

/** What `GET /v1/invoices/summary` answers. */
interface GatewaySummary {
  total: number;
  byStatus: Record<string, number>;
  final: number;
  pending: number;
  rejections: { code: string; message: string | null; count: number }[];
  oldestPendingReceivedAt: string | null;
}

interface Deadline {
  kind: 'sending' | 'corrections';
  date: string;
  period: string;
  daysLeft: number;
}

const FINAL = ['accepted', 'accepted_with_warnings', 'rejected'];
const DAY_MS = 86_400_000;
/** Days from one civil date to another (`YYYY-MM-DD`), negative when it is past. */
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

/** The STS calendar of packages/sts, loaded only by the command that needs it (it is not small). */
async function calendar() {
  const [{ calendarDeadlines }, { romeDate }] = await Promise.all([
    import('@sts/sts'),
    import('@sts/shared'),
  ]);
  return { calendarDeadlines, today: romeDate(new Date()) };
}

/**
 * The tax year a deadline report is about by default: the previous year as long as its last
 * correction deadline (early February, from the STS calendar) has not passed, since its documents
 * can still be sent or corrected and that deadline comes first; otherwise the current year. When the
 * calendar does not know the previous year, the previous year in January, the current one after.
 */
export function defaultTaxYear(
  today: string,
  deadlinesOf: (year: number) => { known: boolean; deadlines: { kind: string; date: string }[] },
): number {
  const year = Number(today.slice(0, 4));
  const previous = deadlinesOf(year - 1);
  if (!previous.known) return today.slice(5, 7) === '01' ? year - 1 : year;
  const lastCorrection = previous.deadlines
    .filter((deadline) => deadline.kind === 'corrections')
    .map((deadline) => deadline.date)
    .sort()
    .at(-1);
  return lastCorrection !== undefined && today <= lastCorrection ? year - 1 : year;
}

/** `sts report deadline`. */
export function registerReport(cli: Command, context: CliContext): void {
  const { out, apiOf, setExit } = context;
  const report = cli.command('report').description('reports for the people who run the sending');
  report
    .command('deadline')
    .description(
      'a tax year against its STS deadline: what is pending, what was rejected (by STS code) and what was accepted, with the days left (GET /v1/invoices/summary)',
    )
    .option(
      '--tax-year <year>',
      'the tax year (default: the previous year until its last correction deadline, early February; then the current year)',
    )
    .option('--credential <id>', 'only the documents of this sender credential')
    .option('--vat-number <vat>', 'only the documents of this VAT number')
    .addHelpText(
      'after',
      `
The deadlines are those of the STS calendar in packages/sts (health expenses; veterinarians have
their own dates), counted in Italian civil days, the day itself included: until the sending deadline
documents are on time; after it, until the correction deadline, the STS takes them as late (W008);
after that it refuses them (S035).

Default tax year: the previous year while its last correction deadline has not passed (in early
February documents of last year can still be sent late or corrected, and that deadline is the nearest
one), otherwise the current year. When the calendar does not cover the previous year: the previous
year in January, the current year from February.

Exit codes: 0 every document accepted (with or without warnings) or none; 3 some pending or rejected;
1 failed; 2 bad usage.`,
    )
    .action(
      async (options: { taxYear?: string; credential?: string; vatNumber?: string }, command: Command) => {
        if (options.taxYear !== undefined && !/^\d{4}$/.test(options.taxYear))
          throw new UsageError('--tax-year is a year of four digits, e.g. 2025');
        const api = apiOf(command);
        const { calendarDeadlines, today } = await calendar();
        const taxYear = options.taxYear ? Number(options.taxYear) : defaultTaxYear(today, calendarDeadlines);
        const summary = (
          await api.request<GatewaySummary>('GET', '/v1/invoices/summary', {
            query: { taxYear, credentialId: options.credential, vatNumber: options.vatNumber },
            retries: 3,
          })
        ).body;
        const year = calendarDeadlines(taxYear);
        const deadlines: Deadline[] = year.deadlines
          .filter((deadline) => deadline.kind === 'sending' || deadline.kind === 'corrections')
          .map((deadline) => ({
            kind: deadline.kind as Deadline['kind'],
            date: deadline.date,
            period: deadline.period,
            daysLeft: daysBetween(today, deadline.date),
          }));
        const next = deadlines.find((deadline) => deadline.daysLeft >= 0) ?? null;
        const by = (status: string) => summary.byStatus[status] ?? 0;
        const counts = {
          accepted: by('accepted'),
          acceptedWithWarnings: by('accepted_with_warnings'),
          rejected: by('rejected'),
          pending: summary.pending,
        };

        const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;
        const lines = [`Tax year ${taxYear} (today ${today} in Italy)`];
        if (!year.known)
          lines.push(
            `  Deadlines: not in the STS calendar (version ${year.calendarVersion}) yet: no date is invented.`,
          );
        else if (!next)
          lines.push(
            `  Deadlines: closed since ${deadlines.at(-1)?.date}: the STS refuses documents of this year (S035).`,
          );
        else if (next.kind === 'sending')
          lines.push(
            `  Deadline: ${days(next.daysLeft)} left to send (until ${next.date} included, ${next.period}); late (W008) until the correction deadline after it.`,
          );
        else
          lines.push(
            `  Deadline: sending closed; ${days(next.daysLeft)} left to send late (W008) or correct (until ${next.date} included, ${next.period}).`,
          );
        for (const deadline of deadlines)
          lines.push(
            `    ${deadline.date}  ${deadline.kind.padEnd(11)} ${deadline.period}${deadline.daysLeft >= 0 ? `  (${days(deadline.daysLeft)} left)` : '  (passed)'}`,
          );
        lines.push(
          `  ${summary.total} documents: ${counts.accepted} accepted, ${counts.acceptedWithWarnings} accepted with warnings, ${counts.rejected} rejected, ${counts.pending} pending.`,
        );
        if (counts.pending) {
          const statuses = Object.entries(summary.byStatus)
            .filter(([status, n]) => n > 0 && !FINAL.includes(status))
            .map(([status, n]) => `${status} ${n}`)
            .join(', ');
          lines.push(
            `  Pending: ${statuses}${summary.oldestPendingReceivedAt ? `; the oldest received ${summary.oldestPendingReceivedAt}` : ''}.`,
          );
        }
        if (summary.rejections.length) {
          lines.push('  Rejected, by STS code:');
          for (const rejection of summary.rejections)
            lines.push(
              `    ${rejection.code} × ${rejection.count}${rejection.message ? `: ${rejection.message}` : ''}`,
            );
          lines.push(`  The rejected documents: sts invoices list --tax-year ${taxYear} --status rejected`);
        }
        out(command, lines.join('\n'), {
          taxYear,
          today,
          calendar: { known: year.known, version: year.calendarVersion },
          deadlines,
          nextDeadline: next,
          ...counts,
          summary,
        });
        setExit(counts.pending || counts.rejected ? EXIT.partial : EXIT.ok);
      },
    );
}
