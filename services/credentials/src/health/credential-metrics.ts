import { sql } from 'drizzle-orm';
import { credentialsTable } from '../credentials/credentials-table.ts';
import type { Queryable } from '../db/database.ts';

/**
 * Counters of what the vault does, served as Prometheus text on `GET /metrics` together with gauges
 * read from the database at scrape time (credentials per status, passwords and certificates close
 * to expiry). Labels hold outcomes and statuses only, never users or tenants' data.
 */
export interface CredentialMetrics {
  increment(name: CounterName, labels?: Record<string, string>): void;
  render(db: Queryable, now: Date): Promise<string>;
}

const COUNTERS = {
  credentials_tests_total: 'Credential tests run against the STS, by outcome.',
  credentials_leases_total: 'Leases asked for, by result (issued, refused).',
  credentials_authentication_failures_total:
    'Authentication failures reported by senders, by whether they applied.',
  credentials_expiry_warnings_total:
    'Expiry warnings raised, by what expires (password, certificate) and threshold in days.',
  credentials_events_publish_failures_total: 'Credential events that could not be published to Redis.',
  credentials_secret_integrity_failures_total: 'Secrets that did not decrypt (tampering, moved rows).',
  credentials_master_key_missing_total:
    'Secrets not read because their master key is not configured on this replica (a key made active before every replica had it).',
} as const;
export type CounterName = keyof typeof COUNTERS;

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) => {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};

export function createCredentialMetrics(): CredentialMetrics {
  const values = new Map<CounterName, Map<string, number>>();
  return {
    increment(name, labels = {}) {
      const series = values.get(name) ?? new Map<string, number>();
      const key = labelText(labels);
      series.set(key, (series.get(key) ?? 0) + 1);
      values.set(name, series);
    },
    async render(db, now) {
      const lines: string[] = [];
      for (const [name, help] of Object.entries(COUNTERS) as [CounterName, string][]) {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
        for (const [labels, value] of values.get(name) ?? []) lines.push(`${name}${labels} ${value}`);
      }
      const byStatus = await db
        .select({
          status: credentialsTable.status,
          environment: credentialsTable.environment,
          count: sql<number>`count(*)::int`,
        })
        .from(credentialsTable)
        .groupBy(credentialsTable.status, credentialsTable.environment);
      lines.push(
        '# HELP credentials_by_status Credentials per status and environment.',
        '# TYPE credentials_by_status gauge',
      );
      for (const row of byStatus) {
        lines.push(
          `credentials_by_status${labelText({ environment: row.environment, status: row.status })} ${row.count}`,
        );
      }
      const [soonest] = await db
        .select({
          days: sql<
            number | null
          >`floor(extract(epoch from min(${credentialsTable.passwordExpiresAt}) - ${now.toISOString()}::timestamptz) / 86400)::int`,
        })
        .from(credentialsTable)
        .where(sql`${credentialsTable.status} not in ('invalid', 'expired')`);
      lines.push(
        '# HELP credentials_password_min_days_left Days until the soonest expected password expiry among usable credentials.',
        '# TYPE credentials_password_min_days_left gauge',
      );
      if (soonest?.days !== null && soonest?.days !== undefined)
        lines.push(`credentials_password_min_days_left ${soonest.days}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
